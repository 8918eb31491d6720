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
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// deleteNamespace deletes the tenant's namespace (only if it is the tenant's) and reports whether it is gone.
func (r *TenantReconciler) deleteNamespace(ctx context.Context, t *tenancyv1alpha1.Tenant) (bool, error) {
	ns := &corev1.Namespace{}
	err := r.Get(ctx, client.ObjectKey{Name: render.TenantNamespace(t)}, ns)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !isManagedBy(ns, t.Name) {
		return true, nil // never ours: nothing to delete
	}
	if ns.DeletionTimestamp.IsZero() {
		if err := r.Delete(ctx, ns); client.IgnoreNotFound(err) != nil {
			return false, err
		}
		r.event(t, corev1.EventTypeNormal, "NamespaceDeleted", "Delete", "Deleting namespace "+ns.Name+" (deletionPolicy Delete)")
	}
	return false, nil
}

// retainedByAnother: the tenant's namespace is retained, and not by this Tenant's deletion (another Tenant of its name
// retained it, and this one was refused it, never having adopted it; a namespace retained before the operator
// recorded by whom counts as another's, so nothing is lost).
func (r *TenantReconciler) retainedByAnother(ctx context.Context, t *tenancyv1alpha1.Tenant) (bool, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: render.TenantNamespace(t)}, ns); err != nil || !isManagedBy(ns, t.Name) {
		return false, client.IgnoreNotFound(err)
	}
	return ns.Annotations[render.AnnotationRetained] == markedTrue && ns.Annotations[render.AnnotationRetainedBy] != string(t.UID), nil
}

// activeHold is the retention hold on the tenant's namespace that has not ended yet (a namespace the tenant took
// back under one); nil for none.
func (r *TenantReconciler) activeHold(ctx context.Context, t *tenancyv1alpha1.Tenant) (*render.Retention, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: render.TenantNamespace(t)}, ns); err != nil || !isManagedBy(ns, t.Name) {
		return nil, client.IgnoreNotFound(err)
	}
	if h := render.Hold(ns); h != nil && r.Clock().Before(h.Until) {
		return h, nil
	}
	return nil, nil
}

// retainNamespace keeps the namespace and its data but revokes all access, scales the back-end to zero and marks the
// namespace retained (the forms are render's, see retained.go). A new Tenant of the same name takes it back. A hold
// the namespace carries (hold) is kept: it is retained at least until the hold ends.
func (r *TenantReconciler) retainNamespace(ctx context.Context, t *tenancyv1alpha1.Tenant, hold *render.Retention) (bool, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: render.TenantNamespace(t)}, ns); err != nil || !isManagedBy(ns, t.Name) {
		return true, client.IgnoreNotFound(err)
	}
	// The quota first: once it allows no pods, the workloads' controllers cannot start again what is stopped next.
	// Then default-deny, which a tenant deleted while it was provisioning may not have had yet.
	if err := fieldManager.ApplyObject(ctx, r.Client, render.RetainedQuota(t)); err != nil {
		return false, err
	}
	if err := fieldManager.ApplyObject(ctx, r.Client, render.DefaultDeny(t)); err != nil {
		return false, err
	}
	if err := r.revokeEverything(ctx, ns.Name); err != nil {
		return false, err
	}
	if t.Spec.Backend != nil {
		d := &appsv1.Deployment{}
		err := r.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: render.BackendName}, d)
		if err == nil && isManagedBy(d, t.Name) {
			// With the class the namespace had, so that nothing in the pod template but the replicas changes.
			scaled := render.ScaledDownBackend(render.WithClass(t, render.AppliedClass(ns)), d.Spec.Template.Annotations)
			if err := fieldManager.ApplyObject(ctx, r.Client, scaled); err != nil {
				return false, err
			}
		} else if client.IgnoreNotFound(err) != nil {
			return false, err
		}
	}
	// A pass that runs again keeps the time of the first: the period runs from the deletion, once.
	retainedAt := r.Clock()
	if earlier := render.RetentionOf(ns); earlier != nil {
		retainedAt = earlier.RetainedAt
	}
	retention := render.WithHold(render.RetentionFor(t, retainedAt), hold, retainedAt)
	if hold != nil && t.Spec.DeletionPolicy == tenancyv1alpha1.DeletionPolicyDelete && ns.Annotations[render.AnnotationRetained] != markedTrue {
		r.event(t, corev1.EventTypeWarning, "NamespaceHeld", "Delete", fmt.Sprintf("Namespace %s is held for a retention period until %s: "+
			"it is retained, and its database kept, instead of deleted (deletionPolicy Delete)", ns.Name, hold.Until.Format(time.RFC3339)))
	}
	if err := fieldManager.ApplyObject(ctx, r.Client, render.RetainedNamespace(t, render.AppliedClass(ns), retention)); err != nil {
		return false, err
	}
	if ns.Annotations[render.AnnotationRetained] != markedTrue { // once, whatever the passes
		r.event(t, corev1.EventTypeNormal, "NamespaceRetained", "Delete",
			"Retained namespace "+ns.Name+": every binding, ServiceAccount and pod removed, no pods allowed, back-end scaled to zero (deletionPolicy Retain)"+
				retentionNote(retention))
		retentionActions.WithLabelValues(retentionRetained).Inc()
	}
	return true, nil
}

// deleteOwnerAccess deletes the cluster-scoped role and binding that let the tenant's owners read their Tenant.
func (r *TenantReconciler) deleteOwnerAccess(ctx context.Context, t *tenancyv1alpha1.Tenant) error {
	for _, obj := range []client.Object{
		&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRole{},
	} {
		obj.SetName(render.OwnerAccessName(t))
		if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}
