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

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// The multi-tenancy benchmark's checks as its own tool runs them: it acts as the tenant, reads what comes back and
// inspects it, rather than reading the manifests.

// CC-FNS-1 and CC-FNS-2: the tenant's quota covers compute and storage, requests and limits, and the object counts,
// whatever the Tenant sets (alpha sets only some of them).
func TestMTBQuotaCoversEverything(t *testing.T) {
	skipShort(t)
	var quotas corev1.ResourceQuotaList
	if err := as(t, alphaOwner).List(context.Background(), &quotas, client.InNamespace(alphaNS)); err != nil {
		t.Fatal(err)
	}
	if len(quotas.Items) == 0 {
		t.Fatal("the tenant sees no ResourceQuota")
	}
	covered := map[corev1.ResourceName]bool{}
	for _, q := range quotas.Items {
		for name := range q.Spec.Hard {
			covered[name] = true
		}
	}
	for _, name := range []corev1.ResourceName{
		corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory,
		corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceServices, corev1.ResourceReplicationControllers, corev1.ResourceQuotas,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
	} {
		if !covered[name] {
			t.Errorf("%s: the tenant's quota does not cover %s", "CC-FNS", name)
		}
	}
}

// BC-OPS-3 and BC-OPS-4: owners hold every verb of the built-in admin role on Roles, RoleBindings and
// NetworkPolicies of their namespace, as SelfSubjectAccessReviews report it.
func TestMTBOwnerSelfService(t *testing.T) {
	skipShort(t)
	cs, err := kubernetes.NewForConfig(impersonating(alphaOwner))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ check, group, resource string }{
		{"BC-OPS-3", "rbac.authorization.k8s.io", "roles"},
		{"BC-OPS-3", "rbac.authorization.k8s.io", "rolebindings"},
		{"BC-OPS-4", "networking.k8s.io", "networkpolicies"},
	} {
		for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"} {
			review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: alphaNS, Group: r.group, Resource: r.resource, Verb: verb,
				}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !review.Status.Allowed {
				t.Errorf("%s: the owner may not %s %s", r.check, verb, r.resource)
			}
		}
	}
}

// deletecollection is the owner's, but the operator's policies survive it: each deletion of the collection is
// admitted on its own, and the guardrails refuse those of managed objects.
func TestMTBDeleteCollectionSparesManagedObjects(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	ctx := context.Background()
	// One object of the owner's own in the collection too.
	own := networkPolicy("own-disposable", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: ownPods}}})
	if err := owner.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	mustBlock(t, byPolicy("protect-managed-objects"), func(ctx context.Context) error {
		return owner.DeleteAllOf(ctx, &networkingv1.NetworkPolicy{}, client.InNamespace(alphaNS))
	})
	for _, name := range []string{render.PolicyDefaultDeny, render.PolicySameNamespace, render.PolicyDNS} {
		if err := admin.Get(ctx, client.ObjectKey{Namespace: alphaNS, Name: name}, &networkingv1.NetworkPolicy{}); err != nil {
			t.Errorf("managed NetworkPolicy %s after the owner's deletecollection: %v", name, err)
		}
	}
}

// CC-DI-1: every image a tenant pod runs is pulled with imagePullPolicy Always: the apiserver rewrites whatever the
// pod says, for containers, init containers and image volumes, so third-party charts that say IfNotPresent still work.
func TestMTBImagesAlwaysPulled(t *testing.T) {
	skipShort(t)
	pod := restrictedPod(alphaNS, "third-party", func(p *corev1.Pod) {
		container(p).ImagePullPolicy = corev1.PullIfNotPresent
		p.Spec.InitContainers = []corev1.Container{*container(p).DeepCopy()}
		p.Spec.InitContainers[0].Name = "init"
		p.Spec.InitContainers[0].ImagePullPolicy = corev1.PullNever
		p.Spec.Volumes = []corev1.Volume{{Name: "models", VolumeSource: corev1.VolumeSource{
			Image: &corev1.ImageVolumeSource{Reference: "registry.example/alpha/models:1", PullPolicy: corev1.PullIfNotPresent},
		}}}
	})
	if err := as(t, alphaOwner).Create(context.Background(), pod); err != nil {
		t.Fatalf("CC-DI-1: a pod saying IfNotPresent was refused: %v", err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), pod) })
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if c.ImagePullPolicy != corev1.PullAlways {
			t.Errorf("CC-DI-1: container %s runs with imagePullPolicy %s", c.Name, c.ImagePullPolicy)
		}
	}
	if got := pod.Spec.Volumes[0].Image.PullPolicy; got != corev1.PullAlways {
		t.Errorf("CC-DI-1: image volume pulled with %s", got)
	}
}
