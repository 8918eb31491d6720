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
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestOperatorRoleIsLeastPrivilege checks the generated ClusterRole of the operator: no wildcards anywhere, and
// bind (escalate is not granted at all) only on the three tenant roles, by name.
func TestOperatorRoleIsLeastPrivilege(t *testing.T) {
	role := operatorRole(t)
	if len(role.Rules) == 0 {
		t.Fatal("no rules parsed")
	}
	tenantRoles := []string{render.TenantAdminRole, render.TenantDeveloperRole, render.TenantViewerRole}
	sawBind := false
	for _, r := range role.Rules {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames, r.NonResourceURLs} {
			if slices.Contains(list, "*") {
				t.Errorf("wildcard in rule %+v", r)
			}
		}
		if slices.Contains(r.Verbs, "escalate") || slices.Contains(r.Verbs, "impersonate") {
			t.Errorf("the operator must not hold escalate or impersonate: %+v", r)
		}
		if slices.Contains(r.Verbs, "bind") {
			sawBind = true
			names := slices.Clone(r.ResourceNames)
			slices.Sort(names)
			want := slices.Clone(tenantRoles)
			slices.Sort(want)
			if !slices.Equal(names, want) || !slices.Equal(r.Resources, []string{"clusterroles"}) || len(r.Verbs) != 1 {
				t.Errorf("bind must be limited to the tenant roles by name, alone in its rule: %+v", r)
			}
		}
	}
	if !sawBind {
		t.Error("the operator needs bind on the tenant roles to create their RoleBindings")
	}
}

// TestRoleCoversEveryManagedKind: the generated role grants the operator every verb it uses on each kind of the
// table of managed kinds, so that a kind added to the table without its RBAC marker fails here, not in a cluster.
func TestRoleCoversEveryManagedKind(t *testing.T) {
	role := operatorRole(t)
	granted := func(group, resource, verb string) bool {
		for _, r := range role.Rules {
			if len(r.ResourceNames) == 0 && slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, k := range managedKinds {
		// The table's RBAC names are those of its object's type.
		gvk, err := apiutil.GVKForObject(k.object, NewScheme())
		if err != nil {
			t.Fatal(err)
		}
		if gvr, _ := meta.UnsafeGuessKindToResource(gvk); gvr.Group != k.group || gvr.Resource != k.resource {
			t.Errorf("%s: the table names %q in group %q, the type is %s", k.kindName(), k.resource, k.group, gvr)
		}
		for _, verb := range managedVerbs {
			if !granted(k.group, k.resource, verb) {
				t.Errorf("the operator's role does not grant %s on %s (group %q), a managed kind (%s)", verb, k.resource, k.group, k.kindName())
			}
		}
	}
	// The check itself: a kind the role does not cover is found.
	if granted("example.com", "widgets", "get") {
		t.Error("the check finds grants that are not there")
	}
}

// operatorRole is the operator's ClusterRole as controller-gen generated it from the RBAC markers.
func operatorRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := sigsyaml.Unmarshal(data, role); err != nil {
		t.Fatal(err)
	}
	return role
}
