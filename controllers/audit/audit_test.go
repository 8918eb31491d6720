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

package audit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

var rules = map[string][]rbacv1.PolicyRule{
	render.TenantAdminRole: {
		{APIGroups: []string{""}, Resources: []string{"pods", "secrets", "configmaps", "services", "serviceaccounts"}, Verbs: []string{"get", "list", "create", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
		{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles", "rolebindings"}, Verbs: []string{"create"}},
	},
	render.TenantViewerRole: {{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
	"wide":                  {{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
}

func binding(name, role string, grantedBy string, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	b := rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name},
		RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: role}, Subjects: subjects}
	if grantedBy == "" {
		b.Labels = map[string]string{render.LabelManagedBy: render.ManagedByValue}
	} else {
		b.Annotations = map[string]string{render.OperatorKeyPrefix + "granted-by": grantedBy}
	}
	return b
}

func user(name string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.UserKind, Name: name} }

// rbac answers reviews as the apiserver would for the bindings given, plus what extra says (a ClusterRoleBinding,
// say).
func rbac(bindings []rbacv1.RoleBinding, extra map[string][]string) Review {
	return func(s Subject, _ string, c Check) (bool, error) {
		if slices.Contains(extra[s.Name], c.String()) {
			return true, nil
		}
		for _, b := range bindings {
			bound := slices.ContainsFunc(b.Subjects, func(x rbacv1.Subject) bool { return x.Name == s.Name && string(s.Kind) == x.Kind })
			if bound && !c.Cluster && slices.ContainsFunc(rules[b.RoleRef.Name], func(r rbacv1.PolicyRule) bool { return ruleAllows(r, c) }) {
				return true, nil
			}
		}
		return false, nil
	}
}

// TestRun: a colleague an owner bound is flagged as a subject the Tenant does not name, an owner given more than the
// Tenant grants (a wide extra binding, a cluster-wide right) is flagged with what is beyond, and the Tenant's own
// people with exactly their roles are not.
func TestRun(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	tenant.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "alice"}}
	tenant.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "victor"}}
	bindings := []rbacv1.RoleBinding{
		binding(render.BindingOwners, render.TenantAdminRole, "", user("alice")),
		binding(render.BindingViewers, render.TenantViewerRole, "", user("victor")),
		binding("colleague", render.TenantViewerRole, "alice", user("carol")),
		binding("too-much", "wide", "mallory", user("victor")),
	}
	r, err := Run(Inputs{Tenant: tenant, RoleBindings: bindings, RoleRules: rules, Guardrails: prefixed(Guardrails), Now: now},
		rbac(bindings, map[string][]string{"alice": {"update tenants.tenancy.tenant-operator.dev"}}))
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Kind: FindingBeyondGrant, Subject: "User alice", Detail: "beyond what the Tenant grants its owners: can update tenants.tenancy.tenant-operator.dev"},
		{Kind: FindingBeyondGrant, Subject: "User victor"},
		{Kind: FindingUnlistedSubject, Subject: "User carol", Detail: "not named by the Tenant, bound by RoleBinding colleague (ClusterRole " +
			render.TenantViewerRole + ", granted by alice); can get pods"},
	}
	if len(r.Findings) != len(want) {
		t.Fatalf("findings %+v, want %d", r.Findings, len(want))
	}
	for i, f := range r.Findings {
		if f.Kind != want[i].Kind || f.Subject != want[i].Subject || (want[i].Detail != "" && f.Detail != want[i].Detail) {
			t.Errorf("finding %d = %+v, want %+v", i, f, want[i])
		}
	}
	if victor := r.Subjects[1]; !slices.Contains(victor.Beyond, "delete secrets") || slices.Contains(victor.Beyond, "get pods") {
		t.Errorf("victor beyond %v: want the wide binding's rights, not the viewer's", victor.Beyond)
	}
	if alice := r.Subjects[0]; !slices.Contains(alice.Allowed, "create pods/exec") || len(alice.Beyond) != 1 {
		t.Errorf("alice allowed %v, beyond %v", alice.Allowed, alice.Beyond)
	}
}

// TestRunSecretsGuardrailsCertificate: a rotation overdue (PCI-DSS's 90 days for a secret that sets none), a missing
// guardrail and a certificate whose renewal failed are findings; what is current is not.
func TestRunSecretsGuardrailsCertificate(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	tenant.Spec.Compliance = []tenancyv1alpha1.ComplianceProfile{tenancyv1alpha1.CompliancePCIDSS}
	tenant.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "api"}, {Name: "fresh"}}
	tenant.Status.Secrets = []tenancyv1alpha1.SecretStatus{
		{Name: "api", LastRotationTime: metav1.NewTime(now.Add(-91 * 24 * time.Hour))},
		{Name: "fresh", LastRotationTime: metav1.NewTime(now.Add(-time.Hour))},
	}
	r, err := Run(Inputs{Tenant: tenant, RoleRules: rules, Guardrails: prefixed(Guardrails[1:]), Now: now,
		CertificateNotAfter: now.Add(24 * time.Hour), CertificateLifetime: 90 * 24 * time.Hour}, rbac(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	kinds := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		kinds = append(kinds, f.Kind+": "+f.Detail)
	}
	got := strings.Join(kinds, "\n")
	for _, want := range []string{"GuardrailMissing: no ValidatingAdmissionPolicy protect-managed-objects", "RotationOverdue: secret api",
		"CertificateExpiring: the back-end certificate expires"} {
		if !strings.Contains(got, want) {
			t.Errorf("findings\n%s\ndo not say %q", got, want)
		}
	}
	if strings.Contains(got, "secret fresh") || len(r.Findings) != 3 {
		t.Errorf("findings\n%s\nwant exactly three", got)
	}
}

func prefixed(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, "tenant-operator-"+n)
	}
	return out
}

// TestGuardrailsAreThePolicies: the audit looks for every guardrail config/policies holds, and no other.
func TestGuardrailsAreThePolicies(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "config", "policies", "guardrails.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var names []string
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var p admissionregistrationv1.ValidatingAdmissionPolicy
		if err := dec.Decode(&p); err != nil {
			break
		}
		if p.Kind == "ValidatingAdmissionPolicy" {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(Guardrails))
	if !slices.Equal(names, want) {
		t.Errorf("config/policies/guardrails.yaml has %v, the audit looks for %v", names, want)
	}
}

// TestNamespaceGrant: a RoleBinding in the namespace can grant the namespace itself; beyond the tenant roles, it is
// flagged.
func TestNamespaceGrant(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	tenant.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "alice"}}
	bindings := []rbacv1.RoleBinding{binding(render.BindingOwners, render.TenantAdminRole, "", user("alice")), binding("ns-admin", "wide", "mallory", user("alice"))}
	r, err := Run(Inputs{Tenant: tenant, RoleBindings: bindings, RoleRules: rules, Guardrails: prefixed(Guardrails), Now: now}, rbac(bindings, nil))
	if err != nil {
		t.Fatal(err)
	}
	// rbac() answers cluster checks false: what matters is that the expectation of "delete namespaces" is the role's.
	if exp := expectedFor(tenant, nil, []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}, map[string][]rbacv1.PolicyRule{
		render.TenantAdminRole: {{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"delete"}}},
	}); !exp(Check{Resource: "namespaces", Verb: "delete", Cluster: true}) {
		t.Error("a tenant role granting its namespace's deletion is not expected to")
	}
	if len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Detail, "and ") {
		t.Errorf("findings %+v, want one BeyondGrant naming a few checks and how many more", r.Findings)
	}
}

// TestRuleAllows: RBAC's wildcards.
func TestRuleAllows(t *testing.T) {
	exec := Check{Resource: "pods", Subresource: "exec", Verb: "create"}
	for _, tc := range []struct {
		rule rbacv1.PolicyRule
		want bool
	}{
		{rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}}, true},
		{rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}}, false},
		{rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*/exec"}, Verbs: []string{"*"}}, true},
		{rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"*"}, Verbs: []string{"create"}}, true},
		{rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"*"}, Verbs: []string{"*"}}, false},
		{rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}, ResourceNames: []string{"one"}}, false},
	} {
		if got := ruleAllows(tc.rule, exec); got != tc.want {
			t.Errorf("%+v allows %s: %v, want %v", tc.rule, exec, got, tc.want)
		}
	}
}
