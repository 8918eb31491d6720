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

package render

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Names of the RoleBindings that give the tenant's people access.
const (
	BindingOwners  = "tenant-owners"
	BindingMembers = "tenant-members"
	BindingViewers = "tenant-viewers"
	// BindingSuspended binds the owners and members of a suspended tenant to the viewer role instead of theirs. It
	// has a name of its own: a RoleBinding's role cannot change, and the owners' binding must be gone, not edited.
	BindingSuspended = "tenant-suspended"
)

// desiredRoleBindings binds owners, members and viewers to the three tenant ClusterRoles inside the namespace; while
// the tenant is suspended, owners and members are bound to the viewer role only. A role with nobody in it gets no
// binding.
func desiredRoleBindings(t *tenancyv1alpha1.Tenant) []*rbacv1.RoleBinding {
	type binding struct {
		name, role string
		subjects   []tenancyv1alpha1.Subject
	}
	bindings := []binding{
		{BindingOwners, TenantAdminRole, t.Spec.Owners},
		{BindingMembers, TenantDeveloperRole, t.Spec.Members},
		{BindingViewers, TenantViewerRole, t.Spec.Viewers},
	}
	if t.Spec.Suspended {
		bindings = []binding{
			{BindingSuspended, TenantViewerRole, slices.Concat(t.Spec.Owners, t.Spec.Members)},
			{BindingViewers, TenantViewerRole, t.Spec.Viewers},
		}
	}
	var out []*rbacv1.RoleBinding
	for _, b := range bindings {
		if len(b.subjects) == 0 {
			continue
		}
		out = append(out, &rbacv1.RoleBinding{
			ObjectMeta: objectMeta(t, b.name),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: b.role},
			Subjects:   rbacSubjects(b.subjects),
		})
	}
	return out
}

// extraRoleBindingPrefix starts the names of the RoleBindings of spec.extraRoles.
const extraRoleBindingPrefix = "tenant-extra-"

// desiredExtraRoleBindings binds each ClusterRole of spec.extraRoles that the operator allows to the people it names,
// and returns the ones it does not allow. A role whose people are all empty lists gets no binding, and so does every
// role while the tenant is suspended: an extra role may write.
func desiredExtraRoleBindings(t *tenancyv1alpha1.Tenant, cfg Config) (bindings []*rbacv1.RoleBinding, refused []string) {
	people := map[tenancyv1alpha1.TenantRole][]tenancyv1alpha1.Subject{
		tenancyv1alpha1.TenantRoleOwners: t.Spec.Owners, tenancyv1alpha1.TenantRoleMembers: t.Spec.Members,
		tenancyv1alpha1.TenantRoleViewers: t.Spec.Viewers,
	}
	for _, e := range t.Spec.ExtraRoles {
		if !slices.Contains(cfg.ExtraRoles, e.ClusterRole) {
			refused = append(refused, e.ClusterRole)
			continue
		}
		var subjects []tenancyv1alpha1.Subject
		for _, role := range []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners, tenancyv1alpha1.TenantRoleMembers, tenancyv1alpha1.TenantRoleViewers} {
			if slices.Contains(e.To, role) {
				subjects = append(subjects, people[role]...)
			}
		}
		if len(subjects) == 0 || t.Spec.Suspended {
			continue
		}
		bindings = append(bindings, &rbacv1.RoleBinding{
			ObjectMeta: objectMeta(t, shortName(extraRoleBindingPrefix, e.ClusterRole, 253)), // ':' is valid in a RoleBinding name
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: e.ClusterRole},
			Subjects:   rbacSubjects(subjects),
		})
	}
	return bindings, refused
}

// ownerAccessName names the cluster-scoped role and binding that let a tenant's people read their own Tenant (the
// name is older than members and viewers having it too, and stays: it is the objects' identity).
func OwnerAccessName(t *tenancyv1alpha1.Tenant) string {
	return shortName("tenant-operator:owner:", t.Name, 253)
}

// desiredOwnerAccess lets the tenant's owners, members and viewers get their own Tenant (a cluster-scoped object) to
// read its status: a ClusterRole limited to that one name, and its binding. Nil for a tenant without people. Nobody
// but cluster admins may list Tenants: RBAC cannot filter a list by name.
func desiredOwnerAccess(t *tenancyv1alpha1.Tenant) (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding) {
	people := slices.Concat(t.Spec.Owners, t.Spec.Members, t.Spec.Viewers)
	if len(people) == 0 {
		return nil, nil
	}
	meta := metav1.ObjectMeta{Name: OwnerAccessName(t), Labels: ManagedLabels(t)}
	role := &rbacv1.ClusterRole{
		ObjectMeta: meta,
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{tenancyv1alpha1.GroupVersion.Group}, Resources: []string{"tenants"},
			ResourceNames: []string{t.Name}, Verbs: []string{"get", "watch"},
		}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: *meta.DeepCopy(),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: role.Name},
		Subjects:   rbacSubjects(people),
	}
	return role, binding
}

func rbacSubjects(in []tenancyv1alpha1.Subject) []rbacv1.Subject {
	out := make([]rbacv1.Subject, 0, len(in))
	for _, s := range in {
		sub := rbacv1.Subject{Kind: string(s.Kind), Name: s.Name}
		if s.Kind == tenancyv1alpha1.SubjectServiceAccount {
			sub.Namespace = s.Namespace
		} else {
			sub.APIGroup = rbacv1.GroupName
		}
		out = append(out, sub)
	}
	return out
}
