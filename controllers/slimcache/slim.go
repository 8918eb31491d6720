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

package slimcache

import (
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/ssa"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// The cache's copy of an operator object records, before the rest of the object is dropped, the hash of the fields
// the operator owns (ssa.FieldManager.OwnedFieldsHash), or foreignFieldsMark when others added fields the operator
// takes over. It rides in the copy's generateName: meaningless on an existing object, and the cache's copies never
// go back to the apiserver. An annotation would cost a map per cached object, a fifth of the cache.

// foreignFieldsMark stands, in place of the owned-fields hash, for an operator object holding foreign fields: it
// matches no desired state, so the next pass takes them over.
const foreignFieldsMark = "foreign-fields"

// CachedOwnedFieldsHash is the owned-fields hash recorded in the cache's copy of an operator object; "" for objects read
// from the apiserver, or not the operator's.
func CachedOwnedFieldsHash(obj client.Object) string {
	if h := obj.GetGenerateName(); h != foreignFieldsMark {
		return h
	}
	return ""
}

// MarkedForeign reports whether the cache's copy of an operator object records fields others added.
func MarkedForeign(obj client.Object) bool { return obj.GetGenerateName() == foreignFieldsMark }

// Slimmer makes the cache's copies of the operator's kinds: names, labels, versions (not the UID, which only a
// namespace's Keep keeps), the owned-fields hash, and what each kind's Keep function keeps of the rest.
type Slimmer struct {
	Manager ssa.FieldManager
	// Owned reports whether an object carrying the operator's labels was labelled by the operator itself.
	Owned func(obj client.Object) bool
}

// Keep builds the cache's copy of obj from its slimmed metadata m.
type Keep func(obj client.Object, m metav1.ObjectMeta) client.Object

// Transform is the cache transform of a kind: slimmed metadata, then what keep keeps.
func (s Slimmer) Transform(keep Keep) cache.TransformFunc {
	return func(in any) (any, error) {
		obj, ok := in.(client.Object)
		if !ok || len(obj.GetManagedFields()) == 0 {
			// Already slimmed (the apiserver records managed fields on every object): informers transform an object
			// twice when they sync, into the list they stream and into their store, and a second copy of every object
			// would double the cache for as long as the sync takes.
			return in, nil
		}
		m := metav1.ObjectMeta{
			Name: obj.GetName(), Namespace: String(obj.GetNamespace()),
			ResourceVersion: obj.GetResourceVersion(), Generation: obj.GetGeneration(), DeletionTimestamp: obj.GetDeletionTimestamp(),
			Labels: StringMap(obj.GetLabels()),
		}
		// Namespaced objects' names repeat in every tenant ("default-deny"); a namespace's name is its objects'
		// namespace. Cluster-scoped names are one per tenant: nothing to share.
		if _, ok := obj.(*corev1.Namespace); ok || m.Namespace != "" {
			m.Name = String(m.Name)
		}
		posing := false
		if obj.GetLabels()[render.LabelManagedBy] == render.ManagedByValue {
			if posing = !s.Owned(obj); posing {
				// Someone else put the operator's labels on it (only system:masters and the control plane can, past the
				// reserved-labels guardrail): the cache keeps it as what it is, not the operator's, and none of its
				// content, so that such objects can neither be taken for the operator's nor fill its memory.
				m.Labels = StringMap(withoutOperatorLabels(obj.GetLabels()))
			} else if s.Manager.HasForeignFields(obj) {
				m.GenerateName = foreignFieldsMark
			} else if hash, err := s.Manager.OwnedFieldsHash(obj); err == nil {
				m.GenerateName = hash
			}
		}
		slim := keep(obj, m)
		if secret, ok := slim.(*corev1.Secret); ok && posing {
			secret.Data, secret.Annotations = nil, nil
		}
		return slim, nil
	}
}

// withoutOperatorLabels is labels less the ones that mark the operator's objects.
func withoutOperatorLabels(all map[string]string) map[string]string {
	out := maps.Clone(all)
	delete(out, render.LabelManagedBy)
	delete(out, render.LabelTenant)
	return out
}

// MetadataOnly keeps nothing but the slimmed metadata: all the reconciler reads of most kinds.
func MetadataOnly[T any, PT interface {
	*T
	client.Object
}]() Keep {
	return func(_ client.Object, m metav1.ObjectMeta) client.Object {
		out := PT(new(T))
		out.SetName(m.Name)
		out.SetNamespace(m.Namespace)
		out.SetResourceVersion(m.ResourceVersion)
		out.SetGeneration(m.Generation)
		out.SetDeletionTimestamp(m.DeletionTimestamp)
		out.SetLabels(m.Labels)
		out.SetGenerateName(m.GenerateName)
		return out
	}
}

// Namespace keeps its UID, whether a deleted Tenant retained it (and which), which decides whether a new one may
// take it, and for how long, and the tenant class applied to it, which a tenant keeps while a change of its class
// rolls out (shared: every tenant of a class has the same).
func Namespace(obj client.Object, m metav1.ObjectMeta) client.Object {
	o := obj.(*corev1.Namespace)
	// Its UID too: a tenant's database role records the namespace instance whose tenant it belongs to.
	m.UID = o.UID
	for _, key := range []string{render.AnnotationRetained, render.AnnotationRetainedBy, render.AnnotationRetention, render.AnnotationClass} {
		if v := o.Annotations[key]; v != "" {
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			if key != render.AnnotationRetention && key != render.AnnotationRetainedBy { // one of a kind per namespace: nothing to share
				v = String(v)
			}
			m.Annotations[key] = v
		}
	}
	return &corev1.Namespace{ObjectMeta: m, Status: corev1.NamespaceStatus{Phase: o.Status.Phase}}
}

// Secret keeps generated values and their generation time until rotation, certificates their expiry. Secrets
// generated in the same second share their annotations.
func Secret(obj client.Object, m metav1.ObjectMeta) client.Object {
	o := obj.(*corev1.Secret)
	m.Annotations = StringMap(operatorAnnotations(o.Annotations))
	if o.Labels[render.LabelComponent] == render.ComponentShared {
		// A copy of a shared object: its original is the truth, and the same data in every tenant's copy would fill
		// the cache.
		return &corev1.Secret{ObjectMeta: m, Type: o.Type}
	}
	return &corev1.Secret{ObjectMeta: m, Type: o.Type, Data: render.GeneratedValues(o)}
}

// Deployment keeps replicas, the pod template's annotations, the status and the conditions that say it failed.
func Deployment(obj client.Object, m metav1.ObjectMeta) client.Object {
	o := obj.(*appsv1.Deployment)
	d := &appsv1.Deployment{ObjectMeta: m, Status: appsv1.DeploymentStatus{
		ObservedGeneration: o.Status.ObservedGeneration, Replicas: o.Status.Replicas, UpdatedReplicas: o.Status.UpdatedReplicas,
		ReadyReplicas: o.Status.ReadyReplicas, AvailableReplicas: o.Status.AvailableReplicas,
		Conditions: status.FailingDeploymentConditions(o.Status.Conditions),
	}}
	d.Spec.Replicas = o.Spec.Replicas
	d.Spec.Template.Annotations = o.Spec.Template.Annotations
	return d
}

// ResourceQuota keeps whether the quota controller has taken the quota up (one enforced limit says so), and how long
// it has had to.
func ResourceQuota(obj client.Object, m metav1.ObjectMeta) client.Object {
	o := obj.(*corev1.ResourceQuota)
	m.CreationTimestamp = o.CreationTimestamp
	q := &corev1.ResourceQuota{ObjectMeta: m}
	if len(o.Status.Hard) > 0 {
		q.Status.Hard = quotaEnforced
	}
	return q
}

// quotaEnforced stands for the limits of every enforced quota in the cache: one shared map (reads copy it).
var quotaEnforced = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}

// operatorAnnotations keeps the operator's own annotations.
func operatorAnnotations(all map[string]string) map[string]string {
	var ours map[string]string
	for k, v := range all {
		if strings.HasPrefix(k, render.OperatorKeyPrefix) {
			if ours == nil {
				ours = map[string]string{}
			}
			ours[k] = v
		}
	}
	return ours
}

// Tenant drops what the reconciler never reads of a Tenant, managed fields and annotations (kubectl's
// last-applied-configuration alone repeats the spec), and shares the condition strings every tenant repeats.
// Every write of a Tenant is a merge patch computed against its cached copy, so nothing dropped here is lost.
func Tenant(in any) (any, error) {
	t, ok := in.(*tenancyv1alpha1.Tenant)
	if !ok {
		return in, nil
	}
	t.ManagedFields, t.Annotations = nil, nil
	for i := range t.Status.Conditions {
		c := &t.Status.Conditions[i]
		// Most messages are the same in every tenant too; the interner forgets the ones no longer met.
		c.Type, c.Status = String(c.Type), metav1.ConditionStatus(String(string(c.Status)))
		c.Reason, c.Message = String(c.Reason), String(c.Message)
	}
	return t, nil
}

// BackendPod keeps a back-end pod's identity and the waiting states of its containers that mean it cannot start,
// nothing else (a pod is kilobytes). Slimming a slim pod changes nothing.
func BackendPod(in any) (any, error) {
	o, ok := in.(*corev1.Pod)
	if !ok {
		return in, nil
	}
	m := corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: o.Name, Namespace: String(o.Namespace), ResourceVersion: o.ResourceVersion,
		Labels: StringMap(o.Labels), DeletionTimestamp: o.DeletionTimestamp,
	}}
	for _, statuses := range [][]corev1.ContainerStatus{o.Status.InitContainerStatuses, o.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && status.WaitFails(w.Reason) {
				m.Status.ContainerStatuses = append(m.Status.ContainerStatuses, corev1.ContainerStatus{
					Name: cs.Name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}},
				})
			}
		}
	}
	return &m, nil
}
