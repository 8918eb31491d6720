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
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func withProfiles(p ...tenancyv1alpha1.ComplianceProfile) func(*tenancyv1alpha1.Tenant) {
	return func(t *tenancyv1alpha1.Tenant) { t.Spec.Compliance = p }
}

func retention(period time.Duration, then tenancyv1alpha1.RetentionAction) func(*tenancyv1alpha1.Tenant) {
	return func(t *tenancyv1alpha1.Tenant) {
		t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyRetain
		t.Spec.Retention = &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: period}, AfterPeriod: then}
	}
}

// TestComplianceValidation: a setting that conflicts with a control of the Tenant's profiles is refused at admission
// with a message naming the profile and the control; settings that satisfy them are accepted.
func TestComplianceValidation(t *testing.T) {
	ctx := needCluster(t)
	pci, hipaa, gdpr := tenancyv1alpha1.CompliancePCIDSS, tenancyv1alpha1.ComplianceHIPAA, tenancyv1alpha1.ComplianceGDPR
	sixYears := 52608 * time.Hour
	for _, tt := range []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		want   string
	}{
		{"PCI-DSS with internet egress", newTenant("pci-internet", withProfiles(pci), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowInternet: true}}
		}), "PCI-DSS RestrictedEgress"},
		{"PCI-DSS with an egress CIDR an eighth of the internet wide", newTenant("pci-wide", withProfiles(pci), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"203.0.113.0/24", "128.0.0.0/3"}}}
		}), "PCI-DSS RestrictedEgress"},
		{"PCI-DSS with an IPv6 egress CIDR wider than a site", newTenant("pci-wide6", withProfiles(pci), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"2001:db8::/32"}}}
		}), "PCI-DSS RestrictedEgress"},
		{"PCI-DSS with a secret rotated yearly", newTenant("pci-slow", withProfiles(pci), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "api", RotationPeriod: &metav1.Duration{Duration: 8760 * time.Hour}}}
		}), "PCI-DSS SecretRotation"},
		{"PCI-DSS with a database password rotated yearly", newTenant("pci-db", withProfiles(pci), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSharedSchema,
				RotationPeriod: &metav1.Duration{Duration: 8760 * time.Hour}}
		}), "PCI-DSS SecretRotation"},
		{"HIPAA with deletionPolicy Delete", newTenant("hipaa-delete", withProfiles(hipaa)), "HIPAA MinimumRetention"},
		{"HIPAA retained a year", newTenant("hipaa-short", withProfiles(hipaa), retention(8760*time.Hour, tenancyv1alpha1.RetentionKeep)), "HIPAA MinimumRetention"},
		{"GDPR retained without end", newTenant("gdpr-kept", withProfiles(gdpr), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyRetain
		}), "GDPR Erasure"},
		{"GDPR kept after its period", newTenant("gdpr-keep", withProfiles(gdpr), retention(time.Hour, tenancyv1alpha1.RetentionKeep)), "GDPR Erasure"},
		{"retention with deletionPolicy Delete", newTenant("retention-delete", retention(time.Hour, tenancyv1alpha1.RetentionErase), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyDelete
		}), "needs deletionPolicy Retain"},
		{"retention shorter than an hour", newTenant("retention-short", retention(time.Minute, tenancyv1alpha1.RetentionErase)), "at least 1h"},
		{"unknown profile", newTenant("sox", withProfiles("SOX")), "Unsupported value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := k8s.Create(ctx, tt.tenant)
			if err == nil {
				_ = k8s.Delete(ctx, tt.tenant)
				t.Fatalf("accepted; want a refusal naming %q", tt.want)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want Invalid naming %q", err, tt.want)
			}
		})
	}
	t.Run("settings that satisfy every profile are accepted", func(t *testing.T) {
		tenant := newTenant("all-profiles", withProfiles(pci, hipaa, gdpr), retention(sixYears, tenancyv1alpha1.RetentionErase), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"203.0.113.0/24"}}}
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "api", RotationPeriod: &metav1.Duration{Duration: 2160 * time.Hour}}, {Name: "unset"}}
		})
		createTenant(ctx, t, tenant)
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionCompliant, metav1.ConditionTrue, tenancyv1alpha1.ReasonControlsMet)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			t.Fatal(err)
		}
		c := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionCompliant)
		for _, want := range []string{"GDPR Erasure met: erased 52608h after deletion", "HIPAA MinimumRetention met: retained 52608h after deletion, then erased",
			"PCI-DSS RestrictedEgress met", "PCI-DSS SecretRotation met: 2 secret(s) rotate at least every 2160h", "PCI-DSS KeyRotation met"} {
			if !strings.Contains(c.Message, want) {
				t.Errorf("Compliant message %q does not say %q", c.Message, want)
			}
		}
		// HIPAA stays: without it, the Tenant could shorten its retention, or delete its data with itself.
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"compliance":["PCI-DSS","GDPR"]}}`))
		if err := k8s.Patch(ctx, tenant, patch); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "HIPAA cannot be removed") {
			t.Errorf("removing HIPAA: %v, want Invalid", err)
		}
		patch = client.RawPatch(types.MergePatchType, []byte(`{"spec":{"compliance":null}}`))
		if err := k8s.Patch(ctx, tenant, patch); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "HIPAA cannot be removed") {
			t.Errorf("removing every profile: %v, want Invalid", err)
		}
	})
}
