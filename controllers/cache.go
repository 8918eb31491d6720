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
	"bytes"
	"maps"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
		&tenancyv1alpha1.Tenant{}: {Transform: slimTenant},
		&corev1.Pod{}:             {Label: backendPodSelector(), Transform: slimBackendPod},
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

// slimTenant drops what the reconciler never reads of a Tenant, managed fields and annotations (kubectl's
// last-applied-configuration alone repeats the spec), and shares the condition strings every tenant repeats.
// Every write of a Tenant is a merge patch computed against its cached copy, so nothing dropped here is lost.
func slimTenant(in any) (any, error) {
	t, ok := in.(*tenancyv1alpha1.Tenant)
	if !ok {
		return in, nil
	}
	t.ManagedFields, t.Annotations = nil, nil
	for i := range t.Status.Conditions {
		c := &t.Status.Conditions[i]
		// Most messages are the same in every tenant too; the interner forgets the ones no longer met.
		c.Type, c.Status = internString(c.Type), metav1.ConditionStatus(internString(string(c.Status)))
		c.Reason, c.Message = internString(c.Reason), internString(c.Message)
	}
	return t, nil
}

// slimForCache keeps of an object what the reconciler reads: names, labels, versions (not the UID: nothing reads
// it); the data and the operator's annotations of Secrets; replicas, pod template annotations, status and failing
// conditions of Deployments; whether a quota is enforced. For the operator's objects, it first records the hash of the fields it
// owns, which is all upToDate needs.
func slimForCache(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok || len(obj.GetManagedFields()) == 0 {
		// Already slimmed (the apiserver records managed fields on every object): informers transform an object twice
		// when they sync, into the list they stream and into their store, and a second copy of every object would
		// double the cache for as long as the sync takes.
		return in, nil
	}
	m := metav1.ObjectMeta{
		Name: obj.GetName(), Namespace: internString(obj.GetNamespace()),
		ResourceVersion: obj.GetResourceVersion(), Generation: obj.GetGeneration(), DeletionTimestamp: obj.GetDeletionTimestamp(),
		Labels: internStringMap(obj.GetLabels()),
	}
	// Namespaced objects' names repeat in every tenant ("default-deny"); a namespace's name is its objects' namespace.
	// Cluster-scoped names are one per tenant: nothing to share.
	if _, ok := obj.(*corev1.Namespace); ok || m.Namespace != "" {
		m.Name = internString(m.Name)
	}
	posing := false
	if obj.GetLabels()[LabelManagedBy] == ManagedByValue {
		if posing = !appliedByOperator(obj); posing {
			// Someone else put the operator's labels on it (only system:masters and the control plane can, past the
			// reserved-labels guardrail): the cache keeps it as what it is, not the operator's, and none of its
			// content, so that such objects can neither be taken for the operator's nor fill its memory.
			m.Labels = internStringMap(withoutOperatorLabels(obj.GetLabels()))
		} else if hasForeignFields(obj) {
			m.GenerateName = foreignFieldsMark
		} else if hash, err := ownedFieldsHash(obj); err == nil {
			m.GenerateName = hash
		}
	}
	slim := slimObject(obj, m)
	if secret, ok := slim.(*corev1.Secret); ok && posing {
		secret.Data, secret.Annotations = nil, nil
	}
	if slim != nil {
		return slim, nil
	}
	return in, nil
}

// appliedByOperator reports whether the operator's own field manager set obj's managed-by label, by server-side
// apply or, for a namespace, by the create that claimed it (see claimNamespace): the operator's objects are the ones
// it created, whatever labels anyone else may have written. Looked up in the raw field set rather than parsed: the
// informers call this for every event of every managed object.
func appliedByOperator(obj client.Object) bool {
	_, claimable := obj.(*corev1.Namespace)
	for _, entry := range obj.GetManagedFields() {
		byOperator := entry.Operation == metav1.ManagedFieldsOperationApply || (claimable && entry.Operation == metav1.ManagedFieldsOperationUpdate)
		if entry.Manager == FieldOwner && byOperator && entry.Subresource == "" &&
			entry.FieldsV1 != nil && bytes.Contains(entry.FieldsV1.GetRawBytes(), managedByField) {
			return true
		}
	}
	return false
}

var managedByField = []byte(`"f:` + LabelManagedBy + `"`)

// withoutOperatorLabels is labels less the ones that mark the operator's objects.
func withoutOperatorLabels(all map[string]string) map[string]string {
	out := maps.Clone(all)
	delete(out, LabelManagedBy)
	delete(out, LabelTenant)
	return out
}

// slimObject builds the cache's copy of obj from its slimmed metadata m.
func slimObject(obj client.Object, m metav1.ObjectMeta) client.Object {
	switch o := obj.(type) {
	case *corev1.Namespace:
		// Whether a deleted Tenant retained it decides whether a new one may take it.
		if o.Annotations[AnnotationRetained] != "" {
			m.Annotations = map[string]string{AnnotationRetained: o.Annotations[AnnotationRetained]}
		}
		return &corev1.Namespace{ObjectMeta: m, Status: corev1.NamespaceStatus{Phase: o.Status.Phase}}
	case *corev1.Secret:
		// Generated secrets keep their values and generation time until rotation; certificates their expiry. Secrets
		// generated in the same second share their annotations.
		m.Annotations = internStringMap(operatorAnnotations(o.Annotations))
		return &corev1.Secret{ObjectMeta: m, Type: o.Type, Data: asCached(o)}
	case *appsv1.Deployment:
		d := &appsv1.Deployment{ObjectMeta: m, Status: appsv1.DeploymentStatus{
			ObservedGeneration: o.Status.ObservedGeneration, Replicas: o.Status.Replicas, UpdatedReplicas: o.Status.UpdatedReplicas,
			ReadyReplicas: o.Status.ReadyReplicas, AvailableReplicas: o.Status.AvailableReplicas,
			Conditions: failingDeploymentConditions(o.Status.Conditions),
		}}
		d.Spec.Replicas = o.Spec.Replicas
		d.Spec.Template.Annotations = o.Spec.Template.Annotations
		return d
	case *corev1.ResourceQuota:
		// The operator only asks whether the quota controller has taken the quota up (one enforced limit says so),
		// and how long it has had to.
		m.CreationTimestamp = o.CreationTimestamp
		q := &corev1.ResourceQuota{ObjectMeta: m}
		if len(o.Status.Hard) > 0 {
			q.Status.Hard = quotaEnforced
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

// quotaEnforced stands for the limits of every enforced quota in the cache: one shared map (reads copy it).
var quotaEnforced = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}

// operatorAnnotations keeps the operator's own annotations.
func operatorAnnotations(all map[string]string) map[string]string {
	var ours map[string]string
	for k, v := range all {
		if strings.HasPrefix(k, operatorKeyPrefix) {
			if ours == nil {
				ours = map[string]string{}
			}
			ours[k] = v
		}
	}
	return ours
}

// interner hands out one shared copy of equal values. Cached objects are never modified in place (reads return deep
// copies), so sharing is safe. It keeps two generations: when the current one has grown to twice what the previous
// one held, the previous one is dropped, so values no longer in use (a deleted tenant's) go within two generations
// while the ones in use are carried over as they are met.
type interner[V any] struct {
	mu                sync.Mutex
	current, previous map[string]V
}

// minGeneration keeps small caches from turning generations over all the time.
const minGeneration = 4096

func newInterner[V any]() *interner[V] {
	return &interner[V]{current: map[string]V{}}
}

// intern returns the shared value for key, made by newValue the first time.
func (i *interner[V]) intern(key string, newValue func() V) V {
	i.mu.Lock()
	defer i.mu.Unlock()
	if shared, ok := i.current[key]; ok {
		return shared
	}
	v, ok := i.previous[key]
	if !ok {
		v = newValue()
	}
	if len(i.current) >= max(minGeneration, 2*len(i.previous)) {
		i.previous, i.current = i.current, map[string]V{}
	}
	i.current[key] = v
	return v
}

// Strings: namespaces, namespaced object names, label names and values, Tenant conditions. Maps:
// label sets (a tenant's objects all carry the same labels, and a map per object would be most of what the cache
// holds) and the operator's annotations of secrets.
var (
	internedStrings = newInterner[string]()
	internedMaps    = newInterner[map[string]string]()
)

func internString(s string) string {
	if s == "" {
		return s
	}
	return internedStrings.intern(s, func() string { return s })
}

func internStringMap(l map[string]string) map[string]string {
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
	return internedMaps.intern(b.String(), func() map[string]string {
		// A new set: its keys and values are mostly the same few strings too (label names, the tenant's name).
		own := make(map[string]string, len(l))
		for k, v := range l {
			own[internString(k)] = internString(v)
		}
		return own
	})
}
