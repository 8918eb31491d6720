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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// SetupWithManager registers the reconciler: Tenants, and every kind it manages, mapped back to their Tenant by label.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexTenants(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		// The cache keeps no annotations of Tenants (slimcache.Tenant): none changes what the operator does.
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{}, deletionPredicate()))).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("tenant")
	toTenant := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		if name := obj.GetLabels()[render.LabelTenant]; name != "" && obj.GetLabels()[render.LabelManagedBy] == render.ManagedByValue {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
		}
		return nil
	})
	for _, kind := range managedKinds {
		b = b.Watches(kind.object, toTenant, builder.WithPredicates(r.changesThatMatter()))
	}
	// Back-end pods carry the tenant's label, not the operator's: they are the Deployment's.
	b = b.Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: obj.GetLabels()[render.LabelTenant]}}}
	}), builder.WithPredicates(r.changesThatMatter()))
	b = b.Watches(&tenancyv1alpha1.Tenant{}, enqueueAllowedTenants()).
		Watches(&corev1.Namespace{}, r.enqueueClaimants()).
		Watches(&tenancyv1alpha1.TenantClass{}, r.enqueueTenantsOfClass(), builder.WithPredicates(classChanges()))
	if r.Shared != nil {
		for _, src := range r.watchShared(r.Shared) {
			b = b.WatchesRawSource(src)
		}
	}
	return b.Complete(r)
}

// changesThatMatter lets through the updates of managed objects that change what the cache keeps of them (owned
// fields, labels, the status the operator reads): a status the operator ignores brings no pass.
func (r *TenantReconciler) changesThatMatter() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			before, after := e.ObjectOld.DeepCopyObject().(client.Object), e.ObjectNew.DeepCopyObject().(client.Object)
			before.SetResourceVersion("")
			after.SetResourceVersion("")
			return !equality.Semantic.DeepEqual(before, after)
		},
	}
}

// deletionPredicate passes updates that start a deletion (finalizers and deletionTimestamp change no generation).
// classChanges are the changes of a TenantClass its tenants render differently after: its spec, whether it is the
// default, its deletion.
func classChanges() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate())
}

func deletionPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}
