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
	"sort"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// What ties one Tenant to objects that do not carry its labels: the tenants that allow it in (their
// allowFromTenants names it, and its pods need egress to their back-ends), and the namespace it claims (someone
// else's, until deleted). Both are looked up through cache indexes, so a pass costs no listing of every Tenant.
const (
	// indexAllowedTenant indexes tenants with a back-end by each tenant their allowFromTenants names.
	indexAllowedTenant = "tenancy.tenant-operator.dev/allowed-tenant"
	// indexNamespace indexes tenants by the namespace they claim.
	indexNamespace = "tenancy.tenant-operator.dev/namespace"
)

func indexTenants(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &tenancyv1alpha1.Tenant{}, indexAllowedTenant, func(obj client.Object) []string {
		return tenantsAllowedBy(obj.(*tenancyv1alpha1.Tenant))
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &tenancyv1alpha1.Tenant{}, indexSharedObject, func(obj client.Object) []string {
		return sharedKeys(obj.(*tenancyv1alpha1.Tenant).Spec.SharedObjects)
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &tenancyv1alpha1.Tenant{}, indexClass, func(obj client.Object) []string {
		return tenantClassKeys(obj.(*tenancyv1alpha1.Tenant))
	}); err != nil {
		return err
	}
	return indexer.IndexField(ctx, &tenancyv1alpha1.Tenant{}, indexNamespace, func(obj client.Object) []string {
		return []string{render.TenantNamespace(obj.(*tenancyv1alpha1.Tenant))}
	})
}

// tenantsAllowedBy are the tenants whose pods t lets reach its back-end: none without a back-end, none while t is
// being deleted.
func tenantsAllowedBy(t *tenancyv1alpha1.Tenant) []string {
	if t.Spec.Backend == nil || !t.DeletionTimestamp.IsZero() {
		return nil
	}
	return render.AllowedTenants(t)
}

// allowingTenants are the other tenants that let t's pods reach their back-end, sorted by name.
func (r *TenantReconciler) allowingTenants(ctx context.Context, t *tenancyv1alpha1.Tenant) ([]*tenancyv1alpha1.Tenant, error) {
	var list tenancyv1alpha1.TenantList
	if err := r.List(ctx, &list, client.MatchingFields{indexAllowedTenant: t.Name}); err != nil {
		return nil, err
	}
	// The index holds only tenants with a back-end, not being deleted, naming t (never themselves: allowedTenants).
	out := make([]*tenancyv1alpha1.Tenant, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// enqueueAllowedTenants brings a pass of every tenant a Tenant allowed in before or after a change (or its creation
// or deletion): their egress to its back-end follows its spec.
func enqueueAllowedTenants() handler.TypedEventHandler[client.Object, reconcile.Request] {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		for _, obj := range objs {
			if t, ok := obj.(*tenancyv1alpha1.Tenant); ok && t.Spec.Backend != nil {
				for _, name := range render.AllowedTenants(t) {
					q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Name: name}})
				}
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
				e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero() {
				add(q, e.ObjectOld, e.ObjectNew)
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
	}
}

// enqueueClaimants brings a pass of every tenant claiming a namespace that was just deleted: the one someone else
// held (NamespaceConflict) is free now. The operator's own namespaces map to their tenant by label as well.
func (r *TenantReconciler) enqueueClaimants() handler.TypedEventHandler[client.Object, reconcile.Request] {
	return handler.Funcs{
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			var list tenancyv1alpha1.TenantList
			if err := r.List(ctx, &list, client.MatchingFields{indexNamespace: e.Object.GetName()}); err != nil {
				return
			}
			for _, t := range list.Items {
				q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Name: t.Name}})
			}
		},
	}
}
