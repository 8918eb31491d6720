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
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// The bounds of the compliance controls. The CRD's CEL rules repeat the ones a Tenant can conflict with (2160h,
// 52608h, the CIDR prefixes): a change here changes them too.
const (
	// MaxSecretRotation: PCI-DSS 8.3.9, passwords changed at least every 90 days.
	MaxSecretRotation = 90 * 24 * time.Hour
	// MaxKeyRotation: PCI-DSS 3.7.4, a cryptoperiod of at most a year for data keys.
	MaxKeyRotation = 365 * 24 * time.Hour
	// MaxCertificateLifetime: PCI-DSS 4.2.1 asks for trusted certificates; public CAs issue for 398 days at most.
	MaxCertificateLifetime = 398 * 24 * time.Hour
	// MinPrefixIPv4 and MinPrefixIPv6: PCI-DSS 1.3.2 allows outbound traffic where it is needed; a wider allowed CIDR
	// is a part of the internet, not a destination.
	MinPrefixIPv4 = 16
	MinPrefixIPv6 = 48
	// MinRetention: HIPAA 164.316(b)(2)(i), six years, of which two may be leap years.
	MinRetention = (6*365 + 2) * 24 * time.Hour
)

// profileControls are the controls of each profile, in the order they are reported.
var profileControls = map[tenancyv1alpha1.ComplianceProfile][]string{
	tenancyv1alpha1.CompliancePCIDSS: {tenancyv1alpha1.ControlRestrictedEgress, tenancyv1alpha1.ControlSecretRotation, tenancyv1alpha1.ControlKeyRotation},
	tenancyv1alpha1.ComplianceHIPAA:  {tenancyv1alpha1.ControlMinimumRetention, tenancyv1alpha1.ControlEncryptionAtRest},
	tenancyv1alpha1.ComplianceGDPR:   {tenancyv1alpha1.ControlErasure, tenancyv1alpha1.ControlEncryptionAtRest},
}

// ControlState is whether one control of a tenant's compliance profile holds, and what shows it.
type ControlState struct {
	Profile tenancyv1alpha1.ComplianceProfile `json:"profile"`
	Control string                            `json:"control"`
	Met     bool                              `json:"met"`
	Detail  string                            `json:"detail"`
}

// String is the control as the Compliant condition lists it.
func (c ControlState) String() string {
	state := "met"
	if !c.Met {
		state = "NOT met"
	}
	return fmt.Sprintf("%s %s %s: %s", c.Profile, c.Control, state, c.Detail)
}

// hasProfile reports whether t names profile p.
func hasProfile(t *tenancyv1alpha1.Tenant, p tenancyv1alpha1.ComplianceProfile) bool {
	return slices.Contains(t.Spec.Compliance, p)
}

// WithCompliance is the tenant with what its profiles require where its spec (and class) leave a choice: under
// PCI-DSS, secrets and the database password without a rotation period rotate every 90 days, and internet egress and
// allowed CIDRs wider than MinPrefixIPv4/IPv6 (which only a class can give: the Tenant's own are refused at
// admission) are not opened. t itself is not changed.
func WithCompliance(t *tenancyv1alpha1.Tenant) *tenancyv1alpha1.Tenant {
	if !hasProfile(t, tenancyv1alpha1.CompliancePCIDSS) {
		return t
	}
	out := t.DeepCopy()
	spec := &out.Spec
	for i := range spec.Secrets {
		if spec.Secrets[i].RotationPeriod == nil {
			spec.Secrets[i].RotationPeriod = &metav1.Duration{Duration: MaxSecretRotation}
		}
	}
	if db := spec.Database; db != nil && db.RotationPeriod == nil {
		db.RotationPeriod = &metav1.Duration{Duration: MaxSecretRotation}
	}
	if n := spec.Network; n != nil && n.Egress != nil {
		n.Egress.AllowInternet = false
		n.Egress.AllowedCIDRs = slices.DeleteFunc(n.Egress.AllowedCIDRs, wideCIDR)
	}
	return out
}

// wideCIDR reports whether an egress CIDR is wider than PCI-DSS allows (an unparsable one is left to the network
// rules, which refuse it).
func wideCIDR(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	if p.Addr().Is4() {
		return p.Bits() < MinPrefixIPv4
	}
	return p.Bits() < MinPrefixIPv6
}

// EffectiveRetention is how long the namespace of t is kept once t is deleted with deletionPolicy Retain, and what
// then: its spec.retention, else under HIPAA six years and kept; nil for as long as the admin wants.
func EffectiveRetention(t *tenancyv1alpha1.Tenant) *tenancyv1alpha1.RetentionSpec {
	if r := t.Spec.Retention; r != nil {
		return r.DeepCopy()
	}
	if hasProfile(t, tenancyv1alpha1.ComplianceHIPAA) {
		return &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: MinRetention}, AfterPeriod: tenancyv1alpha1.RetentionKeep}
	}
	return nil
}

// Controls evaluates every control of t's compliance profiles on the tenant as it is rendered (with its class c
// and its profiles' requirements) and on the operator's settings cfg: sorted by profile, then in each profile's
// order. A control shared by profiles is listed under each.
func Controls(t *tenancyv1alpha1.Tenant, c *Class, cfg Config) []ControlState {
	profiles := slices.Clone(t.Spec.Compliance)
	slices.Sort(profiles)
	classed := WithClass(t, c)
	rendered := WithCompliance(classed)
	var out []ControlState
	for _, p := range slices.Compact(profiles) {
		for _, control := range profileControls[p] {
			met, detail := evaluate(control, classed, rendered, cfg)
			out = append(out, ControlState{Profile: p, Control: control, Met: met, Detail: detail})
		}
	}
	return out
}

// controlCheck checks one control: classed is the tenant with its class, rendered with its profiles' requirements
// too. It returns whether the control holds, and what shows it.
type controlCheck func(classed, rendered *tenancyv1alpha1.Tenant, cfg Config) (bool, string)

var controlChecks = map[string]controlCheck{
	tenancyv1alpha1.ControlRestrictedEgress: checkRestrictedEgress,
	tenancyv1alpha1.ControlSecretRotation:   checkSecretRotation,
	tenancyv1alpha1.ControlKeyRotation:      checkKeyRotation,
	tenancyv1alpha1.ControlEncryptionAtRest: checkEncryptionAtRest,
	tenancyv1alpha1.ControlMinimumRetention: checkMinimumRetention,
	tenancyv1alpha1.ControlErasure:          checkErasure,
}

func evaluate(control string, classed, rendered *tenancyv1alpha1.Tenant, cfg Config) (bool, string) {
	check, ok := controlChecks[control]
	if !ok {
		return false, "unknown control"
	}
	return check(classed, rendered, cfg)
}

// checkRestrictedEgress checks what the tenant is rendered with, and says what of its class's egress was held back.
func checkRestrictedEgress(classed, rendered *tenancyv1alpha1.Tenant, cfg Config) (bool, string) {
	cidrs, _ := egressCIDRs(rendered, cfg)
	if wide := slices.DeleteFunc(slices.Clone(cidrs), func(c string) bool { return !wideCIDR(c) }); internetEgress(rendered.Spec.Network) || len(wide) > 0 {
		return false, fmt.Sprintf("egress is open to the internet or to CIDRs wider than /%d (IPv4) or /%d (IPv6)", MinPrefixIPv4, MinPrefixIPv6)
	}
	detail := fmt.Sprintf("no internet egress; %d allowed CIDR(s), none wider than /%d (IPv4) or /%d (IPv6)", len(cidrs), MinPrefixIPv4, MinPrefixIPv6)
	if internetEgress(classed.Spec.Network) {
		detail += "; the class's internet egress is not opened"
	}
	if classCIDRs, _ := egressCIDRs(classed, cfg); len(classCIDRs) > len(cidrs) {
		detail += fmt.Sprintf("; %d CIDR(s) of the class too wide to open", len(classCIDRs)-len(cidrs))
	}
	return true, detail
}

func checkSecretRotation(_, rendered *tenancyv1alpha1.Tenant, _ Config) (bool, string) {
	spec := rendered.Spec
	var slow []string
	for _, s := range spec.Secrets {
		if s.RotationPeriod == nil || s.RotationPeriod.Duration > MaxSecretRotation {
			slow = append(slow, "secret "+s.Name)
		}
	}
	if db := spec.Database; db != nil && (db.RotationPeriod == nil || db.RotationPeriod.Duration > MaxSecretRotation) {
		slow = append(slow, "the database password")
	}
	if len(slow) > 0 {
		return false, fmt.Sprintf("%s rotate less often than every %s", strings.Join(slow, ", "), hours(MaxSecretRotation))
	}
	database := ""
	if spec.Database != nil {
		database = " and the database password"
	}
	return true, fmt.Sprintf("%d secret(s)%s rotate at least every %s", len(spec.Secrets), database, hours(MaxSecretRotation))
}

func checkKeyRotation(_, rendered *tenancyv1alpha1.Tenant, cfg Config) (bool, string) {
	if p := cfg.EncryptionKeyRotationPeriod; p <= 0 || p > MaxKeyRotation {
		return false, fmt.Sprintf("the operator's --encryption-key-rotation is %s, not at most %s", hours(p), hours(MaxKeyRotation))
	}
	if rendered.Spec.Backend != nil && cfg.CertificateLifetime > MaxCertificateLifetime {
		return false, fmt.Sprintf("the operator's --certificate-lifetime is %s, more than %s", hours(cfg.CertificateLifetime), hours(MaxCertificateLifetime))
	}
	return true, fmt.Sprintf("a new data key every %s; back-end certificates live %s", hours(cfg.EncryptionKeyRotationPeriod), hours(cfg.CertificateLifetime))
}

func checkEncryptionAtRest(_, _ *tenancyv1alpha1.Tenant, cfg Config) (bool, string) {
	if cfg.EncryptionKeyRotationPeriod <= 0 {
		return false, "the encryption key ring is never rotated (--encryption-key-rotation 0)"
	}
	return true, fmt.Sprintf("encryption key ring in Secret %s, a new key every %s", EncryptionKeyName, hours(cfg.EncryptionKeyRotationPeriod))
}

func checkMinimumRetention(_, rendered *tenancyv1alpha1.Tenant, _ Config) (bool, string) {
	r := EffectiveRetention(rendered)
	switch {
	case rendered.Spec.DeletionPolicy == tenancyv1alpha1.DeletionPolicyDelete:
		return false, "deletionPolicy Delete erases the data with the Tenant"
	case r == nil:
		return false, "a retained namespace has no retention period"
	case r.Period.Duration < MinRetention:
		return false, fmt.Sprintf("retained %s after deletion, less than %s", hours(r.Period.Duration), hours(MinRetention))
	}
	return true, fmt.Sprintf("retained %s after deletion, then %s", hours(r.Period.Duration), afterPeriod(r.AfterPeriod))
}

func checkErasure(_, rendered *tenancyv1alpha1.Tenant, _ Config) (bool, string) {
	if rendered.Spec.DeletionPolicy == tenancyv1alpha1.DeletionPolicyDelete {
		return true, "the namespace is deleted with the Tenant"
	}
	if r := EffectiveRetention(rendered); r != nil && r.AfterPeriod == tenancyv1alpha1.RetentionErase {
		return true, fmt.Sprintf("erased %s after deletion", hours(r.Period.Duration))
	}
	return false, "a retained namespace is kept until an admin deletes it"
}

func internetEgress(n *tenancyv1alpha1.NetworkSpec) bool {
	return n != nil && n.Egress != nil && n.Egress.AllowInternet
}

func afterPeriod(a tenancyv1alpha1.RetentionAction) string {
	if a == tenancyv1alpha1.RetentionErase {
		return "erased"
	}
	return "kept until an admin deletes it"
}

// hours writes a duration as the CRD's fields take it (2160h), never 2160h0m0s.
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
