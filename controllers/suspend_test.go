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
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestSuspendStopsTheTenantAndResumeRestoresIt: suspending stops every pod of the namespace (the tenant's own
// included) and lets none start, scales the back-end to zero, and leaves the tenant's people, and whoever they granted
// access, able to read but to change nothing, RoleBindings of their own notwithstanding; a cluster admin who is not
// system:masters still can. Nothing is deleted, and resuming gives everything back.
func TestSuspendStopsTheTenantAndResumeRestoresIt(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("paused", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "oona@paused.example"}}
	})
	createTenant(ctx, t, tenant)
	simulateBackendReady(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	owner, colleague := impersonating(t, "oona@paused.example"), impersonating(t, "carl@paused.example")
	data := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "customer-data"}, Data: map[string]string{"k": "v"}}
	if err := owner.Create(ctx, data); err != nil {
		t.Fatal(err)
	}
	grants := grantAccessInside(ctx, t, owner, "paused", "carl@paused.example") // carl: tenant-developer, by the owner

	setSuspended(ctx, t, tenant, true)
	simulateBackendScaled(ctx, t, tenant, 0)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonSuspended)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseSuspended {
		t.Errorf("phase %s, want Suspended", tenant.Status.Phase)
	}
	worker := grants[3]
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(worker), &corev1.Pod{}); !apierrors.IsNotFound(err) {
		t.Errorf("the tenant's pod still runs: %v", err)
	}
	checkSuspended(ctx, t, map[string]client.Client{"the owner": owner, "the colleague the owner bound": colleague})
	for _, kept := range append([]client.Object{data}, grants[:3]...) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(kept), kept); err != nil || !kept.GetDeletionTimestamp().IsZero() {
			t.Errorf("%T %s was deleted by the suspension: %v", kept, kept.GetName(), err)
		}
	}
	// A cluster admin who may update Tenants (not system:masters: an SSO group bound to a role) may still act.
	admin := tenantAdmin(ctx, t)
	eventually(ctx, t, "a cluster admin writes in the suspended namespace", func(ctx context.Context) (bool, error) {
		err := admin.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "by-the-admin"}})
		return err == nil || apierrors.IsAlreadyExists(err), nil // RBAC takes up the new binding within moments
	})

	setSuspended(ctx, t, tenant, false)
	simulateBackendScaled(ctx, t, tenant, 2)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	eventually(ctx, t, "the owner and the colleague write again", func(ctx context.Context) (bool, error) {
		for i, c := range []client.Client{owner, colleague} {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "after-" + []string{"owner", "colleague"}[i]}}
			if err := c.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
				return false, nil
			}
		}
		return true, nil
	})
	quota := &corev1.ResourceQuota{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "paused", Name: render.QuotaName}, quota); err != nil || quota.Spec.Hard.Pods().IsZero() {
		t.Errorf("pods still not allowed after resuming: %v %v", quota.Spec.Hard, err)
	}
}

// simulateBackendScaled waits for the operator to scale the back-end to replicas, then plays the deployment
// controller and the kubelet: that many ready.
func simulateBackendScaled(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant, replicas int32) {
	t.Helper()
	eventually(ctx, t, fmt.Sprintf("back-end scaled to %d", replicas), func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(tenant), Name: render.BackendName}, d)
		return err == nil && *d.Spec.Replicas == replicas, err
	})
	simulateBackendReady(ctx, t, tenant)
}

func setSuspended(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant, suspended bool) {
	t.Helper()
	patch := []byte(`{"spec":{"suspended":false}}`)
	if suspended {
		patch = []byte(`{"spec":{"suspended":true}}`)
	}
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// checkSuspended: the namespace "paused" runs nothing, allows no pod, and the people given read the data but change
// nothing, exec into nothing.
func checkSuspended(ctx context.Context, t *testing.T, people map[string]client.Client) {
	t.Helper()
	checkStopped(ctx, t, "paused", "a suspended namespace")
	// RBAC would let the colleague write (the owner's binding stays): the guardrail is what refuses.
	err := people["the colleague the owner bound"].Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "new"}})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "suspended tenant") {
		t.Errorf("the colleague's write was not refused by the suspended-namespace guardrail: %v", err)
	}
	for who, c := range people {
		if err := c.Get(ctx, client.ObjectKey{Namespace: "paused", Name: "customer-data"}, &corev1.ConfigMap{}); err != nil {
			t.Errorf("%s cannot read the suspended namespace: %v", who, err)
		}
		for what, write := range map[string]func() error{
			"create a ConfigMap": func() error {
				return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "new"}})
			},
			"delete the data": func() error {
				return c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "customer-data"}})
			},
			"bind someone": func() error {
				return c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "more"},
					RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
					Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "eve@paused.example"}}})
			},
			"request a token": func() error {
				return c.SubResource("token").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "paused", Name: "robot"}},
					&authenticationv1.TokenRequest{})
			},
		} {
			if err := write(); !apierrors.IsForbidden(err) {
				t.Errorf("%s may %s in a suspended namespace (err %v)", who, what, err)
			}
		}
	}
}

// tenantAdmin is a client acting as a cluster admin who is not system:masters: a member of an SSO group bound to a
// ClusterRole that updates Tenants and writes ConfigMaps.
func tenantAdmin(ctx context.Context, t *testing.T) client.Client {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-tenancy-admin"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{tenancyv1alpha1.GroupVersion.Group}, Resources: []string{"tenants"}, Verbs: []string{"get", "update", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
	}}
	createClusterRole(ctx, t, role)
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-tenancy-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "sso:platform-admins"}}}
	if err := k8s.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), binding) })
	return impersonating(t, "pat@platform.example", "sso:platform-admins")
}
