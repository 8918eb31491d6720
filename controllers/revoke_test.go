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
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// TestGrantsOfFormerOwners: a RoleBinding granted on the tenant's authority lives as long as its grantor is an
// owner, by name or through a group; bindings nobody recorded (cluster admins', the operator's) are never the
// tenant's to end, nor those of the namespace's own ServiceAccounts (whose authority is a binding of its own).
func TestGrantsOfFormerOwners(t *testing.T) {
	binding := func(name string, annotations map[string]string) rbacv1.RoleBinding {
		return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: annotations}}
	}
	grantedBy := func(user string, groups string) map[string]string {
		return map[string]string{AnnotationGrantedBy: user, AnnotationGrantedByGroups: groups}
	}
	bindings := []rbacv1.RoleBinding{
		binding("by-alice", grantedBy("alice", "system:authenticated")),
		binding("by-bob-through-admins", grantedBy("bob", "system:authenticated\nsso:admins")),
		binding("by-ci", grantedBy("system:serviceaccount:ci:deployer", "system:serviceaccounts")),
		binding("by-cluster-admin", nil),
		binding("by-mallory-other-annotations", map[string]string{"team": "x"}),
		binding("by-the-namespaces-ci", grantedBy("system:serviceaccount:ns:ci", "system:serviceaccounts\nsystem:serviceaccounts:ns")),
	}
	for _, tc := range []struct {
		name    string
		owners  []tenancyv1alpha1.Subject
		revoked []string
	}{
		{"every grantor still an owner", []tenancyv1alpha1.Subject{
			{Kind: tenancyv1alpha1.SubjectUser, Name: "alice"}, {Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:admins"},
			{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "deployer", Namespace: "ci"},
		}, nil},
		{"alice removed", []tenancyv1alpha1.Subject{
			{Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:admins"}, {Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "deployer", Namespace: "ci"},
		}, []string{"by-alice"}},
		{"the admins' group removed", []tenancyv1alpha1.Subject{
			{Kind: tenancyv1alpha1.SubjectUser, Name: "alice"}, {Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "deployer", Namespace: "ci"},
		}, []string{"by-bob-through-admins"}},
		{"a group everyone is in is not an owner", []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:admins"}},
			[]string{"by-alice", "by-ci"}},
		{"no owners left", nil, []string{"by-alice", "by-bob-through-admins", "by-ci"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, b := range grantsOfFormerOwners(bindings, tc.owners, "ns") {
				got = append(got, b.Name)
			}
			if !slices.Equal(got, tc.revoked) {
				t.Errorf("revoked %v, want %v", got, tc.revoked)
			}
		})
	}
}
