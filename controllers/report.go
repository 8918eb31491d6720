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
	"errors"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// Waits of the reconciler: for the cache to show an object just created, for the quota controller to take up a
// ResourceQuota just created, and between looks at someone else's object in the way.
const (
	cacheLagRequeue = time.Second
	quotaGrace      = 5 * time.Second
	conflictRecheck = 5 * time.Second
)

// report computes the status from the scope, records its metrics, writes it when it changed, and decides when to
// come back. Every rule on status writes and requeues is here.
func (r *TenantReconciler) report(ctx context.Context, s *tenantScope) (ctrl.Result, error) {
	t := s.tenant
	if p := s.problem(); p != nil {
		if !status.AlreadyReported(t, tenancyv1alpha1.ConditionNamespaceReady, *p) {
			r.event(t, corev1.EventTypeWarning, p.Reason, "Claim", p.Message)
		}
		failed := status.Failed(t, *p)
		r.recordMetrics(s, failed)
		return ctrl.Result{}, r.writeStatus(ctx, s, failed)
	}
	results := s.results
	computed := status.Compute(t, status.Inputs{
		Failures: results.failures, Backend: s.backend, QuotaEnforced: s.quotaEnforced, Secrets: s.desired.SecretTimes,
		PodsRunning: s.podsRunning, Class: s.class, Controls: render.Controls(t, s.class, r.Config), Audit: auditOutcome(s.audit),
	})
	r.recordMetrics(s, computed)
	if err := errors.Join(results.err(), s.pruneErr); err != nil {
		return ctrl.Result{}, errors.Join(err, r.writeStatus(ctx, s, computed))
	}
	result := requeueFor(s.desired.RequeueAt, r.Clock())
	if s.databaseRetry > 0 {
		result = sooner(result, s.databaseRetry)
	}
	if s.classRetry > 0 {
		result = sooner(result, s.classRetry)
	}
	if s.auditRetry > 0 {
		result = sooner(result, s.auditRetry)
	}
	if s.podsRunning > 0 {
		result = sooner(result, suspendRecheck)
	}
	if results.conflicts {
		// Someone else's object holds a desired name. Most kinds are cached by the operator's label only, so its
		// deletion brings no event: look again shortly, at one read per conflicting object.
		result = sooner(result, conflictRecheck)
	}
	if results.requeueSoon && len(results.failures) == 0 {
		// Objects created moments ago are missing from the cache, so a status computed now would describe a state
		// already gone; their arrival in the cache brings the next pass.
		return sooner(result, cacheLagRequeue), nil
	}
	if wait := quotaWait(results.quotaCreated, s.quotaEnforced, s.quotaCreatedAt, r.Clock()); wait > 0 && len(results.failures) == 0 {
		// The quota controller takes up a new ResourceQuota within moments, and its update brings the next pass.
		// Reporting QuotaPending in between would cost every new tenant one more status write for a state nobody
		// acts on, whatever other event brings a pass meanwhile; should the quota controller be slow, the requeue
		// reports it.
		return sooner(result, wait), nil
	}
	return result, r.writeStatus(ctx, s, computed)
}

// writeStatus writes status once, and only when it changed. A pass that starts before the cache shows the
// previous pass's write sees the old status: if that write was of this very status, it is not sent again.
func (r *TenantReconciler) writeStatus(ctx context.Context, s *tenantScope, st tenancyv1alpha1.TenantStatus) error {
	t := s.tenant
	if status.Equal(t.Status, st) {
		return nil
	}
	written := statusWrite{before: t.ResourceVersion, status: status.Digest(st)}
	if s.memo.lastStatus == written {
		return nil
	}
	patch := client.MergeFrom(t.DeepCopy())
	t.Status = st
	if err := r.Status().Patch(ctx, t, patch); err != nil {
		return err
	}
	s.memo.lastStatus = written
	return nil
}

// quotaWait is how much longer the status may wait for the quota controller: the rest of quotaGrace after the
// quota's creation (by this pass, or by an earlier one), nothing once it is enforced or the grace is over. A
// creation time ahead of the clock (skew, or a test's clock) waits for nothing.
func quotaWait(createdNow, enforced bool, createdAt, now time.Time) time.Duration {
	switch {
	case enforced:
		return 0
	case createdNow:
		return quotaGrace
	case createdAt.IsZero():
		return 0
	}
	if age := now.Sub(createdAt); age >= 0 && age < quotaGrace {
		return max(quotaGrace-age, time.Second)
	}
	return 0
}

func requeueFor(at, now time.Time) ctrl.Result {
	if at.IsZero() {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: max(at.Sub(now), time.Second)}
}

func sooner(r ctrl.Result, after time.Duration) ctrl.Result {
	if r.RequeueAfter == 0 || after < r.RequeueAfter {
		r.RequeueAfter = after
	}
	return r
}

// auditOutcome is what the status says of an audit report: its counts, and each finding; nil for no audit this pass.
func auditOutcome(r *audit.Report) *status.Audit {
	if r == nil {
		return nil
	}
	// Counts of subjects and findings: a namespace's RoleBindings are far fewer than 2^31.
	out := &status.Audit{Summary: tenancyv1alpha1.AuditSummary{Time: metav1.NewTime(r.Time),
		Subjects: int32(min(len(r.Subjects), math.MaxInt32)), Findings: int32(min(len(r.Findings), math.MaxInt32)), //nolint:gosec // bounded above
		DriftCorrections: int32(min(r.DriftCorrections, math.MaxInt32))}} //nolint:gosec // bounded above
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, strings.TrimSpace(f.Kind+" "+f.Subject)+": "+f.Detail)
	}
	return out
}
