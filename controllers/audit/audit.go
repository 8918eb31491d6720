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
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// Check is one thing a subject may or may not do: a verb on a resource (and subresource) of the tenant's namespace,
// or of the cluster (the tenant's own Tenant and namespace, impersonation).
type Check struct {
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Verb        string `json:"verb"`
	// Cluster is set for checks of cluster-scoped objects: the tenant's namespace itself (which a RoleBinding in it
	// can grant, as the apiserver reviews a namespace's own requests in it), its Tenant, impersonating users.
	Cluster bool `json:"cluster,omitempty"`
}

// String is the check as kubectl auth can-i names it: "create pods/exec", "update tenants.tenancy.tenant-operator.dev".
func (c Check) String() string {
	r := c.Resource
	if c.Group != "" {
		r += "." + c.Group
	}
	if c.Subresource != "" {
		r += "/" + c.Subresource
	}
	return c.Verb + " " + r
}

// Checks are the permissions that matter in a tenant: its secrets, its workloads and shells into them, its network
// policies, its RBAC (and the ways to escalate it), its quota and limits, tokens, and the cluster-scoped objects that
// would let it out of its namespace.
var Checks = slices.Concat(
	checks("", "secrets", "", "get", "list", verbCreate, verbDelete),
	checks("", "configmaps", "", verbCreate),
	checks("", resourcePods, "", "get", verbCreate, verbDelete),
	checks("", resourcePods, "exec", verbCreate),
	checks("", resourcePods, "portforward", verbCreate),
	checks("", "services", "", verbCreate),
	checks("", resourceServiceAccounts, "", verbCreate),
	checks("", resourceServiceAccounts, "token", verbCreate),
	checks("apps", "deployments", "", verbCreate, verbDelete),
	checks("networking.k8s.io", "networkpolicies", "", verbCreate, verbDelete),
	checks(rbacv1.GroupName, "roles", "", verbCreate, "escalate"),
	checks(rbacv1.GroupName, "rolebindings", "", verbCreate),
	checks(rbacv1.GroupName, "clusterroles", "", "bind"),
	checks("", "resourcequotas", "", verbUpdate),
	checks("", "limitranges", "", verbUpdate),
	clusterChecks("", "namespaces", verbUpdate, verbDelete),
	clusterChecks(tenancyv1alpha1.GroupVersion.Group, "tenants", verbUpdate),
	clusterChecks("", "users", verbImpersonate),
	checks("", resourceServiceAccounts, "", verbImpersonate),
)

const (
	verbCreate              = "create"
	verbDelete              = "delete"
	verbUpdate              = "update"
	verbImpersonate         = "impersonate"
	resourcePods            = "pods"
	resourceServiceAccounts = "serviceaccounts"
)

// checks are the checks of verbs on a namespaced resource (and subresource).
func checks(group, resource, subresource string, verbs ...string) []Check {
	out := make([]Check, 0, len(verbs))
	for _, v := range verbs {
		out = append(out, Check{Group: group, Resource: resource, Subresource: subresource, Verb: v})
	}
	return out
}

// clusterChecks are the checks of verbs on a cluster-scoped resource.
func clusterChecks(group, resource string, verbs ...string) []Check {
	out := checks(group, resource, "", verbs...)
	for i := range out {
		out[i].Cluster = true
	}
	return out
}

// Subject is someone the audit looks at.
type Subject struct {
	Kind      tenancyv1alpha1.SubjectKind `json:"kind"`
	Name      string                      `json:"name"`
	Namespace string                      `json:"namespace,omitempty"`
}

func (s Subject) String() string {
	if s.Kind == tenancyv1alpha1.SubjectServiceAccount {
		return fmt.Sprintf("ServiceAccount %s/%s", s.Namespace, s.Name)
	}
	return string(s.Kind) + " " + s.Name
}

// ReviewSpec is the part of a SubjectAccessReview that names subject, as the apiserver would authenticate it: users
// and groups with system:authenticated, ServiceAccounts with their groups too. Empty for a kind it does not know.
func ReviewSpec(subject Subject) authorizationv1.SubjectAccessReviewSpec {
	const authenticated = "system:authenticated"
	switch subject.Kind {
	case tenancyv1alpha1.SubjectUser:
		return authorizationv1.SubjectAccessReviewSpec{User: subject.Name, Groups: []string{authenticated}}
	case tenancyv1alpha1.SubjectGroup:
		return authorizationv1.SubjectAccessReviewSpec{Groups: []string{subject.Name, authenticated}}
	case tenancyv1alpha1.SubjectServiceAccount:
		return authorizationv1.SubjectAccessReviewSpec{User: "system:serviceaccount:" + subject.Namespace + ":" + subject.Name,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + subject.Namespace, authenticated}}
	}
	return authorizationv1.SubjectAccessReviewSpec{}
}

// Review answers whether subject may do check in namespace: the apiserver's SubjectAccessReview.
type Review func(subject Subject, namespace string, check Check) (bool, error)

// Inputs are what the audit reads: the Tenant, the RoleBindings of its namespace, the rules of the ClusterRoles those
// and the Tenant name (by ClusterRole name, as the cluster aggregated them), the guardrail policies in force, and the
// back-end certificate's expiry.
type Inputs struct {
	Tenant *tenancyv1alpha1.Tenant
	// ExtraRoles are the extra roles the tenant is bound to, as rendered (its class's included, those the operator
	// does not allow left out); the Tenant's own when nil.
	ExtraRoles   []tenancyv1alpha1.ExtraRole
	RoleBindings []rbacv1.RoleBinding
	RoleRules    map[string][]rbacv1.PolicyRule
	// Guardrails are the names of the ValidatingAdmissionPolicies bound with validationActions Deny.
	Guardrails []string
	// CertificateNotAfter is when the back-end certificate expires; zero without one.
	CertificateNotAfter time.Time
	// CertificateLifetime is the lifetime the operator issues certificates for.
	CertificateLifetime time.Duration
	// DriftCorrections are the tenant's objects found changed or deleted, and restored, since the last audit.
	DriftCorrections int
	Now              time.Time
}

// Grant is one way a subject is bound in the namespace.
type Grant struct {
	Binding string `json:"binding"`
	Role    string `json:"role"`
	// GrantedBy is who created the binding (grant tracking), when someone other than the operator did.
	GrantedBy string `json:"grantedBy,omitempty"`
}

// SubjectReport is what one subject can do.
type SubjectReport struct {
	Subject Subject `json:"subject"`
	// ListedAs are the Tenant's lists that name the subject (Owners, Members, Viewers); none for a subject bound by
	// someone else.
	ListedAs []tenancyv1alpha1.TenantRole `json:"listedAs,omitempty"`
	Grants   []Grant                      `json:"grants,omitempty"`
	// Allowed are the checks the apiserver allows; Beyond those of them the Tenant does not grant the subject.
	Allowed []string `json:"allowed"`
	Beyond  []string `json:"beyond,omitempty"`
}

// Finding is something the audit flags.
type Finding struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject,omitempty"`
	Detail  string `json:"detail"`
}

// Kinds of findings.
const (
	// FindingUnlistedSubject: a subject the Tenant does not name can do something in its namespace.
	FindingUnlistedSubject = "UnlistedSubject"
	// FindingBeyondGrant: a subject can do more than the Tenant grants it.
	FindingBeyondGrant = "BeyondGrant"
	// FindingGuardrailMissing: a guardrail policy is not in force.
	FindingGuardrailMissing = "GuardrailMissing"
	// FindingGuardrailNotEffective: a guardrail in force let the tenant's own owner through (the plugin's dry-run
	// attempts).
	FindingGuardrailNotEffective = "GuardrailNotEffective"
	// FindingRotationOverdue: a generated secret is older than its rotation period.
	FindingRotationOverdue = "RotationOverdue"
	// FindingCertificateExpiring: the back-end certificate is in the last sixth of its lifetime.
	FindingCertificateExpiring = "CertificateExpiring"
)

// SecretReport is a generated secret's age against its rotation period.
type SecretReport struct {
	Name           string    `json:"name"`
	LastRotated    time.Time `json:"lastRotated"`
	RotationPeriod string    `json:"rotationPeriod,omitempty"`
	Overdue        bool      `json:"overdue"`
}

// Report is the access audit of one tenant. It holds names and permissions, never a secret value.
type Report struct {
	Tenant     string          `json:"tenant"`
	Namespace  string          `json:"namespace"`
	Time       time.Time       `json:"time"`
	Subjects   []SubjectReport `json:"subjects"`
	Guardrails []string        `json:"guardrails"`
	Secrets    []SecretReport  `json:"secrets,omitempty"`
	// CertificateNotAfter is when the back-end certificate expires.
	CertificateNotAfter *time.Time `json:"certificateNotAfter,omitempty"`
	// DriftCorrections since the last audit: what someone changed of the operator's objects, and it restored.
	DriftCorrections int       `json:"driftCorrections"`
	Findings         []Finding `json:"findings"`
}

// Guardrails are the guardrail policies every cluster running the operator has in force, by the name they have in
// config/policies (kustomize and the chart prefix them).
var Guardrails = []string{
	"protect-managed-objects", "reserved-labels", "protect-managed-scale", "protect-backend-pods", "service-exposure",
	"networkpolicy-scope", "runtime-class", "prevent-deletion", "retention-hold", "tenant-class-in-use", "ingress-scope",
	"access-scope", "pod-placement", "tenant-placement", "priority-class", "disruption-budget", "suspended-namespace",
	"operator-scope",
}

// rotationGrace is how late a rotation may be before it is flagged: the operator rotates on its next pass.
const rotationGrace = time.Hour

// Run audits a tenant: every subject the Tenant names, and every other subject a RoleBinding of its namespace binds,
// is reviewed for each of Checks.
func Run(in Inputs, review Review) (*Report, error) {
	t := in.Tenant
	ns := render.TenantNamespace(t)
	r := &Report{Tenant: t.Name, Namespace: ns, Time: in.Now.UTC(), DriftCorrections: in.DriftCorrections, Findings: []Finding{}}
	for _, s := range subjectsOf(t, in.RoleBindings) {
		sr := SubjectReport{Subject: s.Subject, ListedAs: s.listedAs, Grants: s.grants, Allowed: []string{}}
		extraRoles := in.ExtraRoles
		if extraRoles == nil {
			extraRoles = t.Spec.ExtraRoles
		}
		expected := expectedFor(t, extraRoles, s.listedAs, in.RoleRules)
		for _, c := range Checks {
			ok, err := review(s.Subject, ns, c)
			if err != nil {
				return nil, fmt.Errorf("reviewing %s for %s: %w", c, s.Subject, err)
			}
			if !ok {
				continue
			}
			sr.Allowed = append(sr.Allowed, c.String())
			if !expected(c) {
				sr.Beyond = append(sr.Beyond, c.String())
			}
		}
		switch {
		case len(s.listedAs) == 0 && len(sr.Allowed) > 0:
			r.Findings = append(r.Findings, Finding{Kind: FindingUnlistedSubject, Subject: s.String(),
				Detail: fmt.Sprintf("not named by the Tenant, bound by %s; can %s", grantsText(s.grants), checksText(sr.Allowed))})
		case len(s.listedAs) > 0 && len(sr.Beyond) > 0:
			r.Findings = append(r.Findings, Finding{Kind: FindingBeyondGrant, Subject: s.String(),
				Detail: fmt.Sprintf("beyond what the Tenant grants its %s: can %s", listText(s.listedAs), checksText(sr.Beyond))})
		}
		r.Subjects = append(r.Subjects, sr)
	}
	r.Guardrails, r.Findings = guardrails(in.Guardrails, r.Findings)
	r.Secrets, r.Findings = secrets(t, in.Now, r.Findings)
	if !in.CertificateNotAfter.IsZero() {
		notAfter := in.CertificateNotAfter.UTC()
		r.CertificateNotAfter = &notAfter
		if left := notAfter.Sub(in.Now); left < in.CertificateLifetime/6 {
			r.Findings = append(r.Findings, Finding{Kind: FindingCertificateExpiring,
				Detail: fmt.Sprintf("the back-end certificate expires %s, in %s: renewal is failing", notAfter.Format(time.RFC3339), left.Round(time.Minute))})
		}
	}
	return r, nil
}

type subject struct {
	Subject
	listedAs []tenancyv1alpha1.TenantRole
	grants   []Grant
}

// subjectsOf are the Tenant's people, then every other subject bound in the namespace, in a stable order.
func subjectsOf(t *tenancyv1alpha1.Tenant, bindings []rbacv1.RoleBinding) []*subject {
	byKey := map[Subject]*subject{}
	var order []Subject
	get := func(s Subject) *subject {
		if _, ok := byKey[s]; !ok {
			byKey[s] = &subject{Subject: s}
			order = append(order, s)
		}
		return byKey[s]
	}
	for _, l := range []struct {
		role     tenancyv1alpha1.TenantRole
		subjects []tenancyv1alpha1.Subject
	}{{tenancyv1alpha1.TenantRoleOwners, t.Spec.Owners}, {tenancyv1alpha1.TenantRoleMembers, t.Spec.Members}, {tenancyv1alpha1.TenantRoleViewers, t.Spec.Viewers}} {
		for _, s := range l.subjects {
			e := get(Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace})
			e.listedAs = append(e.listedAs, l.role)
		}
	}
	sorted := slices.Clone(bindings)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, b := range sorted {
		for _, s := range b.Subjects {
			key := Subject{Kind: tenancyv1alpha1.SubjectKind(s.Kind), Name: s.Name}
			if s.Kind == rbacv1.ServiceAccountKind {
				key.Namespace = s.Namespace
				if key.Namespace == "" {
					key.Namespace = b.Namespace
				}
			}
			e := get(key)
			g := Grant{Binding: b.Name, Role: b.RoleRef.Kind + " " + b.RoleRef.Name}
			if b.Labels[render.LabelManagedBy] != render.ManagedByValue {
				g.GrantedBy = b.Annotations[render.OperatorKeyPrefix+"granted-by"]
				if g.GrantedBy == "" {
					g.GrantedBy = "unknown"
				}
			}
			e.grants = append(e.grants, g)
		}
	}
	out := make([]*subject, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	return out
}

// expectedFor is what the Tenant grants a subject on its lists: the rules of the role of each list (tenant-viewer
// for owners and members of a suspended tenant) and of the extra roles given to it. RoleBindings grant nothing
// cluster-wide.
func expectedFor(t *tenancyv1alpha1.Tenant, extraRoles []tenancyv1alpha1.ExtraRole, lists []tenancyv1alpha1.TenantRole,
	rules map[string][]rbacv1.PolicyRule) func(Check) bool {
	var roles []string
	for _, l := range lists {
		roles = append(roles, roleOf(t, l))
		if t.Spec.Suspended {
			continue
		}
		for _, e := range extraRoles {
			if slices.Contains(e.To, l) {
				roles = append(roles, e.ClusterRole)
			}
		}
	}
	return func(c Check) bool {
		if c.Cluster && c.Resource != "namespaces" {
			return false // a RoleBinding grants nothing cluster-wide
		}
		for _, role := range roles {
			if slices.ContainsFunc(rules[role], func(r rbacv1.PolicyRule) bool { return ruleAllows(r, c) }) {
				return true
			}
		}
		return false
	}
}

func roleOf(t *tenancyv1alpha1.Tenant, l tenancyv1alpha1.TenantRole) string {
	switch {
	case l == tenancyv1alpha1.TenantRoleViewers || t.Spec.Suspended:
		return render.TenantViewerRole
	case l == tenancyv1alpha1.TenantRoleMembers:
		return render.TenantDeveloperRole
	}
	return render.TenantAdminRole
}

// ruleAllows matches a rule against a check as RBAC does: "*" for any group, resource or verb, "*/sub" for a
// subresource of any resource; a rule limited to resource names grants no check (they name no object).
func ruleAllows(r rbacv1.PolicyRule, c Check) bool {
	if len(r.ResourceNames) > 0 {
		return false
	}
	resource := c.Resource
	if c.Subresource != "" {
		resource += "/" + c.Subresource
	}
	has := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	resourceOK := has(r.Resources, resource) || (c.Subresource != "" && slices.Contains(r.Resources, "*/"+c.Subresource))
	return has(r.APIGroups, c.Group) && resourceOK && has(r.Verbs, c.Verb)
}

// guardrails are the guardrail policies in force, by their base names, and a finding for each missing one.
func guardrails(inForce []string, findings []Finding) ([]string, []Finding) {
	var found []string
	for _, g := range Guardrails {
		if slices.ContainsFunc(inForce, func(name string) bool { return name == g || strings.HasSuffix(name, "-"+g) }) {
			found = append(found, g)
			continue
		}
		findings = append(findings, Finding{Kind: FindingGuardrailMissing, Detail: "no ValidatingAdmissionPolicy " + g + " is bound to deny"})
	}
	return found, findings
}

// secrets are the Tenant's generated secrets (and database password) against their rotation periods, as its
// compliance profiles make them, from the rotation times its status reports.
func secrets(t *tenancyv1alpha1.Tenant, now time.Time, findings []Finding) ([]SecretReport, []Finding) {
	periods := map[string]time.Duration{}
	rendered := render.WithCompliance(t)
	for _, s := range rendered.Spec.Secrets {
		if s.RotationPeriod != nil {
			periods[s.Name] = s.RotationPeriod.Duration
		}
	}
	if db := rendered.Spec.Database; db != nil && db.RotationPeriod != nil {
		periods[render.DatabaseSecretName] = db.RotationPeriod.Duration
	}
	out := make([]SecretReport, 0, len(t.Status.Secrets))
	for _, s := range t.Status.Secrets {
		sr := SecretReport{Name: s.Name, LastRotated: s.LastRotationTime.UTC()}
		if p, ok := periods[s.Name]; ok {
			sr.RotationPeriod = p.String()
			if now.Sub(s.LastRotationTime.Time) > p+rotationGrace {
				sr.Overdue = true
				findings = append(findings, Finding{Kind: FindingRotationOverdue,
					Detail: fmt.Sprintf("secret %s was last rotated %s, more than its rotation period %s ago", s.Name, s.LastRotationTime.UTC().Format(time.RFC3339), p)})
			}
		}
		out = append(out, sr)
	}
	return out, findings
}

// checksText names at most a few checks: a finding names the worst of them, the report all.
func checksText(checks []string) string {
	const shown = 6
	if len(checks) <= shown {
		return strings.Join(checks, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(checks[:shown], ", "), len(checks)-shown)
}

func grantsText(grants []Grant) string {
	parts := make([]string, 0, len(grants))
	for _, g := range grants {
		p := "RoleBinding " + g.Binding + " (" + g.Role
		if g.GrantedBy != "" {
			p += ", granted by " + g.GrantedBy
		}
		parts = append(parts, p+")")
	}
	return strings.Join(parts, ", ")
}

func listText(lists []tenancyv1alpha1.TenantRole) string {
	parts := make([]string, 0, len(lists))
	for _, l := range lists {
		parts = append(parts, strings.ToLower(string(l)))
	}
	return strings.Join(parts, " and ")
}
