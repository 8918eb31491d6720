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
	"fmt"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestConcurrentClaimsOfOneNamespace: two Tenants naming the same new namespace, created at the same moment (a
// GitOps sync of a typo), again and again: exactly one wins, the other reports NamespaceConflict, and the loser left
// nothing in the winner's namespace, above all no access.
func TestConcurrentClaimsOfOneNamespace(t *testing.T) {
	ctx := needCluster(t)
	const rounds = 10
	for i := range rounds {
		ns := fmt.Sprintf("race-%d", i)
		pair := make([]*tenancyv1alpha1.Tenant, 0, 2)
		for _, side := range []string{"a", "b"} {
			pair = append(pair, newTenant(ns+"-"+side, withBackend, func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = ns }))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(pair))
		for j, tenant := range pair {
			wg.Go(func() { errs[j] = k8s.Create(ctx, tenant) })
		}
		wg.Wait()
		for j, tenant := range pair {
			if errs[j] != nil {
				t.Fatal(errs[j])
			}
			t.Cleanup(func() { _ = k8s.Delete(context.Background(), tenant) })
		}
		winner, loser := settleClaim(ctx, t, pair)
		checkNothingOf(ctx, t, ns, winner, loser)
	}
}

// settleClaim waits until one tenant of the pair holds the namespace and the other reports NamespaceConflict.
func settleClaim(ctx context.Context, t *testing.T, pair []*tenancyv1alpha1.Tenant) (winner, loser *tenancyv1alpha1.Tenant) {
	t.Helper()
	eventually(ctx, t, "one claim won, the other refused", func(ctx context.Context) (bool, error) {
		winner, loser = nil, nil
		for _, tenant := range pair {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
				return false, err
			}
			c := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionNamespaceReady)
			switch {
			case c == nil:
			case c.Status == metav1.ConditionTrue:
				winner = tenant
			case c.Reason == tenancyv1alpha1.ReasonNamespaceConflict:
				loser = tenant
			}
		}
		return winner != nil && loser != nil, nil
	})
	return winner, loser
}

// checkNothingOf checks that every object the operator created in ns is the winner's, that the loser's owners have
// no binding there, and that the loser got no cluster-wide owner access either.
func checkNothingOf(ctx context.Context, t *testing.T, ns string, winner, loser *tenancyv1alpha1.Tenant) {
	t.Helper()
	nsObj := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: ns}, nsObj); err != nil || nsObj.Labels[render.LabelTenant] != winner.Name {
		t.Errorf("namespace %s labelled for %q, want %s (%v)", ns, nsObj.Labels[render.LabelTenant], winner.Name, err)
	}
	lists := map[string]client.ObjectList{
		"NetworkPolicy": &networkingv1.NetworkPolicyList{}, "RoleBinding": &rbacv1.RoleBindingList{},
		"ResourceQuota": &corev1.ResourceQuotaList{}, "LimitRange": &corev1.LimitRangeList{}, "Secret": &corev1.SecretList{},
		"ServiceAccount": &corev1.ServiceAccountList{}, "Service": &corev1.ServiceList{},
	}
	for kind, list := range lists {
		if err := k8s.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{render.LabelTenant: loser.Name}); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(list); n > 0 {
			t.Errorf("the losing tenant %s left %d %s in %s", loser.Name, n, kind, ns)
		}
	}
	checkNoAccessFor(ctx, t, ns, loser.Spec.Owners[0].Name)
	err := k8s.Get(ctx, client.ObjectKey{Name: render.OwnerAccessName(loser)}, &rbacv1.ClusterRoleBinding{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the losing tenant %s got its owner access ClusterRoleBinding (%v)", loser.Name, err)
	}
}

// TestConflictsClearByThemselves: a Tenant stopped by someone else's namespace or object provisions once that is
// gone, with no edit and no restart.
func TestConflictsClearByThemselves(t *testing.T) {
	t.Run("namespace", func(t *testing.T) {
		ctx := needCluster(t)
		foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "in-the-way"}}
		if err := k8s.Create(ctx, foreign); err != nil {
			t.Fatal(err)
		}
		tenant := newTenant("waits-for-namespace", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "in-the-way" })
		createTenant(ctx, t, tenant)
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonNamespaceConflict)
		if err := k8s.Delete(ctx, foreign); err != nil {
			t.Fatal(err)
		}
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
	})
	t.Run("object", func(t *testing.T) {
		ctx := needCluster(t)
		tenant := newTenant("waits-for-object", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "api"}}
		})
		createTenant(ctx, t, tenant)
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		// The tenant's own Secret under a name the admin then gives a generated secret.
		mine := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "waits-for-object", Name: "later"}, StringData: map[string]string{"k": "v"}}
		if err := k8s.Create(ctx, mine); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			t.Fatal(err)
		}
		tenant.Spec.Secrets = append(tenant.Spec.Secrets, tenancyv1alpha1.GeneratedSecret{Name: "later"})
		if err := k8s.Update(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonObjectConflict)
		if err := k8s.Delete(ctx, mine); err != nil {
			t.Fatal(err)
		}
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionTrue, "")
	})
}

// TestBackendThatCannotStart: a back-end whose Deployment is past its progress deadline, or whose pods cannot pull
// their image, fails the tenant with the reason in its own words, instead of reading as starting forever.
func TestBackendThatCannotStart(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("never-starts", withBackend)
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionBackendReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonBackendUnavailable)
	ns := render.TenantNamespace(tenant)

	t.Run("progress deadline exceeded", func(t *testing.T) {
		setDeploymentConditions(ctx, t, ns, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
			Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "backend-5d8f" has timed out progressing.`})
		waitForFailure(ctx, t, tenant, "ProgressDeadlineExceeded")
		setDeploymentConditions(ctx, t, ns)
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionBackendReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonBackendUnavailable)
	})
	t.Run("image that cannot be pulled", func(t *testing.T) {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend-5d8f-x2x4q", Labels: render.BackendSelector(tenant)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: render.BackendName, Image: "registry.example/missing:1",
				SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				},
			}}}}
		if err := k8s.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		// The kubelet's report, played by the test: no node runs pods here.
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: render.BackendName, Image: pod.Spec.Containers[0].Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff",
				Message: `Back-off pulling image "registry.example/missing:1"`}}}}
		if err := k8s.Status().Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
		waitForFailure(ctx, t, tenant, "ImagePullBackOff")
	})
}

func setDeploymentConditions(ctx context.Context, t *testing.T, ns string, conditions ...appsv1.DeploymentCondition) {
	t.Helper()
	d := &appsv1.Deployment{}
	eventually(ctx, t, "deployment conditions set", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.BackendName}, d); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		d.Status.ObservedGeneration, d.Status.Conditions = d.Generation, conditions
		return k8s.Status().Update(ctx, d) == nil, nil
	})
}

// waitForFailure waits for the tenant to fail on its back-end, reason named on BackendReady and on Ready.
func waitForFailure(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant, reason string) {
	t.Helper()
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionBackendReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonBackendFailed)
	backend := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionBackendReady)
	ready := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionReady)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseFailed || !strings.Contains(backend.Message, reason) ||
		!strings.Contains(ready.Message, backend.Message) {
		t.Errorf("phase %s, BackendReady %q, Ready %q: want Failed, naming %s", tenant.Status.Phase, backend.Message, ready.Message, reason)
	}
}
