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
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestDeletedWhileProvisioning: a Tenant deleted the moment its namespace exists, before the rest is in place:
// with Delete nothing is left behind; with Retain the namespace is locked down all the same (no bindings, no pods
// allowed, default-deny), however little of it had been provisioned.
func TestDeletedWhileProvisioning(t *testing.T) {
	for _, policy := range []tenancyv1alpha1.DeletionPolicy{tenancyv1alpha1.DeletionPolicyDelete, tenancyv1alpha1.DeletionPolicyRetain} {
		t.Run(string(policy), func(t *testing.T) {
			ctx := needCluster(t)
			name := map[tenancyv1alpha1.DeletionPolicy]string{
				tenancyv1alpha1.DeletionPolicyDelete: "cut-short-delete", tenancyv1alpha1.DeletionPolicyRetain: "cut-short-retain",
			}[policy]
			tenant := newTenant(name, withBackend, func(t *tenancyv1alpha1.Tenant) { t.Spec.DeletionPolicy = policy })
			if err := k8s.Create(ctx, tenant); err != nil {
				t.Fatal(err)
			}
			ns := &corev1.Namespace{}
			eventually(ctx, t, "namespace claimed", func(ctx context.Context) (bool, error) {
				err := k8s.Get(ctx, client.ObjectKey{Name: name}, ns)
				return err == nil, client.IgnoreNotFound(err)
			})
			if err := k8s.Delete(ctx, tenant); err != nil {
				t.Fatal(err)
			}
			if err := waitGone(ctx, tenant); err != nil {
				t.Fatal(err)
			}
			if err := k8s.Get(ctx, client.ObjectKey{Name: render.OwnerAccessName(tenant)}, &rbacv1.ClusterRoleBinding{}); !apierrors.IsNotFound(err) {
				t.Errorf("owner access outlived the tenant (%v)", err)
			}
			if policy == tenancyv1alpha1.DeletionPolicyDelete {
				if err := waitGone(ctx, ns); err != nil {
					t.Error(err)
				}
				return
			}
			checkLockedDown(ctx, t, name)
		})
	}
}

// checkLockedDown checks a retained namespace: marked retained, no RoleBinding, no pods allowed, the back-end (if it
// got that far) at zero, default-deny in force.
func checkLockedDown(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil || ns.Annotations[render.AnnotationRetained] != "true" {
		t.Fatalf("namespace not retained: %v (%v)", ns.Annotations, err)
	}
	var rbs rbacv1.RoleBindingList
	if err := k8s.List(ctx, &rbs, client.InNamespace(name)); err != nil || len(rbs.Items) != 0 {
		t.Errorf("%d RoleBindings left in the retained namespace (%v)", len(rbs.Items), err)
	}
	quota := &corev1.ResourceQuota{}
	err := k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: render.QuotaName}, quota)
	if pods, limited := quota.Spec.Hard[corev1.ResourcePods]; err != nil || !limited || !pods.IsZero() {
		t.Errorf("a retained namespace must allow no pods: quota %v (%v)", quota.Spec.Hard, err)
	}
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: render.BackendName}, d); err == nil && *d.Spec.Replicas != 0 {
		t.Errorf("back-end not scaled to zero: %d", *d.Spec.Replicas)
	}
	np := &networkingv1.NetworkPolicy{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: render.PolicyDefaultDeny}, np); err != nil {
		t.Errorf("a retained namespace must stay isolated: %v", err)
	}
}
