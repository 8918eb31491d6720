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
	"encoding/json"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// extractedOwnedHash is what ownedFieldsHash must agree with: client-go's Extract functions, which read the field
// set with the OpenAPI schema.
func extractedOwnedHash(obj client.Object) (string, error) {
	var owned any
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		owned, err = corev1ac.ExtractNamespace(o, FieldOwner)
	case *corev1.Secret:
		owned, err = corev1ac.ExtractSecret(o, FieldOwner)
	case *corev1.ServiceAccount:
		owned, err = corev1ac.ExtractServiceAccount(o, FieldOwner)
	case *corev1.Service:
		owned, err = corev1ac.ExtractService(o, FieldOwner)
	case *corev1.ResourceQuota:
		owned, err = corev1ac.ExtractResourceQuota(o, FieldOwner)
	case *corev1.LimitRange:
		owned, err = corev1ac.ExtractLimitRange(o, FieldOwner)
	case *networkingv1.NetworkPolicy:
		owned, err = networkingv1ac.ExtractNetworkPolicy(o, FieldOwner)
	case *rbacv1.RoleBinding:
		owned, err = rbacv1ac.ExtractRoleBinding(o, FieldOwner)
	case *rbacv1.ClusterRole:
		owned, err = rbacv1ac.ExtractClusterRole(o, FieldOwner)
	case *rbacv1.ClusterRoleBinding:
		owned, err = rbacv1ac.ExtractClusterRoleBinding(o, FieldOwner)
	case *appsv1.Deployment:
		owned, err = appsv1ac.ExtractDeployment(o, FieldOwner)
	case *policyv1.PodDisruptionBudget:
		owned, err = policyv1ac.ExtractPodDisruptionBudget(o, FieldOwner)
	default:
		return "", fmt.Errorf("no owned-field extraction for %T", obj)
	}
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(owned)
	if err != nil {
		return "", err
	}
	var content map[string]any
	if err := json.Unmarshal(b, &content); err != nil {
		return "", err
	}
	return contentHash(content)
}

// checkOwnedHashes compares ownedFieldsHash with client-go's Extract on every object of a tenant, as stored (with
// their managed fields), and returns how many it compared.
func checkOwnedHashes(ctx context.Context, t *testing.T, c client.Client, tenant *tenancyv1alpha1.Tenant) int {
	t.Helper()
	var objects []client.Object
	for _, l := range prunableLists() {
		opts := []client.ListOption{client.MatchingLabels{LabelTenant: tenant.Name}}
		if l.namespaced {
			opts = append(opts, client.InNamespace(tenantNamespace(tenant)))
		}
		if err := c.List(ctx, l.list, opts...); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, l.items()...)
	}
	ns := tenantNamespace(tenant)
	for key, obj := range map[client.ObjectKey]client.Object{
		{Name: ns}:                            &corev1.Namespace{},
		{Namespace: ns, Name: QuotaName}:      &corev1.ResourceQuota{},
		{Namespace: ns, Name: LimitRangeName}: &corev1.LimitRange{},
	} {
		if err := c.Get(ctx, key, obj); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, obj)
	}
	for _, obj := range objects {
		want, err := extractedOwnedHash(obj)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ownedFieldsHash(obj)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			content, _ := ownedContent(obj, FieldOwner)
			t.Errorf("%T %s: owned-fields hash %s, Extract gives %s; owned content %v", obj, obj.GetName(), got, want, content)
		}
	}
	return len(objects)
}

// TestOwnedContentWalksTheFieldSet covers the field set forms the tenants' objects do not use.
func TestOwnedContentWalksTheFieldSet(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "cr", ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: "someone-else", FieldsV1: metav1.NewFieldsV1(`{"f:rules":{}}`)},
		{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(
			`{"f:aggregationRule":{"f:clusterRoleSelectors":{"i:1":{}}},"f:metadata":{"f:finalizers":{"v:\"b\"":{}}}}`)},
	}, Finalizers: []string{"a", "b"}}
	cr := &rbacv1.ClusterRole{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"a": "1"}}, {MatchLabels: map[string]string{"b": "2"}}}}}
	got, err := ownedContent(cr, FieldOwner)
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
