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

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// extraRoleAllowed is the ClusterRole the suite's operator allows in spec.extraRoles (--extra-roles).
const extraRoleAllowed = "test-certificates-edit"

// allowed asks the apiserver whether user may do verb on resource (of group) in namespace.
func allowed(ctx context.Context, t *testing.T, user, verb, group, resource, namespace string) bool {
	t.Helper()
	return allowedOn(ctx, t, user, &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Group: group, Resource: resource})
}

func allowedOn(ctx context.Context, t *testing.T, user string, attributes *authorizationv1.ResourceAttributes) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attributes}}
	if err := k8s.Create(ctx, sar); err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

func createClusterRole(ctx context.Context, t *testing.T, role *rbacv1.ClusterRole) {
	t.Helper()
	if err := k8s.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), role) })
}

// TestExtraRoles: a ClusterRole the operator allows is bound in the tenant's namespace to the people spec.extraRoles
// names, and works there only; one it does not allow (cluster-admin) is never bound, and the tenant says why.
func TestExtraRoles(t *testing.T) {
	ctx := needCluster(t)
	createClusterRole(ctx, t, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: extraRoleAllowed},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: []string{"create", "get"}}},
	})
	tenant := newTenant("extra", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "ann@extra.example"}}
		t.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "vic@extra.example"}}
		t.Spec.ExtraRoles = []tenancyv1alpha1.ExtraRole{
			{ClusterRole: extraRoleAllowed, To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}},
			{ClusterRole: "cluster-admin", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}},
		}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionFalse, tenancyv1alpha1.ReasonExtraRoleNotAllowed)
	eventually(ctx, t, "the extra role bound", func(ctx context.Context) (bool, error) {
		return allowed(ctx, t, "ann@extra.example", "create", "cert-manager.io", "certificates", "extra"), nil
	})
	for _, denied := range []struct{ user, namespace, verb, group, resource string }{
		{"ann@extra.example", "default", "create", "cert-manager.io", "certificates"}, // only in the tenant's namespace
		{"vic@extra.example", "extra", "create", "cert-manager.io", "certificates"},   // only for the owners
		{"ann@extra.example", "extra", "create", "", "resourcequotas"},                // cluster-admin was not bound
	} {
		if allowed(ctx, t, denied.user, denied.verb, denied.group, denied.resource, denied.namespace) {
			t.Errorf("%s may %s %s in %s", denied.user, denied.verb, denied.resource, denied.namespace)
		}
	}
	var bindings rbacv1.RoleBindingList
	if err := k8s.List(ctx, &bindings, client.InNamespace("extra")); err != nil {
		t.Fatal(err)
	}
	for _, b := range bindings.Items {
		if b.RoleRef.Name == "cluster-admin" {
			t.Errorf("RoleBinding %s binds cluster-admin", b.Name)
		}
	}

	// Taking the refused role out makes the tenant whole; taking the allowed one out unbinds it.
	patch := client.MergeFrom(tenant.DeepCopy())
	tenant.Spec.ExtraRoles = nil
	if err := k8s.Patch(ctx, tenant, patch); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	eventually(ctx, t, "the extra role unbound", func(ctx context.Context) (bool, error) {
		return !allowed(ctx, t, "ann@extra.example", "create", "cert-manager.io", "certificates", "extra"), nil
	})
}

// TestTenantRolesAggregate: a ClusterRole an admin labels aggregate-to-<tenant role> extends that role for every
// tenant (no fork of the roles), in tenant namespaces only, and for that role's people only.
func TestTenantRolesAggregate(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("aggregated", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "ann@aggregated.example"}}
		t.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "vic@aggregated.example"}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	owner := func(ctx context.Context) bool {
		return allowed(ctx, t, "ann@aggregated.example", "create", "monitoring.coreos.com", "servicemonitors", "aggregated")
	}
	if owner(ctx) {
		t.Fatal("owners may create ServiceMonitors before any role grants it")
	}
	createClusterRole(ctx, t, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "test-servicemonitors-edit", Labels: map[string]string{
			"tenancy.tenant-operator.dev/aggregate-to-tenant-admin": "true",
		}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"servicemonitors"}, Verbs: []string{"create"}}},
	})
	eventually(ctx, t, "the owners' role extended", func(ctx context.Context) (bool, error) { return owner(ctx), nil })
	if allowed(ctx, t, "vic@aggregated.example", "create", "monitoring.coreos.com", "servicemonitors", "aggregated") ||
		allowed(ctx, t, "ann@aggregated.example", "create", "monitoring.coreos.com", "servicemonitors", "default") {
		t.Error("the extension reached viewers, or another namespace")
	}
}

// TestTenantPeopleReadTheirTenant: owners, members and viewers may get and watch their own Tenant by name; none may
// read another tenant's, and none may list Tenants (RBAC cannot filter a list: it would show every customer).
func TestTenantPeopleReadTheirTenant(t *testing.T) {
	ctx := needCluster(t)
	people := map[string]func(*tenancyv1alpha1.Tenant, tenancyv1alpha1.Subject){
		"owner@readers.example":  func(t *tenancyv1alpha1.Tenant, s tenancyv1alpha1.Subject) { t.Spec.Owners = append(t.Spec.Owners, s) },
		"member@readers.example": func(t *tenancyv1alpha1.Tenant, s tenancyv1alpha1.Subject) { t.Spec.Members = append(t.Spec.Members, s) },
		"viewer@readers.example": func(t *tenancyv1alpha1.Tenant, s tenancyv1alpha1.Subject) { t.Spec.Viewers = append(t.Spec.Viewers, s) },
	}
	tenant := newTenant("readers", func(tn *tenancyv1alpha1.Tenant) {
		tn.Spec.Owners = nil
		for user, add := range people {
			add(tn, tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectUser, Name: user})
		}
	})
	createTenant(ctx, t, tenant)
	other := newTenant("not-theirs")
	createTenant(ctx, t, other)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	tenants := func(verb, name string) *authorizationv1.ResourceAttributes {
		return &authorizationv1.ResourceAttributes{Verb: verb, Group: tenancyv1alpha1.GroupVersion.Group, Resource: "tenants", Name: name}
	}
	for user := range people {
		eventually(ctx, t, user+" reads the Tenant", func(ctx context.Context) (bool, error) {
			return allowedOn(ctx, t, user, tenants("get", "readers")) && allowedOn(ctx, t, user, tenants("watch", "readers")), nil
		})
		if allowedOn(ctx, t, user, tenants("get", "not-theirs")) || allowedOn(ctx, t, user, tenants("list", "")) ||
			allowedOn(ctx, t, user, tenants("update", "readers")) {
			t.Errorf("%s may read another Tenant, list Tenants or change its own", user)
		}
	}
}
