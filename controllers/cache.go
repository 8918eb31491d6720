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
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// ownedHash reads the hash of the fields the operator owns (see upToDate) that slimForCache computed, before it
// dropped the rest of the object, and keeps in the cached copy's generateName: meaningless on an existing object,
// and the cache's copies never go back to the apiserver. An annotation would cost a map per cached object, a fifth
// of the cache.
func ownedHash(obj client.Object) string { return obj.GetGenerateName() }

// CacheOptions makes the manager cache only what the operator manages: every managed kind is watched through a
// label selector. Three kinds are cached whole, as clusters hold few of them besides the tenants' own: namespaces,
// cluster roles and cluster role bindings; the operator then knows without asking the apiserver that a name it is
// about to claim is free. Cached objects are slimmed to what the reconciler reads (slimForCache), so memory grows
// with the tenants by a few hundred bytes per object.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedByValue})
	byObject := map[client.Object]cache.ByObject{
		&tenancyv1alpha1.Tenant{}: {Transform: cache.TransformStripManagedFields()},
	}
	for _, obj := range managedKinds() {
		opts := cache.ByObject{Transform: slimForCache}
		if !completelyCached(obj) {
			opts.Label = managed
		}
		byObject[obj] = opts
	}
	return cache.Options{ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()}
}

// slimForCache keeps of an object what the reconciler reads: names, labels, versions; the data and the operator's
// annotations of Secrets; replicas, pod template annotations and status of Deployments; whether a quota is
// enforced. For the operator's objects, it first records the hash of the fields it owns, which is all upToDate
// needs.
func slimForCache(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	m := metav1.ObjectMeta{
		Name: obj.GetName(), Namespace: obj.GetNamespace(), UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
		Generation: obj.GetGeneration(), DeletionTimestamp: obj.GetDeletionTimestamp(), Labels: internLabels(obj.GetLabels()),
	}
	if obj.GetLabels()[LabelManagedBy] == ManagedByValue {
		if len(obj.GetManagedFields()) == 0 {
			// Already slimmed: informers may transform an object twice (relists, resyncs).
			m.GenerateName = obj.GetGenerateName()
		} else if hash, err := ownedFieldsHash(obj); err == nil {
			m.GenerateName = hash
		}
	}
	if slim := slimObject(obj, m); slim != nil {
		return slim, nil
	}
	return in, nil
}

// slimObject builds the cache's copy of obj from its slimmed metadata m.
func slimObject(obj client.Object, m metav1.ObjectMeta) client.Object {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return &corev1.Namespace{ObjectMeta: m, Status: corev1.NamespaceStatus{Phase: o.Status.Phase}}
	case *corev1.Secret:
		// Generated secrets keep their values and generation time until rotation; certificates their expiry.
		m.Annotations = operatorAnnotations(o.Annotations)
		return &corev1.Secret{ObjectMeta: m, Type: o.Type, Data: o.Data}
	case *appsv1.Deployment:
		d := &appsv1.Deployment{ObjectMeta: m, Status: appsv1.DeploymentStatus{
			ObservedGeneration: o.Status.ObservedGeneration, Replicas: o.Status.Replicas, UpdatedReplicas: o.Status.UpdatedReplicas,
			ReadyReplicas: o.Status.ReadyReplicas, AvailableReplicas: o.Status.AvailableReplicas,
		}}
		d.Spec.Replicas = o.Spec.Replicas
		d.Spec.Template.Annotations = o.Spec.Template.Annotations
		return d
	case *corev1.ResourceQuota:
		// The operator only asks whether the quota controller has taken the quota up: one enforced limit says so.
		q := &corev1.ResourceQuota{ObjectMeta: m}
		for name, quantity := range o.Status.Hard {
			q.Status.Hard = corev1.ResourceList{name: quantity}
			break
		}
		return q
	case *corev1.ServiceAccount:
		return &corev1.ServiceAccount{ObjectMeta: m}
	case *corev1.Service:
		return &corev1.Service{ObjectMeta: m}
	case *corev1.LimitRange:
		return &corev1.LimitRange{ObjectMeta: m}
	case *networkingv1.NetworkPolicy:
		return &networkingv1.NetworkPolicy{ObjectMeta: m}
	case *rbacv1.RoleBinding:
		return &rbacv1.RoleBinding{ObjectMeta: m}
	case *rbacv1.ClusterRole:
		return &rbacv1.ClusterRole{ObjectMeta: m}
	case *rbacv1.ClusterRoleBinding:
		return &rbacv1.ClusterRoleBinding{ObjectMeta: m}
	case *policyv1.PodDisruptionBudget:
		return &policyv1.PodDisruptionBudget{ObjectMeta: m}
	}
	return nil
}

// operatorAnnotations keeps the operator's own annotations.
func operatorAnnotations(all map[string]string) map[string]string {
	var ours map[string]string
	for k, v := range all {
		if strings.HasPrefix(k, "tenancy.tenant-operator.dev/") {
			if ours == nil {
				ours = map[string]string{}
			}
			ours[k] = v
		}
	}
	return ours
}

// internedLabels holds one copy of each label set seen on cached objects: a tenant's objects all carry the same
// labels, and a map per object would be most of what the cache holds. Cached objects are never modified in place
// (reads return deep copies), so sharing is safe. A set stays after its tenant is gone: a few hundred bytes each.
var internedLabels = struct {
	sync.Mutex
	sets map[string]map[string]string
}{sets: map[string]map[string]string{}}

func internLabels(l map[string]string) map[string]string {
	if len(l) == 0 {
		return nil
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	internedLabels.Lock()
	defer internedLabels.Unlock()
	if shared, ok := internedLabels.sets[b.String()]; ok {
		return shared
	}
	internedLabels.sets[b.String()] = l
	return l
}
