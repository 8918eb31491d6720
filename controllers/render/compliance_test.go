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
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func compliantTenant(profiles ...tenancyv1alpha1.ComplianceProfile) *tenancyv1alpha1.Tenant {
	t := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	t.Spec.Compliance = profiles
	return t
}

func internetClass() *Class {
	return &Class{Name: "open", Generation: 1, Spec: tenancyv1alpha1.TenantClassSpec{
		Network: &tenancyv1alpha1.ClassNetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowInternet: true,
			AllowedCIDRs: []string{"128.0.0.0/3", "203.0.113.0/24", "2001:db8::/32", "2001:db8:1::/48"}}},
	}}
}

// TestControls: each control of each profile, met and not met, as the Compliant condition lists them.
func TestControls(t *testing.T) {
	week := &metav1.Duration{Duration: 7 * 24 * time.Hour}
	tests := []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		class  *Class
		cfg    func(*Config)
		want   []string // "<profile> <control> met|NOT met: <detail substring>"
	}{{
		name: "PCI-DSS: a class's internet egress stays closed, secrets without a period rotate every 90 days",
		tenant: func() *tenancyv1alpha1.Tenant {
			t := compliantTenant(tenancyv1alpha1.CompliancePCIDSS)
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "api"}, {Name: "weekly", RotationPeriod: week}}
			return t
		}(),
		class: internetClass(),
		want: []string{
			"PCI-DSS RestrictedEgress met: no internet egress; 2 allowed CIDR(s), none wider than /16 (IPv4) or /48 (IPv6); " +
				"the class's internet egress is not opened; 2 CIDR(s) of the class too wide to open",
			"PCI-DSS SecretRotation met: 2 secret(s) rotate at least every 2160h",
			"PCI-DSS KeyRotation met: a new data key every 2160h; back-end certificates live 2160h",
		},
	}, {
		name:   "PCI-DSS: the operator adds data keys less than yearly",
		tenant: compliantTenant(tenancyv1alpha1.CompliancePCIDSS),
		cfg:    func(c *Config) { c.EncryptionKeyRotationPeriod = 2 * 365 * 24 * time.Hour },
		want: []string{
			"PCI-DSS RestrictedEgress met",
			"PCI-DSS SecretRotation met: 0 secret(s) rotate at least every 2160h",
			"PCI-DSS KeyRotation NOT met: the operator's --encryption-key-rotation is 17520h, not at most 8760h",
		},
	}, {
		name: "PCI-DSS: the operator's certificates live too long",
		tenant: func() *tenancyv1alpha1.Tenant {
			t := compliantTenant(tenancyv1alpha1.CompliancePCIDSS)
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x"}
			return t
		}(),
		cfg: func(c *Config) { c.CertificateLifetime = 2 * 365 * 24 * time.Hour },
		want: []string{
			"PCI-DSS RestrictedEgress met",
			"PCI-DSS SecretRotation met",
			"PCI-DSS KeyRotation NOT met: the operator's --certificate-lifetime is 17520h, more than 9552h",
		},
	}, {
		name:   "HIPAA without a retention: six years, kept",
		tenant: compliantTenant(tenancyv1alpha1.ComplianceHIPAA),
		want: []string{
			"HIPAA MinimumRetention met: retained 52608h after deletion, then kept until an admin deletes it",
			"HIPAA EncryptionAtRest met: encryption key ring in Secret encryption-key, a new key every 2160h",
		},
	}, {
		name: "HIPAA and GDPR: six years, then erased; no key rotation",
		tenant: func() *tenancyv1alpha1.Tenant {
			t := compliantTenant(tenancyv1alpha1.ComplianceHIPAA, tenancyv1alpha1.ComplianceGDPR)
			t.Spec.Retention = &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: MinRetention}, AfterPeriod: tenancyv1alpha1.RetentionErase}
			return t
		}(),
		cfg: func(c *Config) { c.EncryptionKeyRotationPeriod = 0 },
		want: []string{
			"GDPR Erasure met: erased 52608h after deletion",
			"GDPR EncryptionAtRest NOT met: the encryption key ring is never rotated",
			"HIPAA MinimumRetention met: retained 52608h after deletion, then erased",
			"HIPAA EncryptionAtRest NOT met",
		},
	}, {
		// What admission refuses is reported, not assumed away, should a Tenant ever hold it.
		name: "GDPR kept and HIPAA too short",
		tenant: func() *tenancyv1alpha1.Tenant {
			t := compliantTenant(tenancyv1alpha1.ComplianceGDPR, tenancyv1alpha1.ComplianceHIPAA)
			t.Spec.Retention = &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: 24 * time.Hour}, AfterPeriod: tenancyv1alpha1.RetentionKeep}
			return t
		}(),
		want: []string{
			"GDPR Erasure NOT met: a retained namespace is kept until an admin deletes it",
			"GDPR EncryptionAtRest met",
			"HIPAA MinimumRetention NOT met: retained 24h after deletion, less than 52608h",
			"HIPAA EncryptionAtRest met",
		},
	}, {
		name: "GDPR with deletionPolicy Delete",
		tenant: func() *tenancyv1alpha1.Tenant {
			t := compliantTenant(tenancyv1alpha1.ComplianceGDPR)
			t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyDelete
			return t
		}(),
		want: []string{"GDPR Erasure met: the namespace is deleted with the Tenant", "GDPR EncryptionAtRest met"},
	}, {
		name:   "no profiles, no controls",
		tenant: compliantTenant(),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			got := Controls(tt.tenant, tt.class, cfg)
			if len(got) != len(tt.want) {
				t.Fatalf("controls = %v, want %d", got, len(tt.want))
			}
			for i, c := range got {
				if !strings.HasPrefix(c.String(), tt.want[i]) {
					t.Errorf("control %d = %q, want it to start with %q", i, c, tt.want[i])
				}
			}
		})
	}
}

// TestRestrictedEgressCheck: the check looks at what the tenant is rendered with, not at what WithCompliance is
// meant to do to it.
func TestRestrictedEgressCheck(t *testing.T) {
	for name, egress := range map[string]*tenancyv1alpha1.EgressSpec{
		"internet":  {AllowInternet: true},
		"wide CIDR": {AllowedCIDRs: []string{"128.0.0.0/3"}},
	} {
		rendered := compliantTenant(tenancyv1alpha1.CompliancePCIDSS)
		rendered.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: egress}
		if met, detail := checkRestrictedEgress(rendered, rendered, testConfig()); met {
			t.Errorf("%s: met (%s)", name, detail)
		}
	}
}

// TestComplianceIsRendered: what the PCI-DSS controls set is what the tenant's objects get, not only what its
// status says: no internet egress policy from the class, secrets due for rotation after 90 days.
func TestComplianceIsRendered(t *testing.T) {
	tenant := compliantTenant(tenancyv1alpha1.CompliancePCIDSS)
	tenant.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "api"}}
	plain := renderWithClass(t, compliantTenant(), internetClass())
	if np := objectsOf[*networkingv1.NetworkPolicy](plain.Objects); !hasObject(np, PolicyEgressInternet) {
		t.Fatalf("without PCI-DSS the class opens internet egress: want %s among %v", PolicyEgressInternet, names(np))
	}
	d := renderWithClass(t, tenant, internetClass())
	np := objectsOf[*networkingv1.NetworkPolicy](d.Objects)
	if hasObject(np, PolicyEgressInternet) {
		t.Errorf("PCI-DSS tenant got %s from its class", PolicyEgressInternet)
	}
	for _, o := range np {
		if o.Obj.GetName() != PolicyEgressCIDRs {
			continue
		}
		var got []string
		for _, rule := range o.Obj.(*networkingv1.NetworkPolicy).Spec.Egress {
			for _, peer := range rule.To {
				got = append(got, peer.IPBlock.CIDR)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"2001:db8:1::/48", "203.0.113.0/24"}) {
			t.Errorf("PCI-DSS tenant's egress CIDRs %v, want the class's narrow ones only", got)
		}
	}
	if want := t0.Add(MaxSecretRotation); !d.RequeueAt.Equal(want) {
		t.Errorf("next rotation at %s, want %s (90 days after generation)", d.RequeueAt, want)
	}
	if tenant.Spec.Secrets[0].RotationPeriod != nil || tenant.Spec.Network != nil {
		t.Error("WithCompliance changed the Tenant it was given")
	}
}

// TestHoldIsKept: a Tenant that took back a held namespace renders it held until the period is over.
func TestHoldIsKept(t *testing.T) {
	hold := &Retention{RetainedAt: t0.Add(-time.Hour), Until: t0.Add(time.Hour), AfterPeriod: tenancyv1alpha1.RetentionKeep}
	for _, tc := range []struct {
		now  time.Time
		held bool
	}{{t0, true}, {t0.Add(time.Hour), false}} {
		d, err := DesiredState(compliantTenant(), testConfig(), Observed{Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: tc.now, Rand: newSeededRand(), Hold: hold})
		if err != nil {
			t.Fatal(err)
		}
		ns := find[*corev1.Namespace](t, d, "acme")
		if held := ns.Labels[LabelRetentionHold] == "true" && ns.Annotations[AnnotationRetention] != ""; held != tc.held {
			t.Errorf("at %s: held %v, want %v (labels %v)", tc.now, held, tc.held, ns.Labels)
		}
		if tc.held && !d.RequeueAt.Equal(hold.Until) {
			t.Errorf("next pass at %s, want the end of the hold %s", d.RequeueAt, hold.Until)
		}
	}
}

// TestRetention: what a retained namespace records, and what the retention controller reads back.
func TestRetention(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tenant := compliantTenant()
	if RetentionFor(tenant, at) != nil {
		t.Fatal("a tenant without retention or HIPAA got one")
	}
	tenant.Spec.Retention = &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: time.Hour}, AfterPeriod: tenancyv1alpha1.RetentionErase}
	tenant.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSchemaPerTenant}
	r := RetentionFor(tenant, at)
	if !r.Until.Equal(at.Add(time.Hour)) || r.Database == nil || r.Database.Role != "tenant_acme" || r.Database.Server != "main" {
		t.Fatalf("retention = %+v, want until %s with database role tenant_acme on main", r, at.Add(time.Hour))
	}
	ns := RetainedNamespace(tenant, nil, r)
	if _, held := ns.Labels[LabelRetentionHold]; held {
		t.Error("a namespace to erase is held")
	}
	if !slices.Equal(ns.Finalizers, []string{FinalizerEraseDatabase}) {
		t.Errorf("a namespace whose database is to be erased has finalizers %v", ns.Finalizers)
	}
	if back := RetentionOf(ns); back == nil || !back.Until.Equal(r.Until) || *back.Database != *r.Database {
		t.Errorf("read back %+v, want %+v", back, r)
	}

	tenant.Spec.Retention.AfterPeriod = tenancyv1alpha1.RetentionKeep
	kept := RetentionFor(tenant, at)
	if kept.Database != nil {
		t.Error("a kept namespace records its database for erasure")
	}
	kn := RetainedNamespace(tenant, nil, kept)
	if kn.Labels[LabelRetentionHold] != "true" || len(kn.Finalizers) != 0 {
		t.Errorf("a namespace kept at least its period: labels %v, finalizers %v; want held, none", kn.Labels, kn.Finalizers)
	}
	if h := Hold(kn); h == nil || !h.Until.Equal(kept.Until) {
		t.Errorf("hold of a kept namespace %+v, want until %s", h, kept.Until)
	}
	if Hold(ns) != nil {
		t.Error("a namespace to erase has a hold")
	}

	for name, annotations := range map[string]map[string]string{
		"not retained": {AnnotationRetention: ns.Annotations[AnnotationRetention]},
		"unreadable":   {AnnotationRetained: "true", AnnotationRetention: "{"},
		"no end":       {AnnotationRetained: "true", AnnotationRetention: `{"afterPeriod":"Erase"}`},
	} {
		if got := RetentionOf(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}}); got != nil {
			t.Errorf("%s: retention %+v, want none (kept)", name, got)
		}
	}
}

func hasObject(objects []Object, name string) bool {
	return slices.ContainsFunc(objects, func(o Object) bool { return o.Obj.GetName() == name })
}

func names(objects []Object) []string {
	out := make([]string, 0, len(objects))
	for _, o := range objects {
		out = append(out, o.Obj.GetName())
	}
	return out
}
