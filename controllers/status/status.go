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
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// Backend is the back-end's Deployment as found (nil: not created yet), and why it cannot start, if something says
// it cannot (BackendFailure).
type Backend struct {
	Deployment *appsv1.Deployment
	Failure    string
}

// Inputs is everything Compute needs, gathered by the reconciler.
type Inputs struct {
	// Failures are, per area, the first problem met rendering or applying its objects.
	Failures      map[render.Area]render.Problem
	Backend       *Backend
	QuotaEnforced bool
	Secrets       []tenancyv1alpha1.SecretStatus
	// PodsRunning counts the pods of a suspended tenant's namespace that have not been stopped yet.
	PodsRunning int
	// Class is the class generation the tenant was rendered with (and its namespace records); nil for none.
	Class *render.Class
	// Controls are the states of the controls of the tenant's compliance profiles (render.Controls).
	Controls []render.ControlState
	// Audit is the outcome of the access audit run in this pass; nil when none was due (the last one stands).
	Audit *Audit
}

// Audit is the outcome of an access audit: its counts, and each finding in words.
type Audit struct {
	Summary  tenancyv1alpha1.AuditSummary
	Findings []string
}

// appliedClass is the class generation the tenant's namespace records: while the namespace fails, the one reported
// before.
func appliedClass(t *tenancyv1alpha1.Tenant, in Inputs) *tenancyv1alpha1.AppliedClass {
	if _, failed := in.Failures[render.AreaNamespace]; failed {
		return t.Status.Class.DeepCopy()
	}
	if c := in.Class; c != nil {
		return &tenancyv1alpha1.AppliedClass{Name: c.Name, Generation: c.Generation}
	}
	return nil
}

// Compute derives the tenant's status from what the reconcile pass found. It is pure: same inputs, same
// status, with condition times kept from the current status whenever a condition did not change.
func Compute(t *tenancyv1alpha1.Tenant, in Inputs) tenancyv1alpha1.TenantStatus {
	s := tenancyv1alpha1.TenantStatus{
		ObservedGeneration: t.Generation,
		Namespace:          render.TenantNamespace(t),
		Conditions:         append([]metav1.Condition(nil), t.Status.Conditions...),
		Secrets:            in.Secrets,
		Class:              appliedClass(t, in),
	}
	set := func(a render.Area, ok bool, reason, message string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{
			Type: string(a), Status: status, Reason: reason, Message: message, ObservedGeneration: t.Generation,
		})
	}
	var notReady, failures []string
	// Ready's reason is that of the first area that failed, else of the first area not ready yet: what kubectl get
	// tenants -o wide, and the alerts by reason, show.
	var failedReason, waitingReason string
	for _, a := range render.Areas {
		if a == render.AreaDatabase && t.Spec.Database == nil {
			continue // reported only for the tenants that asked for a database
		}
		ok, reason, message := areaCondition(t, a, in)
		if p, bad := in.Failures[a]; bad {
			ok, reason, message = false, p.Reason, p.Message
		}
		set(a, ok, reason, message)
		if !ok {
			notReady = append(notReady, string(a))
			if waitingReason == "" {
				waitingReason = reason
			}
		}
		if failureReasons[reason] {
			failures = append(failures, string(a)+": "+message)
			if failedReason == "" {
				failedReason = reason
			}
		}
	}
	setCompliant(t, &s, in.Controls)
	setAudited(t, &s, in.Audit)
	if b := in.Backend; b != nil && b.Deployment != nil {
		s.Backend = &tenancyv1alpha1.BackendStatus{
			Ready:         fmt.Sprintf("%d/%d", b.Deployment.Status.ReadyReplicas, ptr.Deref(b.Deployment.Spec.Replicas, 1)),
			Replicas:      ptr.Deref(b.Deployment.Spec.Replicas, 1),
			ReadyReplicas: b.Deployment.Status.ReadyReplicas,
			Image:         t.Spec.Backend.Image,
		}
	}
	switch {
	case len(notReady) == 0 && t.Spec.Suspended && in.PodsRunning > 0:
		set(tenancyv1alpha1.ConditionReady, false, tenancyv1alpha1.ReasonSuspending,
			fmt.Sprintf("Suspending: %d pod(s) still running", in.PodsRunning))
		s.Phase = tenancyv1alpha1.TenantPhaseProvisioning
	case len(notReady) == 0 && t.Spec.Suspended:
		set(tenancyv1alpha1.ConditionReady, true, tenancyv1alpha1.ReasonSuspended,
			"The tenant is suspended: no pod runs, its people have read-only access, its data is kept")
		s.Phase = tenancyv1alpha1.TenantPhaseSuspended
	case len(notReady) == 0:
		set(tenancyv1alpha1.ConditionReady, true, tenancyv1alpha1.ReasonReady, "The tenant is provisioned")
		s.Phase = tenancyv1alpha1.TenantPhaseReady
	case len(failures) > 0:
		// What failed, in its own words: the admin (and Argo CD's health message) reads it on the Tenant.
		set(tenancyv1alpha1.ConditionReady, false, failedReason,
			"Not ready: "+strings.Join(notReady, ", ")+". "+strings.Join(failures, "; "))
		s.Phase = tenancyv1alpha1.TenantPhaseFailed
	default:
		set(tenancyv1alpha1.ConditionReady, false, waitingReason, "Not ready: "+strings.Join(notReady, ", "))
		s.Phase = tenancyv1alpha1.TenantPhaseProvisioning
	}
	sortConditions(s.Conditions)
	return s
}

// maxConditionMessage is the CRD's bound on a condition's message.
const maxConditionMessage = 32768

// setAudited records the outcome of an access audit: the summary, and the Audited condition listing the findings. With
// no audit this pass, the last one stands.
func setAudited(t *tenancyv1alpha1.Tenant, s *tenancyv1alpha1.TenantStatus, a *Audit) {
	if a == nil {
		s.Audit = t.Status.Audit.DeepCopy()
		return
	}
	summary := a.Summary
	s.Audit = &summary
	c := metav1.Condition{Type: tenancyv1alpha1.ConditionAudited, Status: metav1.ConditionTrue, Reason: tenancyv1alpha1.ReasonNoFindings,
		Message: fmt.Sprintf("Audited %s: %d subject(s), %d drift correction(s) since the audit before, no findings",
			summary.Time.UTC().Format(time.RFC3339), summary.Subjects, summary.DriftCorrections), ObservedGeneration: t.Generation}
	if len(a.Findings) > 0 {
		// The first few, in the CRD's bounds: kubectl tenant audit shows them all.
		const shown = 10
		listed := strings.Join(a.Findings[:min(len(a.Findings), shown)], "; ")
		if len(a.Findings) > shown {
			listed += fmt.Sprintf("; and %d more", len(a.Findings)-shown)
		}
		c.Status, c.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonAuditFindings
		c.Message = fmt.Sprintf("Audited %s: %d subject(s), %d drift correction(s) since the audit before, %d finding(s): %s",
			summary.Time.UTC().Format(time.RFC3339), summary.Subjects, summary.DriftCorrections, len(a.Findings), listed)
		c.Message = render.Truncate(c.Message, maxConditionMessage)
	}
	meta.SetStatusCondition(&s.Conditions, c)
}

// setCompliant sets the Compliant condition of a tenant with compliance profiles from the states of their controls,
// those not met first; it removes it from a tenant without.
func setCompliant(t *tenancyv1alpha1.Tenant, s *tenancyv1alpha1.TenantStatus, controls []render.ControlState) {
	if len(t.Spec.Compliance) == 0 {
		meta.RemoveStatusCondition(&s.Conditions, tenancyv1alpha1.ConditionCompliant)
		return
	}
	var met, notMet []string
	for _, c := range controls {
		if c.Met {
			met = append(met, c.String())
		} else {
			notMet = append(notMet, c.String())
		}
	}
	c := metav1.Condition{Type: tenancyv1alpha1.ConditionCompliant, Status: metav1.ConditionTrue, Reason: tenancyv1alpha1.ReasonControlsMet,
		Message: strings.Join(met, "; "), ObservedGeneration: t.Generation}
	if len(notMet) > 0 {
		c.Status, c.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonControlNotMet
		c.Message = strings.Join(append(notMet, met...), "; ")
	}
	meta.SetStatusCondition(&s.Conditions, c)
}

// failureReasons are the reasons that fail a tenant: the operator will not get past them alone.
var failureReasons = map[string]bool{
	tenancyv1alpha1.ReasonObjectConflict: true, tenancyv1alpha1.ReasonApplyFailed: true,
	tenancyv1alpha1.ReasonForbiddenCIDR: true, tenancyv1alpha1.ReasonBackendFailed: true,
	tenancyv1alpha1.ReasonDatabaseServerUnknown: true, tenancyv1alpha1.ReasonDatabaseAuthenticationFailed: true,
	tenancyv1alpha1.ReasonDatabaseFailed: true, tenancyv1alpha1.ReasonExtraRoleNotAllowed: true,
}

// errorReasons are the reasons a pass ended in an error: the failures, the namespace claims refused, and a database
// server that cannot be reached (retried, so not a failure of the tenant, but an error of the pass). Waiting states
// (Progressing, BackendUnavailable, QuotaPending, Terminating) are not errors.
var errorReasons = map[string]bool{
	tenancyv1alpha1.ReasonNamespaceConflict: true, tenancyv1alpha1.ReasonReservedNamespace: true,
	tenancyv1alpha1.ReasonNamespaceRetained: true, tenancyv1alpha1.ReasonDatabaseUnreachable: true,
}

// ErrorReasons are the distinct reasons, sorted, for which a pass that computed st ended in an error: each counts
// once per pass, however many conditions carry it.
func ErrorReasons(st tenancyv1alpha1.TenantStatus) []string {
	var reasons []string
	for _, c := range st.Conditions {
		if c.Status == metav1.ConditionFalse && (failureReasons[c.Reason] || errorReasons[c.Reason]) && !slices.Contains(reasons, c.Reason) {
			reasons = append(reasons, c.Reason)
		}
	}
	sort.Strings(reasons)
	return reasons
}

// areaCondition is an area's condition when every object of it applied.
func areaCondition(t *tenancyv1alpha1.Tenant, a render.Area, in Inputs) (bool, string, string) {
	switch a {
	case render.AreaNamespace:
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("Namespace %s exists with Pod Security restricted enforced", render.TenantNamespace(t))
	case render.AreaNetwork:
		return true, tenancyv1alpha1.ReasonReady, "Default-deny NetworkPolicies and the allowed exceptions are in place"
	case render.AreaAccess:
		if t.Spec.Suspended {
			return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("%d owner(s), %d member(s), %d viewer(s) bound read-only while the tenant is suspended",
				len(t.Spec.Owners), len(t.Spec.Members), len(t.Spec.Viewers))
		}
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("%d owner(s), %d member(s), %d viewer(s) bound",
			len(t.Spec.Owners), len(t.Spec.Members), len(t.Spec.Viewers))
	case render.AreaQuota:
		if !in.QuotaEnforced {
			return false, tenancyv1alpha1.ReasonQuotaPending, "ResourceQuota applied; waiting for the quota controller to enforce it"
		}
		return true, tenancyv1alpha1.ReasonReady, "ResourceQuota and LimitRange are enforced"
	case render.AreaSecrets:
		msg := fmt.Sprintf("%d generated secret(s) and the encryption key ring are current", len(t.Spec.Secrets))
		if t.Spec.Backend != nil {
			msg = fmt.Sprintf("%d generated secret(s), the encryption key ring and the back-end certificate are current", len(t.Spec.Secrets))
		}
		return true, tenancyv1alpha1.ReasonReady, msg
	case render.AreaBackend:
		if t.Spec.Backend == nil {
			return true, tenancyv1alpha1.ReasonNoBackend, "The tenant has no back-end"
		}
		d := in.Backend.Deployment
		if d == nil {
			return false, tenancyv1alpha1.ReasonProgressing, "The back-end Deployment is being created"
		}
		want := ptr.Deref(d.Spec.Replicas, 1)
		if in.Backend.Failure != "" {
			return false, tenancyv1alpha1.ReasonBackendFailed, "The back-end cannot start: " + in.Backend.Failure
		}
		if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want || d.Status.ReadyReplicas < want {
			return false, tenancyv1alpha1.ReasonBackendUnavailable, fmt.Sprintf("%d of %d back-end replica(s) ready", d.Status.ReadyReplicas, want)
		}
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("%d of %d back-end replica(s) ready", d.Status.ReadyReplicas, want)
	case render.AreaDatabase:
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("Role %s on database server %s (%s) is provisioned; credentials in Secret %s",
			render.DatabaseRole(t), t.Spec.Database.Server, t.Spec.Database.Model, render.DatabaseSecretName)
	}
	return false, tenancyv1alpha1.ReasonProgressing, ""
}

// Failed is the status of a tenant that cannot have its namespace: Ready and NamespaceReady false with the
// reason, Failed. Other conditions are left as they were.
func Failed(t *tenancyv1alpha1.Tenant, p render.Problem) tenancyv1alpha1.TenantStatus {
	s := *t.Status.DeepCopy()
	s.ObservedGeneration = t.Generation
	s.Namespace = render.TenantNamespace(t)
	s.Phase = tenancyv1alpha1.TenantPhaseFailed
	for _, typ := range []string{tenancyv1alpha1.ConditionReady, tenancyv1alpha1.ConditionNamespaceReady} {
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionFalse,
			Reason: p.Reason, Message: p.Message, ObservedGeneration: t.Generation})
	}
	sortConditions(s.Conditions)
	return s
}

// Terminating marks a tenant whose deletion is in progress.
func Terminating(t *tenancyv1alpha1.Tenant) tenancyv1alpha1.TenantStatus {
	s := *t.Status.DeepCopy()
	s.Phase = tenancyv1alpha1.TenantPhaseTerminating
	policy := t.Spec.DeletionPolicy
	if policy == "" {
		policy = tenancyv1alpha1.DeletionPolicyRetain
	}
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: tenancyv1alpha1.ReasonTerminating, Message: "Deleting the tenant (deletionPolicy " + string(policy) + ")",
		ObservedGeneration: t.Generation})
	sortConditions(s.Conditions)
	return s
}

// sortConditions orders conditions by type, so that the stored list never churns.
func sortConditions(c []metav1.Condition) {
	sort.SliceStable(c, func(i, j int) bool { return c[i].Type < c[j].Type })
}

// Equal reports whether writing desired would change anything, so that unchanged status is never rewritten.
func Equal(current, desired tenancyv1alpha1.TenantStatus) bool {
	return equality.Semantic.DeepEqual(current, desired)
}

// Digest identifies a status but for its conditions' transition times, which a pass computing from a stale status
// sets anew.
func Digest(s tenancyv1alpha1.TenantStatus) string {
	s.Conditions = slices.Clone(s.Conditions)
	for i := range s.Conditions {
		s.Conditions[i].LastTransitionTime = metav1.Time{}
	}
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return string(sum[:16])
}

// AlreadyReported: the tenant's condition already states p, so its Warning was sent when it first did. Passes that
// find the same problem again (a recheck of a conflict) add no Event.
func AlreadyReported(t *tenancyv1alpha1.Tenant, conditionType string, p render.Problem) bool {
	c := meta.FindStatusCondition(t.Status.Conditions, conditionType)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == p.Reason && strings.Contains(c.Message, p.Message)
}
