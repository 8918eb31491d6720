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
	"fmt"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// kindOf names an object's kind for events, logs and metrics.
func kindOf(obj client.Object) string {
	return reflect.TypeOf(obj).Elem().Name()
}

func objectRef(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// newObjectLike returns an empty object of the same type as obj.
func newObjectLike(obj client.Object) (client.Object, error) {
	out, ok := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not a client.Object", obj)
	}
	return out, nil
}

// prunableList is one kind the operator may prune, listed by label.
type prunableList struct {
	kind       string
	namespaced bool
	list       client.ObjectList
	items      func() []client.Object
}

// prunableLists are the kinds that may stop being desired. The namespace never does while the Tenant exists.
func prunableLists() []prunableList {
	var (
		nps  networkingv1.NetworkPolicyList
		rbs  rbacv1.RoleBindingList
		crs  rbacv1.ClusterRoleList
		crbs rbacv1.ClusterRoleBindingList
		sas  corev1.ServiceAccountList
		secs corev1.SecretList
		deps appsv1.DeploymentList
		svcs corev1.ServiceList
		pdbs policyv1.PodDisruptionBudgetList
	)
	return []prunableList{
		{"NetworkPolicy", true, &nps, func() []client.Object { return ptrs(nps.Items) }},
		{"RoleBinding", true, &rbs, func() []client.Object { return ptrs(rbs.Items) }},
		{kindClusterRole, false, &crs, func() []client.Object { return ptrs(crs.Items) }},
		{"ClusterRoleBinding", false, &crbs, func() []client.Object { return ptrs(crbs.Items) }},
		{"ServiceAccount", true, &sas, func() []client.Object { return ptrs(sas.Items) }},
		{"Secret", true, &secs, func() []client.Object { return ptrs(secs.Items) }},
		{"Deployment", true, &deps, func() []client.Object { return ptrs(deps.Items) }},
		{"Service", true, &svcs, func() []client.Object { return ptrs(svcs.Items) }},
		{"PodDisruptionBudget", true, &pdbs, func() []client.Object { return ptrs(pdbs.Items) }},
	}
}

// ptrs returns pointers to a list's items as client.Objects.
func ptrs[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}

// eventRecorder is the part of the events API the reconciler uses.
type eventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

var _ eventRecorder = events.EventRecorder(nil)

// event records an Event on the Tenant. Messages never hold secret values: they name objects only.
func (r *TenantReconciler) event(t *tenancyv1alpha1.Tenant, eventType, reason, action, message string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(t, nil, eventType, reason, action, "%s", message)
	}
}

// objectKey names an object by kind, namespace and name.
func objectKey(obj client.Object) string {
	return kindOf(obj) + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

// completelyCached reports whether the cache holds every object of obj's kind, not only the operator's: then an
// object missing from the cache does not exist.
func completelyCached(obj client.Object) bool {
	switch obj.(type) {
	case *corev1.Namespace, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
		return true
	}
	return false
}

// expectations remembers the objects the operator created that the cache has not shown yet (the pattern of
// kube-controller-manager's controllers), so that the next pass neither reads them from the apiserver nor applies
// them again. An object still missing after expectationTimeout was deleted, and is created again.
type expectations struct {
	mu    sync.Mutex
	since map[string]time.Time
}

const expectationTimeout = 10 * time.Second

func (e *expectations) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.since == nil {
		e.since = map[string]time.Time{}
	}
	now := time.Now()
	// Objects no pass looked for again would stay forever: forget those long expired, now and then.
	if len(e.since) >= 256 && len(e.since)%256 == 0 {
		for k, at := range e.since {
			if now.Sub(at) > expectationTimeout {
				delete(e.since, k)
			}
		}
	}
	e.since[key] = now
}

func (e *expectations) observed(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.since, key)
}

func (e *expectations) pending(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.since[key]
	if ok && time.Since(at) > expectationTimeout {
		delete(e.since, key)
		return false
	}
	return ok
}
