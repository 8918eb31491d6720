/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"context"
	"fmt"
	"io"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// Finalizer holds a Tenant until its deletion policy has been carried out.
const Finalizer = "tenancy.tenant-operator.dev/finalizer"

// TenantReconciler turns a Tenant into its namespace and everything in it.
type TenantReconciler struct {
	client.Client
	// APIReader reads what the label-filtered cache cannot see: objects the operator did not create.
	APIReader client.Reader
	Recorder  eventRecorder
	Config    render.Config
	CA        *pki.CAProvider
	// Clock and Rand are injected so that rotation and expiry can be tested.
	Clock func() time.Time
	Rand  io.Reader
	// ClassRollout paces class roll-outs: a tenant moves to a new generation of its class when it gets a token.
	ClassRollout *rate.Limiter
	// Shared reads the originals of shared objects: the operator namespace's Secrets and ConfigMaps marked shareable.
	Shared cache.Cache
	// Databases provisions tenants' databases on the registered servers.
	Databases *database.Provisioner

	MaxConcurrentReconciles int
	// AuditInterval is how often each tenant's access is audited (auditAccess); 0 never.
	AuditInterval time.Duration

	memos memos
}

// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenantclasses,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenantclasses/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenantclasses/finalizers,verbs=update
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=tenant-operator-tenant-admin;tenant-operator-tenant-developer;tenant-operator-tenant-viewer
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Tenant's world to its desired state.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tenant := &tenancyv1alpha1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, tenant); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s := r.newScope(tenant)
	if !tenant.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	if !controllerutil.ContainsFinalizer(tenant, Finalizer) {
		patch := client.MergeFrom(tenant.DeepCopy())
		controllerutil.AddFinalizer(tenant, Finalizer)
		if err := r.Patch(ctx, tenant, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	return r.reconcileNormal(ctx, s)
}

// reconcileNormal runs the phases of a pass in order, each filling its part of the scope. A phase that returns an
// error ends the pass without a status write (the error brings a retry); a namespace the tenant cannot claim ends it
// too, and its status says why. report then writes the status and decides when to come back.
func (r *TenantReconciler) reconcileNormal(ctx context.Context, s *tenantScope) (ctrl.Result, error) {
	phases := []func(context.Context, *tenantScope) error{
		r.resolveClass,      // the generation of its TenantClass the tenant gets now
		r.claim,             // the namespace, created atomically, or why the tenant cannot have it
		r.observe,           // its generated secrets, the tenants that allow it in, the CA
		r.render,            // the desired objects (render.DesiredState)
		r.provisionDatabase, // the tenant's database, with the password its Secret is about to hold
		r.apply,             // every desired object that is not already as desired
		r.prune,             // what is no longer desired, and the grants of former owners
		r.stopPods,          // the pods of a suspended tenant, once its quota lets none start
		r.account,           // Events, metrics and logs of what apply and prune changed
		r.observeOutcome,    // the back-end and the quota as they are now
		r.auditAccess,       // who can do what, when the tenant's audit is due
	}
	for _, phase := range phases {
		if err := phase(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
		if s.problem() != nil {
			break
		}
	}
	return r.report(ctx, s)
}

// reconcileDelete carries out the deletion policy, then lets the Tenant go.
func (r *TenantReconciler) reconcileDelete(ctx context.Context, s *tenantScope) (ctrl.Result, error) {
	t := s.tenant
	if !controllerutil.ContainsFinalizer(t, Finalizer) {
		r.forget(t.Name) // carried out already, or never started: nothing of it is the operator's any more
		return ctrl.Result{}, nil
	}
	if err := r.writeStatus(ctx, s, status.Terminating(t)); err != nil {
		return ctrl.Result{}, err
	}
	// A namespace another Tenant of this name retained, and this one never adopted, is not this one's to release:
	// neither it nor its database is touched, whatever this Tenant's deletion policy says.
	if foreign, err := r.retainedByAnother(ctx, t); err != nil || foreign {
		if err != nil {
			return ctrl.Result{}, err
		}
		r.event(t, corev1.EventTypeNormal, tenancyv1alpha1.ReasonNamespaceRetained, "Delete", fmt.Sprintf("Namespace %s was retained from a "+
			"deleted Tenant of the same name and never adopted: it and its database are left as they are", render.TenantNamespace(t)))
		return ctrl.Result{}, r.finishDelete(ctx, t)
	}
	// A namespace this tenant took back under a retention hold is retained, whatever its deletion policy: its data
	// must be kept until the hold ends.
	hold, err := r.activeHold(ctx, t)
	if err != nil {
		return ctrl.Result{}, err
	}
	erase := t.Spec.DeletionPolicy == tenancyv1alpha1.DeletionPolicyDelete && hold == nil
	// The database first: while its server cannot be reached, the namespace (and the Secret with the credentials)
	// stays, so that nothing is let go half-way.
	done, retry, err := r.releaseDatabase(ctx, s, erase)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !done {
		return ctrl.Result{RequeueAfter: retry}, nil
	}
	if erase {
		done, err = r.deleteNamespace(ctx, t)
	} else {
		done, err = r.retainNamespace(ctx, t, hold)
	}
	if err != nil || !done {
		// Namespace deletion is watched; the periodic check is a safety net.
		return ctrl.Result{RequeueAfter: 5 * time.Second}, err
	}
	return ctrl.Result{}, r.finishDelete(ctx, t)
}

// finishDelete removes what the tenant's people could do with the Tenant itself, and lets it go.
func (r *TenantReconciler) finishDelete(ctx context.Context, t *tenancyv1alpha1.Tenant) error {
	if err := r.deleteOwnerAccess(ctx, t); err != nil {
		return err
	}
	r.forget(t.Name)
	patch := client.MergeFrom(t.DeepCopy())
	controllerutil.RemoveFinalizer(t, Finalizer)
	return r.Patch(ctx, t, patch)
}

// forget drops everything the process holds of a deleted tenant: its memo and its metric series.
func (r *TenantReconciler) forget(tenant string) {
	r.memos.forget(tenant)
	forgetMetrics(tenant)
}
