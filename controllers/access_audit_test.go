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
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// TestAuditDue: a tenant is first audited in the second half of its first interval, at a point its name fixes, then
// an interval after each audit.
func TestAuditDue(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", CreationTimestamp: metav1.NewTime(created)}}
	first := auditDue(tenant, 24*time.Hour)
	if first.Before(created.Add(12*time.Hour)) || !first.Before(created.Add(24*time.Hour)) || !first.Equal(auditDue(tenant, 24*time.Hour)) {
		t.Errorf("first audit due %s, want a fixed point between 12h and 24h after creation", first)
	}
	other := tenant.DeepCopy()
	other.Name = "globex"
	if auditDue(other, 24*time.Hour).Equal(first) {
		t.Error("two tenants created together are audited together")
	}
	// Found long overdue (an upgrade): at a point of the next interval, the same on every pass.
	memo, now := &tenantMemo{}, created.Add(30*24*time.Hour)
	overdue := memo.nextAudit(tenant, 24*time.Hour, now)
	if overdue.Before(now) || !overdue.Before(now.Add(24*time.Hour)) || !memo.nextAudit(tenant, 24*time.Hour, now.Add(time.Minute)).Equal(overdue) {
		t.Errorf("an overdue tenant's first audit at %s, want a fixed point of the day after %s", overdue, now)
	}
	// Audited by this process: an interval after, whatever the status (not written yet) says.
	memo.audited = now
	if got := memo.nextAudit(tenant, 24*time.Hour, now); !got.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("after an audit the next at %s, want 24h later", got)
	}
	tenant.Status.Audit = &tenancyv1alpha1.AuditSummary{Time: metav1.NewTime(created.Add(30 * time.Hour))}
	if got := auditDue(tenant, 24*time.Hour); !got.Equal(created.Add(54 * time.Hour)) {
		t.Errorf("next audit due %s, want 24h after the last", got)
	}
}

// TestFindingEvents: an Event's note stays within the apiserver's limit, and a certificate counting down is the
// same finding.
func TestFindingEvents(t *testing.T) {
	if got := render.Truncate(strings.Repeat("é", 600), maxEventNote); len(got) > maxEventNote || !utf8.ValidString(got) {
		t.Errorf("truncated to %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	a := audit.Finding{Kind: audit.FindingCertificateExpiring, Detail: "expires in 3h"}
	b := audit.Finding{Kind: audit.FindingCertificateExpiring, Detail: "expires in 2h"}
	if findingKey(a) != findingKey(b) {
		t.Error("a certificate expiring is a new finding every audit")
	}
	if findingKey(audit.Finding{Kind: audit.FindingUnlistedSubject, Subject: "User a"}) == findingKey(audit.Finding{Kind: audit.FindingUnlistedSubject, Subject: "User b"}) {
		t.Error("two subjects are one finding")
	}
}

// TestAuditAccess: the operator's audit of a tenant, against the apiserver's own answers: the owner's colleague is
// a finding (with an Event and the metric), the owner is not, and the status says so in the Audited condition.
func TestAuditAccess(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("audited", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "olga@audited.example"}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, "")
	colleague := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "audited", Name: "colleague"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "colin@audited.example"}}}
	if err := impersonating(t, "olga@audited.example").Create(ctx, colleague); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatal(err)
	}

	events := &recordedEvents{}
	clock := tenant.CreationTimestamp.Add(24 * time.Hour) // the end of its first interval: its first audit is due
	r := &TenantReconciler{Client: k8s, APIReader: k8s, Recorder: events, Config: testConfig(), AuditInterval: 24 * time.Hour,
		Clock: func() time.Time { return clock }}
	s := r.newScope(tenant)
	s.memo.driftSinceAudit = 2 // two objects restored since
	if err := r.auditAccess(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.audit == nil || s.auditRetry != 24*time.Hour {
		t.Fatalf("audit %v, next in %s; want one, and the next in 24h", s.audit, s.auditRetry)
	}
	if s.audit.DriftCorrections != 2 || s.memo.driftSinceAudit != 0 {
		t.Errorf("drift corrections %d in the report, %d left to count; want 2, 0", s.audit.DriftCorrections, s.memo.driftSinceAudit)
	}
	flagged := make([]string, 0, len(s.audit.Findings))
	for _, f := range s.audit.Findings {
		flagged = append(flagged, f.Kind+" "+f.Subject)
	}
	if want := []string{audit.FindingUnlistedSubject + " User colin@audited.example"}; strings.Join(flagged, ",") != strings.Join(want, ",") {
		t.Errorf("findings %v, want %v", flagged, want)
	}
	if got := testutil.ToFloat64(auditFindings.WithLabelValues("audited")); got != 1 {
		t.Errorf("tenant_operator_audit_findings %v, want 1", got)
	}
	if len(events.notes) != 1 || !strings.Contains(events.notes[0], "colin@audited.example") {
		t.Errorf("events %v, want one AuditFinding naming the colleague", events.notes)
	}
	// The next audit, a day later, finds the same: no second Event.
	report := s.audit
	clock = clock.Add(24 * time.Hour)
	s.audit = nil
	if err := r.auditAccess(ctx, s); err != nil || s.audit == nil || len(events.notes) != 1 {
		t.Errorf("a second audit (ran %v) recorded %d events (err %v), want none new", s.audit != nil, len(events.notes)-1, err)
	}
	s.audit = report

	checkAuditedStatus(t, tenant, s.audit)
}

// checkAuditedStatus: the status of a tenant whose audit found the colleague says so.
func checkAuditedStatus(t *testing.T, tenant *tenancyv1alpha1.Tenant, report *audit.Report) {
	t.Helper()
	st := status.Compute(tenant, status.Inputs{QuotaEnforced: true, Audit: auditOutcome(report)})
	c := meta.FindStatusCondition(st.Conditions, tenancyv1alpha1.ConditionAudited)
	if st.Audit == nil || st.Audit.Findings != 1 || st.Audit.DriftCorrections != 2 {
		t.Errorf("status audit %+v, want 1 finding and 2 drift corrections", st.Audit)
	}
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != tenancyv1alpha1.ReasonAuditFindings ||
		!strings.Contains(c.Message, "UnlistedSubject User colin@audited.example") {
		t.Errorf("Audited condition %+v", c)
	}
}

// recordedEvents keeps the notes of the Events recorded.
type recordedEvents struct{ notes []string }

func (e *recordedEvents) Eventf(_ runtime.Object, _ runtime.Object, _, reason, _, note string, args ...interface{}) {
	e.notes = append(e.notes, reason+": "+fmt.Sprintf(note, args...))
}
