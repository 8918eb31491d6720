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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func TestComputeStatus(t *testing.T) {
	tests := []struct {
		name          string
		tenant        tenancyv1alpha1.Tenant
		wantNamespace string
	}{
		{
			name:          "namespace defaults to the tenant's name",
			tenant:        tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 3}},
			wantNamespace: "acme",
		},
		{
			name: "spec.namespace wins",
			tenant: tenancyv1alpha1.Tenant{
				ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 3},
				Spec:       tenancyv1alpha1.TenantSpec{Namespace: "acme-prod"},
			},
			wantNamespace: "acme-prod",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeStatus(&tt.tenant)
			if got.Namespace != tt.wantNamespace {
				t.Errorf("namespace = %q, want %q", got.Namespace, tt.wantNamespace)
			}
			if got.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d, want 3", got.ObservedGeneration)
			}
			if statusEqual(tt.tenant.Status, got) {
				t.Error("a fresh tenant's status must differ from the computed one, or it would never be written")
			}
			updated := tt.tenant.DeepCopy()
			updated.Status = got
			if !statusEqual(updated.Status, computeStatus(updated)) {
				t.Error("recomputing an up-to-date status must not change it (no rewrite when nothing changed)")
			}
		})
	}
}
