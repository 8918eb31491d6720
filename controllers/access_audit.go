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
	"hash/fnv"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/accessreview"
	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// auditRetryAfterError is how long a tenant whose audit could not run waits for the next try.
const auditRetryAfterError = 10 * time.Minute

// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// auditDue is when the tenant's next access audit is due: an interval after the last one; for a tenant never
// audited, at a point of the second half of its first interval fixed by its name, so that tenants created together
// are not audited together, nor while they are being provisioned.
func auditDue(t *tenancyv1alpha1.Tenant, interval time.Duration) time.Time {
	if a := t.Status.Audit; a != nil {
		return a.Time.Add(interval)
	}
	return t.CreationTimestamp.Add(interval/2 + spread(t.Name, interval/2))
}

// spread is a point of [0, d) fixed by name.
func spread(name string, d time.Duration) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return time.Duration(int64(h.Sum32())%int64(max(d/time.Second, 1))) * time.Second
}

// nextAudit is when the tenant's next audit is due, as this process knows it: after the one it ran last (whose
// status write the cache may not show yet, or that a pass ending early did not write), and for tenants the
// operator finds overdue without ever having audited them (an upgrade, a long outage) at a point of the interval
// from when it first found them, so that they are not all audited at once.
func (m *tenantMemo) nextAudit(t *tenancyv1alpha1.Tenant, interval time.Duration, now time.Time) time.Time {
	due := auditDue(t, interval)
	if !m.audited.IsZero() && m.audited.Add(interval).After(due) {
		due = m.audited.Add(interval)
	}
	if t.Status.Audit == nil && m.audited.IsZero() && now.After(due.Add(interval/2)) {
		if m.firstAudit.IsZero() {
			m.firstAudit = now.Add(spread(t.Name, interval))
		}
		due = m.firstAudit
	}
	return due
}

// auditAccess runs the tenant's access audit when it is due (controllers/audit: SubjectAccessReviews for the
// tenant's people and everyone bound in its namespace, the guardrails in force, rotations, the certificate). An audit
// that cannot run is logged and tried again later: it never fails the pass.
func (r *TenantReconciler) auditAccess(ctx context.Context, s *tenantScope) error {
	if r.AuditInterval <= 0 {
		return nil
	}
	t, now := s.tenant, r.Clock()
	if due := s.memo.nextAudit(t, r.AuditInterval, now); now.Before(due) {
		s.auditRetry = due.Sub(now)
		if a := t.Status.Audit; a != nil {
			// After a restart, the last audit's count until the next.
			auditFindings.WithLabelValues(t.Name).Set(float64(a.Findings))
		}
		return nil
	}
	report, err := r.runAudit(ctx, s, now)
	if err != nil {
		logf.FromContext(ctx).Error(err, "Auditing the tenant's access; retrying later")
		s.auditRetry = auditRetryAfterError
		return nil
	}
	s.audit, s.auditRetry, s.memo.audited, s.memo.driftSinceAudit = report, r.AuditInterval, now, 0
	auditFindings.WithLabelValues(t.Name).Set(float64(len(report.Findings)))
	seen := map[string]bool{}
	for _, f := range report.Findings {
		key := findingKey(f)
		seen[key] = true
		if !s.memo.auditFindings[key] {
			r.event(t, corev1.EventTypeWarning, "AuditFinding", "Audit", render.Truncate(f.Kind+" "+f.Subject+": "+f.Detail, maxEventNote))
		}
	}
	s.memo.auditFindings = seen
	return nil
}

// maxEventNote keeps an Event's note under the apiserver's limit (1024 bytes).
const maxEventNote = 1000

// findingKey is what makes a finding the same as last time: its kind, subject and detail, but for a certificate
// expiring, whose detail counts down.
func findingKey(f audit.Finding) string {
	if f.Kind == audit.FindingCertificateExpiring {
		return f.Kind
	}
	return f.Kind + "\x00" + f.Subject + "\x00" + f.Detail
}

// runAudit gathers the audit's inputs and answers its reviews (accessreview).
func (r *TenantReconciler) runAudit(ctx context.Context, s *tenantScope, now time.Time) (*audit.Report, error) {
	// The rotation times this pass computed: a rotation it made is not overdue.
	t := s.tenant.DeepCopy()
	if s.desired != nil {
		t.Status.Secrets = s.desired.SecretTimes
	}
	in, err := accessreview.Gather(ctx, r.APIReader, t, allowedExtraRoles(render.WithClass(t, s.class).Spec.ExtraRoles, r.Config.ExtraRoles))
	if err != nil {
		return nil, err
	}
	in.Now, in.CertificateLifetime, in.DriftCorrections = now, r.Config.CertificateLifetime, s.memo.driftSinceAudit
	if tls := s.observed.Secrets[render.TLSSecretName]; tls != nil && t.Spec.Backend != nil {
		in.CertificateNotAfter, _ = time.Parse(time.RFC3339, tls.Annotations[render.AnnotationNotAfter])
	}
	return audit.Run(in, accessreview.Reviewer(ctx, r.Client, t.Name))
}

// allowedExtraRoles are the extra roles the operator binds: those its --extra-roles allows.
func allowedExtraRoles(roles []tenancyv1alpha1.ExtraRole, allowed []string) []tenancyv1alpha1.ExtraRole {
	out := []tenancyv1alpha1.ExtraRole{}
	for _, e := range roles {
		if slices.Contains(allowed, e.ClusterRole) {
			out = append(out, e)
		}
	}
	return out
}
