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

package security

import (
	"context"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestExtraRolesStayWhereTheAdminPutThem: the RoleBinding the operator creates for an extra role (spec.extraRoles)
// is the admin's grant to one tenant's owners. Its owners cannot widen it to another tenant's people or remove it,
// and another tenant's owner cannot bind the role in their own namespace: they do not hold it there.
func TestExtraRolesStayWhereTheAdminPutThem(t *testing.T) {
	skipShort(t)
	owner, other := as(t, alphaOwner), as(t, betaOwner)
	binding := inAlpha("tenant-extra-"+extraRole, &rbacv1.RoleBinding{})
	// Control: the binding exists, and the owners hold the role in their namespace.
	mustAllow(t, func(ctx context.Context) error {
		return owner.Get(ctx, client.ObjectKeyFromObject(binding), &rbacv1.RoleBinding{})
	})
	mustBlock(t, byPolicy("protect-managed-objects"), mergePatch(owner, binding,
		`{"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"`+betaOwner.groups[0]+`"}]}`))
	mustBlock(t, byPolicy("protect-managed-objects"), deleteObj(owner, binding))
	mustBlock(t, byRBAC, create(other, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: betaNS, Name: "borrowed-extra-role"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: extraRole},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: betaOwner.groups[0]}},
	}))
}

// TestSuspendedTenantIsReadOnly: in a suspended tenant's namespace its people read and change nothing: not through
// the owners' binding (now read-only), nor through a grant an owner made before the suspension (tenant-admin to a CI
// user), which RBAC still honours and the suspended-namespace guardrail refuses: no write, no new grant, no new
// workload, no token; nor by lifting the suspension from the namespace.
func TestSuspendedTenantIsReadOnly(t *testing.T) {
	skipShort(t)
	owner, ci := as(t, deltaOwner), as(t, deltaCI)
	suspended := byPolicy("suspended-namespace")
	// Control: both still read.
	mustAllow(t, list(owner, &corev1.ConfigMapList{}, client.InNamespace(deltaNS)))
	mustAllow(t, list(ci, &rbacv1.RoleBindingList{}, client.InNamespace(deltaNS)))

	mustBlock(t, byRBAC, create(owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "by-owner"}}))
	mustBlock(t, suspended, create(ci, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "by-ci"}}))
	mustBlock(t, suspended, create(ci, restrictedDeployment(deltaNS, "worker")))
	mustBlock(t, suspended, create(ci, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "more"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantDeveloperRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "eve@delta.example"}}}))
	mustBlock(t, suspended, deleteObj(ci, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "ci"}}))
	mustBlock(t, either(byRBAC, suspended), func(ctx context.Context) error {
		return ci.SubResource("token").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "default"}},
			&authenticationv1.TokenRequest{})
	})
	mustBlock(t, byRBAC, mergePatch(ci, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: deltaNS}},
		`{"metadata":{"labels":{"`+render.LabelSuspended+`":null}}}`))
}

// TestDedicatedNodesStayDedicated: nodes tainted tenancy.tenant-operator.dev/dedicated=<pool> are a tenant's only
// when its Tenant's spec.placement tolerates that pool: another tenant's pod tolerating it, for that pool or for
// every pool, is refused.
func TestDedicatedNodesStayDedicated(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	for _, tol := range []corev1.Toleration{
		{Key: render.TaintDedicated, Operator: corev1.TolerationOpEqual, Value: "gold", Effect: corev1.TaintEffectNoSchedule},
		{Key: render.TaintDedicated, Operator: corev1.TolerationOpExists},
	} {
		mustBlock(t, byPolicy("pod-placement"), create(owner, restrictedPod(alphaNS, "squatter", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{tol}
		})))
	}
}

// TestPlacementOnTheNode: the scheduler honours the placement the apiserver wrote into a tenant's own pod, which
// names no node selector itself: the pod waits, unschedulable, while no node is in the tenant's pool, and is placed
// once the node joins it.
func TestPlacementOnTheNode(t *testing.T) {
	skipShort(t)
	if wire == nil {
		t.Skip("needs the node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const poolLabel, ns = "node.example.com/pool", "epsilon"
	owner := person{"eve@epsilon.example", nil}
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: tenancyv1alpha1.TenantSpec{
		Owners:    []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: owner.name}},
		Placement: &tenancyv1alpha1.PlacementSpec{NodeSelector: map[string]tenancyv1alpha1.LabelValue{poolLabel: ns}},
	}}
	if err := admin.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), tenant) })
	pod := restrictedPod(ns, "worker")
	poll := func(what string, cond func(context.Context) bool) {
		t.Helper()
		if err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			return cond(ctx), nil
		}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll("the owner's pod created", func(ctx context.Context) bool { return as(t, owner).Create(ctx, pod) == nil })
	poll("the pod unschedulable: no node in the tenant's pool", func(ctx context.Context) bool {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return true
			}
		}
		return false
	})
	if pod.Spec.NodeName != "" || pod.Spec.NodeSelector[poolLabel] != ns {
		t.Fatalf("pod on node %q with node selector %v", pod.Spec.NodeName, pod.Spec.NodeSelector)
	}

	nodes := &corev1.NodeList{}
	if err := admin.List(ctx, nodes); err != nil || len(nodes.Items) == 0 {
		t.Fatalf("no node: %v", err)
	}
	node := &nodes.Items[0]
	if err := admin.Patch(ctx, node, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+poolLabel+`":"`+ns+`"}}}`))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.Patch(context.Background(), node, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+poolLabel+`":null}}}`)))
	})
	poll("the pod placed on the node once it joined the pool", func(ctx context.Context) bool {
		return admin.Get(ctx, client.ObjectKeyFromObject(pod), pod) == nil && pod.Spec.NodeName == node.Name
	})
}
