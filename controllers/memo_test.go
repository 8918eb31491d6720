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
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestForgetDropsEverythingOfATenant: a deleted tenant leaves nothing in the process: its memo (phase, prune key,
// last status, claim, generated values, expectations) and its metric series go, another tenant's stay.
func TestForgetDropsEverythingOfATenant(t *testing.T) {
	r := &TenantReconciler{}
	for _, name := range []string{"forget-gone", "forget-kept"} {
		memo := r.memos.of(name)
		memo.phase, memo.prunedFor, memo.claimedNamespace = tenancyv1alpha1.TenantPhaseReady, "3", name
		memo.lastStatus = statusWrite{before: "1", status: "digest"}
		memo.secrets.remember(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}})
		memo.expectations.created("Secret/" + name + "/db")
		tenantPhase.WithLabelValues(name, string(tenancyv1alpha1.TenantPhaseReady)).Set(1)
		certificateExpiry.WithLabelValues(name).Set(1)
		certificateRenewal.WithLabelValues(name).Set(1)
		tenantCondition.WithLabelValues(name, tenancyv1alpha1.ConditionReady, "True").Set(1)
		secretRotations.WithLabelValues(name, "generated").Inc()
	}
	r.forget("forget-gone")
	if memo := r.memos.of("forget-gone"); memo.phase != "" || memo.prunedFor != "" || memo.claimedNamespace != "" ||
		memo.lastStatus != (statusWrite{}) || len(memo.secrets) != 0 || len(memo.expectations) != 0 {
		t.Errorf("the forgotten tenant's memo is still there: %+v", memo)
	}
	if memo := r.memos.of("forget-kept"); memo.prunedFor != "3" || len(memo.secrets) != 1 || !memo.expectations.pending("Secret/forget-kept/db") {
		t.Errorf("another tenant's memo was lost: %+v", memo)
	}
	if got := deleteSeries("forget-gone"); slices.Contains(got, true) {
		t.Errorf("the forgotten tenant's metric series are still there: %v", got)
	}
	if got := deleteSeries("forget-kept"); slices.Contains(got, false) {
		t.Errorf("another tenant's metric series were lost: %v", got)
	}
}

// deleteSeries deletes a tenant's series of each per-tenant metric, telling for each whether it was there.
func deleteSeries(tenant string) []bool {
	return []bool{
		tenantPhase.DeleteLabelValues(tenant, string(tenancyv1alpha1.TenantPhaseReady)),
		certificateExpiry.DeleteLabelValues(tenant),
		certificateRenewal.DeleteLabelValues(tenant),
		tenantCondition.DeleteLabelValues(tenant, tenancyv1alpha1.ConditionReady, "True"),
		secretRotations.DeleteLabelValues(tenant, "generated"),
	}
}

// TestPruneComesBackForWhatTheCacheHadNotShown: an object created moments before the spec stopped wanting it can be
// missing from the cache when the prune for the new spec lists; that prune used to be the last one for the spec, so
// the object stayed (an extra role's RoleBinding outlived its removal from the Tenant). Now the prune is not
// recorded as done while such an object is pending, and the next one deletes it.
func TestPruneComesBackForWhatTheCacheHadNotShown(t *testing.T) {
	ctx := context.Background()
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "lagging", Generation: 2}}
	tenant.Status.ObservedGeneration = 0 // not provisioned: no grants to revoke
	late := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "lagging", Name: "tenant-extra-x", Labels: render.ManagedLabels(tenant)},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "x"}}
	cache := fake.NewClientBuilder().WithScheme(NewScheme()).Build() // the cache, before it shows the binding
	r := &TenantReconciler{Client: cache}
	s := r.newScope(tenant)
	s.desired = &render.Desired{}
	s.memo.expectations.created(objectKey(late))

	if err := r.prune(ctx, s); err != nil || s.pruneErr != nil {
		t.Fatal(err, s.pruneErr)
	}
	if s.memo.prunedFor != "" {
		t.Fatalf("the prune was recorded as done (%q) while the binding it could not see was pending", s.memo.prunedFor)
	}
	if err := cache.Create(ctx, late); err != nil { // the cache catches up
		t.Fatal(err)
	}
	s = r.newScope(tenant)
	s.desired = &render.Desired{}
	if err := r.prune(ctx, s); err != nil || s.pruneErr != nil {
		t.Fatal(err, s.pruneErr)
	}
	if len(s.pruned) != 1 || s.pruned[0].GetName() != late.Name {
		t.Errorf("pruned %v, want the late binding", s.pruned)
	}
	if s.memo.prunedFor != pruneKey(tenant, nil, nil, nil) {
		t.Errorf("the prune that saw everything was not recorded: %q", s.memo.prunedFor)
	}
}
