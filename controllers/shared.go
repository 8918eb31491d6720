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
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// indexSharedObject indexes Tenants by the shared objects their own spec lists (render.SharedKey).
const indexSharedObject = "tenancy.tenant-operator.dev/shared-object"

func sharedKeys(objs []tenancyv1alpha1.SharedObject) []string {
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		keys = append(keys, render.SharedKey(o.Kind, o.Name))
	}
	return keys
}

// newSharedCache is a cache of the Secrets and ConfigMaps of the operator's namespace marked shareable, and of
// nothing else: the originals of shared objects, whose changes are copied to the tenants.
func newSharedCache(mgr ctrl.Manager, namespace string) (cache.Cache, error) {
	return cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultNamespaces:    map[string]cache.Config{namespace: {}},
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{tenancyv1alpha1.LabelShareable: markedTrue}),
		DefaultTransform:     cache.TransformStripManagedFields(),
	})
}

// observeShared reads the originals of the tenant's shared objects (with its class's), by render.SharedKey; those
// missing or not marked are absent, and render says so.
func (r *TenantReconciler) observeShared(ctx context.Context, s *tenantScope) (map[string]client.Object, error) {
	refs := render.SharedObjects(s.tenant, s.class)
	if len(refs) == 0 || r.Shared == nil {
		return nil, nil
	}
	out := make(map[string]client.Object, len(refs))
	for _, ref := range refs {
		var obj client.Object = &corev1.ConfigMap{}
		if ref.Kind == tenancyv1alpha1.SharedSecret {
			obj = &corev1.Secret{}
		}
		err := r.Shared.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: ref.Name}, obj)
		switch {
		case err == nil:
			out[render.SharedKey(ref.Kind, ref.Name)] = obj
		case !apierrors.IsNotFound(err):
			return nil, err
		}
	}
	return out, nil
}

// watchShared brings the tenants that list a shared object, themselves or through their class, when its original
// changes, appears or goes.
func (r *TenantReconciler) watchShared(sharedCache cache.Cache) []source.Source {
	enqueue := func(kind tenancyv1alpha1.SharedObjectKind) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return r.tenantsSharing(ctx, render.SharedKey(kind, obj.GetName()))
		})
	}
	return []source.Source{
		source.Kind(sharedCache, client.Object(&corev1.Secret{}), enqueue(tenancyv1alpha1.SharedSecret)),
		source.Kind(sharedCache, client.Object(&corev1.ConfigMap{}), enqueue(tenancyv1alpha1.SharedConfigMap)),
	}
}

// tenantsSharing are the tenants that list the shared object key: in their spec, or through their class.
func (r *TenantReconciler) tenantsSharing(ctx context.Context, key string) []reconcile.Request {
	out := r.tenantsIndexed(ctx, indexSharedObject, key)
	var classes tenancyv1alpha1.TenantClassList
	if err := r.List(ctx, &classes); err != nil {
		return out
	}
	def := DefaultClass(classes.Items)
	for _, c := range classes.Items {
		if !slices.Contains(sharedKeys(c.Spec.SharedObjects), key) {
			continue
		}
		out = append(out, r.tenantsIndexed(ctx, indexClass, c.Name)...)
		if def != nil && def.Name == c.Name {
			out = append(out, r.tenantsIndexed(ctx, indexClass, indexDefaultClass)...)
		}
	}
	return out
}
