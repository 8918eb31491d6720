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
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestPlacementPutsEveryPodOnTheTenantsNodes: spec.placement reaches every pod of the namespace, the tenant's own
// as the apiserver creates them (its node selector overriding what the pod says for its keys, the pod's other keys
// kept, its tolerations added) and the back-end's through its Deployment; the tenant cannot tolerate another
// pool's dedicated nodes, and a tenant without placement cannot tolerate any. Taking the placement out ends it.
func TestPlacementPutsEveryPodOnTheTenantsNodes(t *testing.T) {
	ctx := needCluster(t)
	const pool = "node.example.com/pool"
	placed := newTenant("placed", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Placement = &tenancyv1alpha1.PlacementSpec{
			NodeSelector: map[string]tenancyv1alpha1.LabelValue{pool: "gold"},
			Tolerations:  []tenancyv1alpha1.Toleration{{Key: render.TaintDedicated, Value: "gold", Effect: corev1.TaintEffectNoSchedule}},
		}
	})
	unplaced := newTenant("unplaced")
	createTenant(ctx, t, placed)
	createTenant(ctx, t, unplaced)
	simulateBackendReady(ctx, t, placed)
	waitForCondition(ctx, t, placed, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	waitForCondition(ctx, t, unplaced, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, "")
	owner := impersonating(t, "pia@placed.example", "sso:placed-admins")
	other := impersonating(t, "uma@unplaced.example", "sso:unplaced-admins")

	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "placed", Name: render.BackendName}, d); err != nil {
		t.Fatal(err)
	}
	if spec := d.Spec.Template.Spec; spec.NodeSelector[pool] != "gold" || len(spec.Tolerations) != 1 || spec.Tolerations[0].Value != "gold" {
		t.Errorf("back-end placement: nodeSelector %v, tolerations %v", spec.NodeSelector, spec.Tolerations)
	}

	// The tenant's own pod, asking for another pool, an architecture and a toleration: the pool is the tenant's, the
	// rest is kept.
	pod := placementPod("placed", "worker", func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{pool: "silver", "kubernetes.io/arch": "arm64"}
		p.Spec.Tolerations = []corev1.Toleration{{Key: "example.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	})
	var refused error
	t.Cleanup(func() {
		if t.Failed() && refused != nil {
			t.Logf("the pod was last refused: %v", refused)
		}
	})
	eventually(ctx, t, "the owner's pod created with the tenant's placement", func(ctx context.Context) (bool, error) {
		refused = owner.Create(ctx, pod)
		return refused == nil, nil // the policies take effect moments after the suite applies them
	})
	if pod.Spec.NodeSelector[pool] != "gold" || pod.Spec.NodeSelector["kubernetes.io/arch"] != "arm64" {
		t.Errorf("the pod's node selector %v: want the tenant's pool and its own architecture", pod.Spec.NodeSelector)
	}
	if !tolerates(pod, render.TaintDedicated, "gold") || !tolerates(pod, "example.com/gpu", "") {
		t.Errorf("the pod's tolerations %v: want its own and the tenant's dedicated pool", pod.Spec.Tolerations)
	}

	checkDedicatedPoolsRefused(ctx, t, owner, other)
	checkPlacementRefusedWithoutMutation(ctx, t, owner)

	// Without the placement, nothing is written into new pods any more.
	if err := k8s.Patch(ctx, placed, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"placement":null}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the placement taken out of the namespace", func(ctx context.Context) (bool, error) {
		free := placementPod("placed", "free")
		if refused = owner.Create(ctx, free, client.DryRunAll); refused != nil {
			return false, nil
		}
		return len(free.Spec.NodeSelector) == 0 && !tolerates(free, render.TaintDedicated, "gold"), nil
	})
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "placed"}, ns); err != nil || ns.Annotations[render.AnnotationNodeSelector] != "" ||
		ns.Annotations[render.AnnotationTolerations] != "" || ns.Labels[render.TaintDedicated] != "" {
		t.Errorf("the placement outlived itself on the namespace: %v %v (%v)", ns.Labels, ns.Annotations, err)
	}
}

// checkDedicatedPoolsRefused: the placed tenant tolerates no other pool, nor every pool, and a tenant without
// placement tolerates none.
func checkDedicatedPoolsRefused(ctx context.Context, t *testing.T, owner, other client.Client) {
	t.Helper()
	for _, attempt := range []struct {
		what string
		c    client.Client
		pod  *corev1.Pod
	}{
		{"the tenant tolerates another pool", owner, placementPod("placed", "silver", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: render.TaintDedicated, Operator: corev1.TolerationOpEqual, Value: "silver"}}
		})},
		{"the tenant tolerates every pool", owner, placementPod("placed", "any", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: render.TaintDedicated, Operator: corev1.TolerationOpExists}}
		})},
		{"a tenant without placement tolerates a dedicated pool", other, placementPod("unplaced", "gold", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: render.TaintDedicated, Operator: corev1.TolerationOpEqual, Value: "gold"}}
		})},
	} {
		err := attempt.c.Create(ctx, attempt.pod, client.DryRunAll)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "pod-placement") {
			t.Errorf("%s: want the pod-placement guardrail's refusal, got %v", attempt.what, err)
		}
	}

}

// checkPlacementRefusedWithoutMutation: on a cluster without the mutating policy (before Kubernetes 1.36), the
// tenant-placement guardrail refuses a pod of the placed namespace that does not carry the node selector itself.
func checkPlacementRefusedWithoutMutation(ctx context.Context, t *testing.T, owner client.Client) {
	t.Helper()
	binding := &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "tenant-placement"}, binding); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		restored := &admissionregistrationv1.MutatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: binding.Name}, Spec: binding.Spec}
		if err := k8s.Create(context.Background(), restored); err != nil {
			t.Errorf("restoring the tenant-placement binding: %v", err)
		}
	})
	eventually(ctx, t, "a pod without the node selector refused by the tenant-placement guardrail", func(ctx context.Context) (bool, error) {
		err := owner.Create(ctx, placementPod("placed", "unplaced-pod"), client.DryRunAll)
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "ValidatingAdmissionPolicy 'tenant-placement'"), nil
	})
	if err := owner.Create(ctx, placementPod("placed", "placed-pod", func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{"node.example.com/pool": "gold"}
	}), client.DryRunAll); err != nil {
		t.Errorf("a pod carrying the node selector itself was refused: %v", err)
	}
}

// placementPod is a pod Pod Security restricted admits.
func placementPod(ns, name string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "w", Image: "registry.example/w:1", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func tolerates(p *corev1.Pod, key, value string) bool {
	for _, tol := range p.Spec.Tolerations {
		if tol.Key == key && tol.Value == value {
			return true
		}
	}
	return false
}
