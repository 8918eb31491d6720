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
	"time"

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

// TestDatabaseSecretHeld: a held password stays as it is when its rotation is due; released, it rotates; and the
// Secret gives back the endpoint it was written for.
func TestDatabaseSecretHeld(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "alpha"}, Spec: tenancyv1alpha1.TenantSpec{
		Database: &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSharedSchema,
			RotationPeriod: &metav1.Duration{Duration: time.Hour}}}}
	ep := &DatabaseEndpoint{Host: "db.example", Port: 5432, CACert: []byte("ca"), EgressCIDRs: []string{"198.51.100.20/32"}, Database: "tenants"}
	first, _, err := desiredDatabaseSecret(tenant, ep, nil, false, t0, newSeededRand())
	if err != nil {
		t.Fatal(err)
	}
	due := t0.Add(2 * time.Hour)
	held, rotated, _ := desiredDatabaseSecret(tenant, ep, first, true, due, newSeededRand())
	if rotated || string(held.Data[DatabaseKeyPass]) != string(first.Data[DatabaseKeyPass]) {
		t.Error("a held password rotated")
	}
	released, rotated, _ := desiredDatabaseSecret(tenant, ep, first, false, due, newSeededRand())
	if !rotated || released.Annotations[AnnotationGenerated] == first.Annotations[AnnotationGenerated] {
		t.Error("a due password did not rotate")
	}
	if got := DatabaseEndpointFromSecret(first); got == nil || got.Host != ep.Host || got.Port != ep.Port ||
		got.Database != ep.Database || strings.Join(got.EgressCIDRs, ",") != "198.51.100.20/32" || string(got.CACert) != "ca" {
		t.Errorf("the endpoint of the Secret: %+v, want %+v", got, ep)
	}
}
