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
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// The steps of a retention, as tenant_operator_retention_actions_total counts them.
const (
	retentionRetained = "retained"
	retentionErased   = "erased"
	retentionReleased = "released"
)

// retentionRetry is how long an erasure that could not reach the tenant's database server waits before the next try.
const retentionRetry = time.Minute

// RetentionReconciler carries out the retention of the namespaces deleted Tenants retained (render.Retention on
// the namespace: the Tenant that set it is gone). Once a namespace's period is over it erases it, then the tenant's
// database, or lifts the hold that kept anyone from deleting it.
type RetentionReconciler struct {
	client.Client
	APIReader         client.Reader
	Recorder          eventRecorder
	Clock             func() time.Time
	Databases         *database.Provisioner
	OperatorNamespace string
}

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;patch;delete

// Reconcile looks at one retained namespace: due or not, and if due, what to do.
func (r *RetentionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, req.NamespacedName, ns); err != nil {
		if apierrors.IsNotFound(err) {
			forgetRetention(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !isManagedBy(ns, ns.Labels[render.LabelTenant]) {
		forgetRetention(ns.Name)
		return ctrl.Result{}, nil
	}
	if !ns.DeletionTimestamp.IsZero() {
		return r.eraseDatabase(ctx, ns.Name)
	}
	// A hold stays on a namespace a new Tenant took back; an erasure does not (the data is in use again).
	due := render.Hold(ns)
	if retained := render.RetentionOf(ns); due == nil && retained != nil && retained.AfterPeriod == tenancyv1alpha1.RetentionErase {
		due = retained
	}
	if due == nil {
		forgetRetention(ns.Name) // released, or taken back
		return ctrl.Result{}, nil
	}
	retentionEnd.WithLabelValues(ns.Name, string(due.AfterPeriod)).Set(float64(due.Until.Unix()))
	if now := r.Clock(); now.Before(due.Until) {
		return ctrl.Result{RequeueAfter: due.Until.Sub(now)}, nil
	}
	if due.AfterPeriod == tenancyv1alpha1.RetentionErase {
		return ctrl.Result{}, r.erase(ctx, ns.Name)
	}
	return ctrl.Result{}, r.release(ctx, ns.Name)
}

// erase deletes a namespace whose period is over, as the apiserver has it now: a new Tenant that took it back
// meanwhile keeps it (the delete's precondition fails, and the next look finds no retention). Once it is being
// deleted nobody can take it back, and its database is erased (eraseDatabase) before the finalizer lets it go.
func (r *RetentionReconciler) erase(ctx context.Context, name string) error {
	ns := &corev1.Namespace{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return client.IgnoreNotFound(err)
	}
	retention := render.RetentionOf(ns)
	if retention == nil || retention.AfterPeriod != tenancyv1alpha1.RetentionErase || !ns.DeletionTimestamp.IsZero() || r.Clock().Before(retention.Until) {
		return nil // taken back, or retained again, since the cache showed it
	}
	rv := ns.ResourceVersion
	if err := r.Delete(ctx, ns, client.Preconditions{UID: &ns.UID, ResourceVersion: &rv}); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.event(ns, corev1.EventTypeNormal, "RetentionErased", fmt.Sprintf("Retention period of namespace %s over (retained %s, until %s): namespace deleted",
		ns.Name, retention.RetainedAt.Format(time.RFC3339), retention.Until.Format(time.RFC3339)))
	retentionActions.WithLabelValues(retentionErased).Inc()
	return nil
}

// eraseDatabase erases the database of a retained namespace being deleted (its period over, or deleted by an admin
// before), then lets the namespace go. A role recorded as another namespace's tenant's (one made before owners were
// recorded, since taken by a Tenant of the same name) is not this namespace's to erase, and is left as it is.
func (r *RetentionReconciler) eraseDatabase(ctx context.Context, name string) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	retention := render.RetentionOf(ns)
	if !controllerutil.ContainsFinalizer(ns, render.FinalizerEraseDatabase) || retention == nil {
		forgetRetention(ns.Name)
		return ctrl.Result{}, nil
	}
	if db := retention.Database; db != nil {
		if retry, err := r.removeDatabase(ctx, ns, db); err != nil || retry > 0 {
			// Still due: TenantRetentionOverdue fires if it stays so.
			retentionEnd.WithLabelValues(ns.Name, string(retention.AfterPeriod)).Set(float64(retention.Until.Unix()))
			return ctrl.Result{RequeueAfter: retry}, err
		}
	}
	patch := client.MergeFromWithOptions(ns.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(ns, render.FinalizerEraseDatabase)
	if err := r.Patch(ctx, ns, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	forgetRetention(ns.Name)
	return ctrl.Result{}, nil
}

// removeDatabase erases db, or says why it is left as it is; retry is set while its server cannot be reached.
func (r *RetentionReconciler) removeDatabase(ctx context.Context, ns *corev1.Namespace, db *render.RetainedDatabase) (retry time.Duration, err error) {
	lookup, err := findDatabaseServer(ctx, r.APIReader, r.OperatorNamespace, db.Server)
	switch {
	case err != nil:
		return 0, err
	case lookup.problem != nil && !lookup.registered:
		// Nothing to reach: the admin removed the server, and with it what the operator could erase there.
		r.event(ns, corev1.EventTypeWarning, lookup.problem.Reason, lookup.problem.Message+": the tenant's database on it is left as it is")
		return 0, nil
	case lookup.problem != nil:
		r.event(ns, corev1.EventTypeWarning, "ErasureWaiting", lookup.problem.Message+"; the erasure waits")
		return retentionRetry, nil
	}
	ctx, cancel := context.WithTimeout(ctx, databaseTimeout)
	defer cancel()
	err = r.Databases.Remove(ctx, *lookup.server, database.Want{Role: db.Role, Model: db.Model, Owner: ns.Name, OwnerUID: string(ns.UID)})
	if errors.Is(err, database.ErrRoleTaken) {
		r.event(ns, corev1.EventTypeWarning, "DatabaseKept", fmt.Sprintf("The database of role %s on server %s is left as it is: the role is recorded as another namespace's tenant's",
			db.Role, db.Server))
		return 0, nil
	}
	if err != nil {
		r.event(ns, corev1.EventTypeWarning, "ErasureWaiting", fmt.Sprintf("Erasing the database of role %s on server %s: %v; the erasure waits", db.Role, db.Server, err))
		return retentionRetry, nil
	}
	r.event(ns, corev1.EventTypeNormal, "DatabaseErased", fmt.Sprintf("The database of role %s on server %s is erased", db.Role, db.Server))
	return 0, nil
}

// release lifts the hold of a namespace kept at least its period: it stays, retained (until the admin deletes it) or
// a new Tenant's.
func (r *RetentionReconciler) release(ctx context.Context, name string) error {
	// As the apiserver has it now, and only as read: a look at a namespace the cache still shows held releases
	// nothing twice.
	ns := &corev1.Namespace{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return client.IgnoreNotFound(err)
	}
	retention := render.Hold(ns)
	if retention == nil || r.Clock().Before(retention.Until) {
		return nil
	}
	patch := client.MergeFromWithOptions(ns.DeepCopy(), client.MergeFromWithOptimisticLock{})
	delete(ns.Labels, render.LabelRetentionHold)
	if err := r.Patch(ctx, ns, patch); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.event(ns, corev1.EventTypeNormal, "RetentionReleased", fmt.Sprintf("Retention period of namespace %s over (retained %s, until %s): it is kept, and may now be deleted",
		ns.Name, retention.RetainedAt.Format(time.RFC3339), retention.Until.Format(time.RFC3339)))
	retentionActions.WithLabelValues(retentionReleased).Inc()
	forgetRetention(ns.Name)
	return nil
}

// forgetRetention drops the retention end series of a namespace whose retention is done.
func forgetRetention(namespace string) {
	retentionEnd.DeletePartialMatch(map[string]string{metricRetainedNamespace: namespace})
}

func (r *RetentionReconciler) event(ns *corev1.Namespace, eventType, reason, message string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(ns, nil, eventType, reason, "Retention", "%s", message)
	}
}

// retentionNote says, in the Event of a retention, how long the namespace is kept and what then.
func retentionNote(r *render.Retention) string {
	if r == nil {
		return "; kept until an admin deletes it"
	}
	if r.AfterPeriod == tenancyv1alpha1.RetentionErase {
		what := "namespace"
		if r.Database != nil {
			what = "namespace and database"
		}
		return fmt.Sprintf("; kept until %s, then %s erased", r.Until.Format(time.RFC3339), what)
	}
	return fmt.Sprintf("; held until %s (no one may delete it before), then kept until an admin deletes it", r.Until.Format(time.RFC3339))
}

// SetupWithManager watches the namespaces that have, or had, a retention.
func (r *RetentionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	hasRetention := func(o client.Object) bool {
		_, ok := o.GetAnnotations()[render.AnnotationRetention]
		return ok
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Namespace{}, builder.WithPredicates(predicate.Funcs{
			CreateFunc:  func(e event.CreateEvent) bool { return hasRetention(e.Object) },
			UpdateFunc:  func(e event.UpdateEvent) bool { return hasRetention(e.ObjectOld) || hasRetention(e.ObjectNew) },
			DeleteFunc:  func(e event.DeleteEvent) bool { return hasRetention(e.Object) },
			GenericFunc: func(e event.GenericEvent) bool { return hasRetention(e.Object) },
		})).
		Named("retention").
		Complete(r)
}
