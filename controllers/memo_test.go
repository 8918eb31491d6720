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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
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
	}
	r.forget("forget-gone")
	if memo := r.memos.of("forget-gone"); memo.phase != "" || memo.prunedFor != "" || memo.claimedNamespace != "" ||
		memo.lastStatus != (statusWrite{}) || len(memo.secrets) != 0 || len(memo.expectations) != 0 {
		t.Errorf("the forgotten tenant's memo is still there: %+v", memo)
	}
	if memo := r.memos.of("forget-kept"); memo.prunedFor != "3" || len(memo.secrets) != 1 || !memo.expectations.pending("Secret/forget-kept/db") {
		t.Errorf("another tenant's memo was lost: %+v", memo)
	}
	ready := string(tenancyv1alpha1.TenantPhaseReady)
	if tenantPhase.DeleteLabelValues("forget-gone", ready) || certificateExpiry.DeleteLabelValues("forget-gone") {
		t.Error("the forgotten tenant's metric series are still there")
	}
	if !tenantPhase.DeleteLabelValues("forget-kept", ready) || !certificateExpiry.DeleteLabelValues("forget-kept") {
		t.Error("another tenant's metric series were lost")
	}
}
