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

package status

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

func TestComputeStatus(t *testing.T) {
	plain := tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 3}}
	withBackend := *plain.DeepCopy()
	withBackend.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "img", Replicas: ptr.To[int32](2)}
	deployment := func(ready int32) *Backend {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 2, ReadyReplicas: ready}
		return &Backend{Deployment: d}
	}
	cannotStart := deployment(0)
	cannotStart.Failure = "pod backend-1, container backend: ImagePullBackOff: Back-off pulling image"
	conflict := map[render.Area]render.Problem{render.AreaSecrets: {Reason: tenancyv1alpha1.ReasonObjectConflict, Message: "Secret acme/db exists"}}
	forbiddenCIDR := map[render.Area]render.Problem{render.AreaNetwork: {Reason: tenancyv1alpha1.ReasonForbiddenCIDR, Message: "Egress was not opened to ..."}}

	tests := []struct {
		name        string
		tenant      tenancyv1alpha1.Tenant
		in          Inputs
		wantPhase   tenancyv1alpha1.TenantPhase
		wantFalse   string
		wantReason  string
		wantBackend string
	}{
		{"all applied, no back-end", plain, Inputs{QuotaEnforced: true}, tenancyv1alpha1.TenantPhaseReady, "", "", ""},
		{"quota not yet enforced", plain, Inputs{}, tenancyv1alpha1.TenantPhaseProvisioning,
			tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ReasonQuotaPending, ""},
		{"back-end not ready", withBackend, Inputs{QuotaEnforced: true, Backend: deployment(1)}, tenancyv1alpha1.TenantPhaseProvisioning,
			tenancyv1alpha1.ConditionBackendReady, tenancyv1alpha1.ReasonBackendUnavailable, "1/2"},
		{"back-end ready", withBackend, Inputs{QuotaEnforced: true, Backend: deployment(2)}, tenancyv1alpha1.TenantPhaseReady, "", "", "2/2"},
		{"object conflict fails the tenant", plain, Inputs{QuotaEnforced: true, Failures: conflict}, tenancyv1alpha1.TenantPhaseFailed,
			tenancyv1alpha1.ConditionSecretsReady, tenancyv1alpha1.ReasonObjectConflict, ""},
		{"a back-end that cannot start fails the tenant", withBackend, Inputs{QuotaEnforced: true, Backend: cannotStart}, tenancyv1alpha1.TenantPhaseFailed,
			tenancyv1alpha1.ConditionBackendReady, tenancyv1alpha1.ReasonBackendFailed, "0/2"},
		{"a forbidden egress CIDR fails the tenant", plain, Inputs{QuotaEnforced: true, Failures: forbiddenCIDR}, tenancyv1alpha1.TenantPhaseFailed,
			tenancyv1alpha1.ConditionNetworkIsolated, tenancyv1alpha1.ReasonForbiddenCIDR, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(&tt.tenant, tt.in)
			if got.Phase != tt.wantPhase || got.ObservedGeneration != 3 || got.Namespace != "acme" {
				t.Errorf("phase %s, observedGeneration %d, namespace %s", got.Phase, got.ObservedGeneration, got.Namespace)
			}
			if len(got.Conditions) != 7 {
				t.Errorf("want Ready and six area conditions, got %d", len(got.Conditions))
			}
			ready := meta.FindStatusCondition(got.Conditions, tenancyv1alpha1.ConditionReady)
			if (ready.Status == metav1.ConditionTrue) != (tt.wantPhase == tenancyv1alpha1.TenantPhaseReady) {
				t.Errorf("Ready = %s with phase %s", ready.Status, got.Phase)
			}
			if tt.wantFalse != "" {
				c := meta.FindStatusCondition(got.Conditions, tt.wantFalse)
				if c.Status != metav1.ConditionFalse || c.Reason != tt.wantReason {
					t.Errorf("%s = %s/%s, want False/%s", tt.wantFalse, c.Status, c.Reason, tt.wantReason)
				}
				// A failure is named on Ready in its own words; what is only under way is not.
				if failed := tt.wantPhase == tenancyv1alpha1.TenantPhaseFailed; failed != strings.Contains(ready.Message, c.Message) {
					t.Errorf("Ready message %q naming %q: %v, want %v", ready.Message, c.Message, !failed, failed)
				}
			}
			if tt.wantBackend != "" && (got.Backend == nil || got.Backend.Ready != tt.wantBackend) {
				t.Errorf("backend status = %+v, want ready %s", got.Backend, tt.wantBackend)
			}
			// Recomputing from the written status changes nothing: no status write, no timestamp churn.
			written := tt.tenant.DeepCopy()
			written.Status = got
			if !Equal(got, Compute(written, tt.in)) {
				t.Error("recomputing an up-to-date status must not change it")
			}
		})
	}
}

func TestFailedStatusOnNamespaceConflict(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 1}}
	s := Failed(tenant, render.Problem{Reason: tenancyv1alpha1.ReasonNamespaceConflict, Message: "taken"})
	c := meta.FindStatusCondition(s.Conditions, tenancyv1alpha1.ConditionReady)
	if s.Phase != tenancyv1alpha1.TenantPhaseFailed || c.Reason != tenancyv1alpha1.ReasonNamespaceConflict || c.Message != "taken" {
		t.Errorf("status = %+v", s)
	}
}

// TestErrorReasons: a pass ended in an error once per reason; a back-end rolling out, a quota not yet enforced and
// Ready's summary of them are waiting, not errors (tenant_operator_reconcile_errors_total used to count them on every
// pass, so its alert fired for every new tenant).
func TestErrorReasons(t *testing.T) {
	c := func(typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: st, Reason: reason}
	}
	f, tr := metav1.ConditionFalse, metav1.ConditionTrue
	for _, tc := range []struct {
		name       string
		conditions []metav1.Condition
		want       []string
	}{
		{"waiting", []metav1.Condition{
			c(tenancyv1alpha1.ConditionBackendReady, f, tenancyv1alpha1.ReasonBackendUnavailable),
			c(tenancyv1alpha1.ConditionQuotaEnforced, f, tenancyv1alpha1.ReasonQuotaPending),
			c(tenancyv1alpha1.ConditionReady, f, tenancyv1alpha1.ReasonNotReady),
			c(tenancyv1alpha1.ConditionSecretsReady, f, tenancyv1alpha1.ReasonProgressing),
		}, nil},
		{"terminating", []metav1.Condition{c(tenancyv1alpha1.ConditionReady, f, tenancyv1alpha1.ReasonTerminating)}, nil},
		{"ready", []metav1.Condition{
			c(tenancyv1alpha1.ConditionReady, tr, tenancyv1alpha1.ReasonReady),
			c(tenancyv1alpha1.ConditionBackendReady, tr, tenancyv1alpha1.ReasonNoBackend),
		}, nil},
		{"a conflict in two areas counts once", []metav1.Condition{
			c(tenancyv1alpha1.ConditionNetworkIsolated, f, tenancyv1alpha1.ReasonObjectConflict),
			c(tenancyv1alpha1.ConditionAccessConfigured, f, tenancyv1alpha1.ReasonObjectConflict),
			c(tenancyv1alpha1.ConditionReady, f, tenancyv1alpha1.ReasonNotReady),
		}, []string{tenancyv1alpha1.ReasonObjectConflict}},
		{"a namespace claimed by someone else counts once", Failed(&tenancyv1alpha1.Tenant{},
			render.Problem{Reason: tenancyv1alpha1.ReasonNamespaceConflict, Message: "taken"}).Conditions,
			[]string{tenancyv1alpha1.ReasonNamespaceConflict}},
		{"two errors, sorted", []metav1.Condition{
			c(tenancyv1alpha1.ConditionNetworkIsolated, f, tenancyv1alpha1.ReasonForbiddenCIDR),
			c(tenancyv1alpha1.ConditionDatabaseReady, f, tenancyv1alpha1.ReasonDatabaseUnreachable),
		}, []string{tenancyv1alpha1.ReasonDatabaseUnreachable, tenancyv1alpha1.ReasonForbiddenCIDR}},
	} {
		if got := ErrorReasons(tenancyv1alpha1.TenantStatus{Conditions: tc.conditions}); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSuspendedStatus: a suspended tenant is Suspended (Ready, reason Suspended) once no pod of its namespace runs,
// Suspending until then, and Failed still wins over both.
func TestSuspendedStatus(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 2}}
	tenant.Spec.Suspended = true
	conflict := map[render.Area]render.Problem{render.AreaSecrets: {Reason: tenancyv1alpha1.ReasonObjectConflict, Message: "Secret acme/db exists"}}
	for _, tc := range []struct {
		name        string
		in          Inputs
		phase       tenancyv1alpha1.TenantPhase
		ready       metav1.ConditionStatus
		reason, msg string
	}{
		{"stopped", Inputs{QuotaEnforced: true}, tenancyv1alpha1.TenantPhaseSuspended, metav1.ConditionTrue, tenancyv1alpha1.ReasonSuspended, "suspended"},
		{"pods still running", Inputs{QuotaEnforced: true, PodsRunning: 3}, tenancyv1alpha1.TenantPhaseProvisioning, metav1.ConditionFalse,
			tenancyv1alpha1.ReasonSuspending, "3 pod(s) still running"},
		{"quota not taken up yet", Inputs{}, tenancyv1alpha1.TenantPhaseProvisioning, metav1.ConditionFalse, tenancyv1alpha1.ReasonQuotaPending, "QuotaEnforced"},
		{"a failure", Inputs{QuotaEnforced: true, Failures: conflict}, tenancyv1alpha1.TenantPhaseFailed, metav1.ConditionFalse,
			tenancyv1alpha1.ReasonObjectConflict, "Secret acme/db exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(tenant, tc.in)
			ready := meta.FindStatusCondition(got.Conditions, tenancyv1alpha1.ConditionReady)
			if got.Phase != tc.phase || ready.Status != tc.ready || ready.Reason != tc.reason || !strings.Contains(ready.Message, tc.msg) {
				t.Errorf("phase %s, Ready %s %s %q; want %s, %s %s containing %q", got.Phase, ready.Status, ready.Reason, ready.Message,
					tc.phase, tc.ready, tc.reason, tc.msg)
			}
			access := meta.FindStatusCondition(got.Conditions, tenancyv1alpha1.ConditionAccessConfigured)
			if tc.phase != tenancyv1alpha1.TenantPhaseFailed && !strings.Contains(access.Message, "read-only") {
				t.Errorf("AccessConfigured %q does not say the people are read-only", access.Message)
			}
		})
	}
}

// TestCompliantStatus: Compliant lists every control, those not met first; it is False when one is not met, does not
// make the tenant not Ready, and goes away with the tenant's profiles.
func TestCompliantStatus(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 4}}
	tenant.Spec.Compliance = []tenancyv1alpha1.ComplianceProfile{tenancyv1alpha1.CompliancePCIDSS}
	controls := []render.ControlState{
		{Profile: tenancyv1alpha1.CompliancePCIDSS, Control: tenancyv1alpha1.ControlRestrictedEgress, Met: true, Detail: "no internet egress"},
		{Profile: tenancyv1alpha1.CompliancePCIDSS, Control: tenancyv1alpha1.ControlKeyRotation, Detail: "never rotated"},
	}
	got := Compute(tenant, Inputs{QuotaEnforced: true, Controls: controls})
	c := meta.FindStatusCondition(got.Conditions, tenancyv1alpha1.ConditionCompliant)
	want := "PCI-DSS KeyRotation NOT met: never rotated; PCI-DSS RestrictedEgress met: no internet egress"
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != tenancyv1alpha1.ReasonControlNotMet || c.Message != want || c.ObservedGeneration != 4 {
		t.Fatalf("Compliant = %+v, want False %s %q", c, tenancyv1alpha1.ReasonControlNotMet, want)
	}
	if got.Phase != tenancyv1alpha1.TenantPhaseReady {
		t.Errorf("phase %s: a control not met made the tenant not Ready", got.Phase)
	}
	controls[1].Met = true
	tenant.Status = got
	got = Compute(tenant, Inputs{QuotaEnforced: true, Controls: controls})
	if c := meta.FindStatusCondition(got.Conditions, tenancyv1alpha1.ConditionCompliant); c.Status != metav1.ConditionTrue || c.Reason != tenancyv1alpha1.ReasonControlsMet {
		t.Errorf("Compliant = %+v, want True %s", c, tenancyv1alpha1.ReasonControlsMet)
	}
	tenant.Status, tenant.Spec.Compliance = got, nil
	if c := meta.FindStatusCondition(Compute(tenant, Inputs{QuotaEnforced: true}).Conditions, tenancyv1alpha1.ConditionCompliant); c != nil {
		t.Errorf("Compliant %+v kept after the profiles were removed", c)
	}
}
