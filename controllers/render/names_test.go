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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// TestReservedMetadataKey: the keys no one but the operator may set on its objects (its own, Pod Security's), and
// some others may.
func TestReservedMetadataKey(t *testing.T) {
	for key, want := range map[string]bool{
		LabelManagedBy: true, LabelTenant: true, AnnotationGenerated: true, "pod-security.kubernetes.io/enforce": true,
		"app.kubernetes.io/name": false, "istio-injection": false, "deployment.kubernetes.io/revision": false,
		"tenancy.tenant-operator.dev": false,
	} {
		if got := ReservedMetadataKey(key); got != want {
			t.Errorf("ReservedMetadataKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestDatabaseRole: a role name fits PostgreSQL's 63 bytes, is stable, and a hashed one never equals a plain one
// (a Tenant named like a hash must not get a long-named Tenant's data).
func TestDatabaseRole(t *testing.T) {
	tenant := func(name string) *tenancyv1alpha1.Tenant {
		return &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	long := strings.Repeat("a", 63)
	hashed := DatabaseRole(tenant(long))
	for name, want := range map[string]string{"alpha": "tenant_alpha", strings.Repeat("b", 56): "tenant_" + strings.Repeat("b", 56)} {
		if got := DatabaseRole(tenant(name)); got != want {
			t.Errorf("DatabaseRole(%q) = %q, want %q", name, got, want)
		}
	}
	if len(hashed) > 63 || !strings.HasPrefix(hashed, "tenant_h_") || hashed != DatabaseRole(tenant(long)) {
		t.Errorf("DatabaseRole of a 63-character name = %q: want a stable tenant_h_ name of at most 63 bytes", hashed)
	}
	// The hash alone is a valid Tenant name.
	if hash := strings.TrimPrefix(hashed, "tenant_h_"); DatabaseRole(tenant(hash)) == hashed {
		t.Errorf("a Tenant named %q gets the role of a long-named one", hash)
	}
}
