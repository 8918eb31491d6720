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

package ssa

import (
	"encoding/json"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOwnedContentWalksTheFieldSet covers the field set forms the tenants' objects do not use.
func TestOwnedContentWalksTheFieldSet(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "cr", ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: "someone-else", FieldsV1: metav1.NewFieldsV1(`{"f:rules":{}}`)},
		{Manager: testManager.Name, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(
			`{"f:aggregationRule":{"f:clusterRoleSelectors":{"i:1":{}}},"f:metadata":{"f:finalizers":{"v:\"b\"":{}}}}`)},
	}, Finalizers: []string{"a", "b"}}
	cr := &rbacv1.ClusterRole{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"a": "1"}}, {MatchLabels: map[string]string{"b": "2"}}}}}
	got, err := testManager.OwnedContent(cr)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"b":"2"}}]},"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"finalizers":["b"],"name":"cr"}}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("owned content\n%s\nwant\n%s", b, want)
	}
	if len(cr.ManagedFields) != 2 {
		t.Errorf("managed fields not restored: %v", cr.ManagedFields)
	}
}
