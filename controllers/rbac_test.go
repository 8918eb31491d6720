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
	sigsyaml "sigs.k8s.io/yaml"
)

// TestOperatorRoleIsLeastPrivilege checks the generated ClusterRole of the operator: no wildcards anywhere, and
// bind (escalate is not granted at all) only on the three tenant roles, by name.
func TestOperatorRoleIsLeastPrivilege(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := sigsyaml.Unmarshal(data, role); err != nil {
		t.Fatal(err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("no rules parsed")
	}
	tenantRoles := []string{TenantAdminRole, TenantDeveloperRole, TenantViewerRole}
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
