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
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/slimcache"
)

// managedKind is one kind of object the operator creates for tenants. The table below drives the watches, the cache
// (what it selects and keeps), pruning, the apiserver reads a missing object needs, and the tests that check the
// operator's role covers every kind and that the owned-fields hash agrees with client-go's on each.
type managedKind struct {
	object client.Object
	list   func() client.ObjectList
	// group and resource name the kind in RBAC: the operator's role must grant managedVerbs on it.
	group, resource string
	namespaced      bool
	// prunable kinds may stop being desired while the Tenant exists; the namespace, its quota and its limits never do.
	prunable bool
	// cachedWhole kinds are cached whole, not only the operator's objects, as clusters hold few of them besides the
	// tenants' own: the operator then knows without asking the apiserver that a name it is about to claim is free.
	cachedWhole bool
	// keep is what the cache keeps of an object besides its slimmed metadata (see slimcache).
	keep slimcache.Keep
}

// managedVerbs are what the operator needs on every managed kind.
var managedVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// Adding a kind: a row here, its RBAC marker below, and its builder in render. TestRoleCoversEveryManagedKind fails
// when the marker is missing.
//
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets;configmaps;serviceaccounts;services;resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete

// managedKinds are the kinds the operator creates, in the order it prunes them.
var managedKinds = []managedKind{
	{object: &corev1.Namespace{}, list: func() client.ObjectList { return &corev1.NamespaceList{} },
		resource: "namespaces", cachedWhole: true, keep: slimcache.Namespace},
	{object: &networkingv1.NetworkPolicy{}, list: func() client.ObjectList { return &networkingv1.NetworkPolicyList{} },
		group: "networking.k8s.io", resource: "networkpolicies", namespaced: true, prunable: true,
		keep: slimcache.MetadataOnly[networkingv1.NetworkPolicy]()},
	{object: &rbacv1.RoleBinding{}, list: func() client.ObjectList { return &rbacv1.RoleBindingList{} },
		group: rbacv1.GroupName, resource: "rolebindings", namespaced: true, prunable: true,
		keep: slimcache.MetadataOnly[rbacv1.RoleBinding]()},
	{object: &rbacv1.ClusterRole{}, list: func() client.ObjectList { return &rbacv1.ClusterRoleList{} },
		group: rbacv1.GroupName, resource: "clusterroles", prunable: true, cachedWhole: true,
		keep: slimcache.MetadataOnly[rbacv1.ClusterRole]()},
	{object: &rbacv1.ClusterRoleBinding{}, list: func() client.ObjectList { return &rbacv1.ClusterRoleBindingList{} },
		group: rbacv1.GroupName, resource: "clusterrolebindings", prunable: true, cachedWhole: true,
		keep: slimcache.MetadataOnly[rbacv1.ClusterRoleBinding]()},
	{object: &corev1.ResourceQuota{}, list: func() client.ObjectList { return &corev1.ResourceQuotaList{} },
		resource: "resourcequotas", namespaced: true, keep: slimcache.ResourceQuota},
	{object: &corev1.LimitRange{}, list: func() client.ObjectList { return &corev1.LimitRangeList{} },
		resource: "limitranges", namespaced: true, keep: slimcache.MetadataOnly[corev1.LimitRange]()},
	{object: &corev1.ServiceAccount{}, list: func() client.ObjectList { return &corev1.ServiceAccountList{} },
		resource: "serviceaccounts", namespaced: true, prunable: true, keep: slimcache.MetadataOnly[corev1.ServiceAccount]()},
	{object: &corev1.Secret{}, list: func() client.ObjectList { return &corev1.SecretList{} },
		resource: "secrets", namespaced: true, prunable: true, keep: slimcache.Secret},
	{object: &corev1.ConfigMap{}, list: func() client.ObjectList { return &corev1.ConfigMapList{} },
		resource: "configmaps", namespaced: true, prunable: true, keep: slimcache.MetadataOnly[corev1.ConfigMap]()},
	{object: &appsv1.Deployment{}, list: func() client.ObjectList { return &appsv1.DeploymentList{} },
		group: "apps", resource: "deployments", namespaced: true, prunable: true, keep: slimcache.Deployment},
	{object: &corev1.Service{}, list: func() client.ObjectList { return &corev1.ServiceList{} },
		resource: "services", namespaced: true, prunable: true, keep: slimcache.MetadataOnly[corev1.Service]()},
	{object: &policyv1.PodDisruptionBudget{}, list: func() client.ObjectList { return &policyv1.PodDisruptionBudgetList{} },
		group: "policy", resource: "poddisruptionbudgets", namespaced: true, prunable: true,
		keep: slimcache.MetadataOnly[policyv1.PodDisruptionBudget]()},
}

// ManagedKindLists returns an empty list of each kind the operator manages, for tests and tools that look at
// everything it manages.
func ManagedKindLists() []client.ObjectList {
	out := make([]client.ObjectList, 0, len(managedKinds))
	for _, k := range managedKinds {
		out = append(out, k.list())
	}
	return out
}

// kindName names a managed kind for events, logs, metrics and object keys.
func (k managedKind) kindName() string { return kindOf(k.object) }

// items lists the objects of a list of the kind.
func items(list client.ObjectList) ([]client.Object, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		if obj, ok := o.(client.Object); ok {
			out = append(out, obj)
		}
	}
	return out, nil
}

// kindOf names an object's kind for events, logs and metrics.
func kindOf(obj client.Object) string {
	return reflect.TypeOf(obj).Elem().Name()
}

// cachedWhole reports whether the cache holds every object of obj's kind, not only the operator's: then an object
// missing from the cache does not exist.
func cachedWhole(obj client.Object) bool {
	for _, k := range managedKinds {
		if reflect.TypeOf(k.object) == reflect.TypeOf(obj) {
			return k.cachedWhole
		}
	}
	return false
}

// slimmer makes the cache's copies of the managed kinds.
var slimmer = slimcache.Slimmer{Manager: fieldManager, Owned: appliedByOperator}

// CacheOptions makes the manager cache only what the operator manages: every managed kind is watched through a
// label selector but those cachedWhole, and cached slimmed to what the reconciler reads (slimcache), so memory grows
// with the tenants by a few hundred bytes per object. Of pods, only the tenants' back-ends are cached, and only why
// they cannot start.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue})
	byObject := map[client.Object]cache.ByObject{
		&tenancyv1alpha1.Tenant{}: {Transform: slimcache.Tenant},
		&corev1.Pod{}:             {Label: render.BackendPodSelector(), Transform: slimcache.BackendPod},
	}
	for _, k := range managedKinds {
		opts := cache.ByObject{Transform: slimmer.Transform(k.keep)}
		if !k.cachedWhole {
			opts.Label = managed
		}
		byObject[k.object] = opts
	}
	return cache.Options{ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()}
}
