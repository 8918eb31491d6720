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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// TenantReconciler turns a Tenant into its namespace and everything in it.
type TenantReconciler struct {
	client.Client
	Options Options
}

// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants/finalizers,verbs=update

// Reconcile brings one Tenant's world to its desired state.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)

	tenant := &tenancyv1alpha1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, tenant); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}

	desired := computeStatus(tenant)
	if statusEqual(tenant.Status, desired) {
		return ctrl.Result{}, nil
	}
	patch := client.MergeFrom(tenant.DeepCopy())
	tenant.Status = desired
	if err := r.Status().Patch(ctx, tenant, patch); err != nil {
		return ctrl.Result{}, err
	}
	log.V(1).Info("Updated tenant status", "phase", desired.Phase)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler with the manager.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&tenancyv1alpha1.Tenant{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Options.MaxConcurrentReconciles}).
		Named("tenant").
		Complete(r)
}
