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
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// areaOrder is the order conditions are computed and reported in.
var areaOrder = []area{areaNamespace, areaNetwork, areaAccess, areaQuota, areaSecrets, areaBackend}

// applyResults records, per area, the first failure met while applying (later ones add to the error only).
type applyResults struct {
	failures map[area]problem
	errs     []error
	// quotaCreated: this pass created the ResourceQuota. requeueSoon: an object created moments ago is not in the
	// cache yet, so this pass could not check it. conflicts: someone else's object holds a desired name.
	quotaCreated, requeueSoon, conflicts bool
}

func (r *applyResults) fail(a area, reason, message string, err error) {
	if r.failures == nil {
		r.failures = map[area]problem{}
	}
	if _, seen := r.failures[a]; !seen {
		r.failures[a] = problem{reason: reason, message: message}
	}
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

func (r applyResults) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d object(s) could not be applied: %w", len(r.errs), r.errs[0])
}

// backendObservation is the back-end's Deployment as found (nil deployment: not created yet), and why it cannot
// start, if something says it cannot (backendFailure).
type backendObservation struct {
	deployment *appsv1.Deployment
	failure    string
}

// statusInputs is everything computeStatus needs, gathered by the reconciler.
type statusInputs struct {
	results       applyResults
	backend       *backendObservation
	quotaEnforced bool
	secrets       []tenancyv1alpha1.SecretStatus
}

// computeStatus derives the tenant's status from what the reconcile pass found. It is pure: same inputs, same
// status, with condition times kept from the current status whenever a condition did not change.
func computeStatus(t *tenancyv1alpha1.Tenant, in statusInputs) tenancyv1alpha1.TenantStatus {
	s := tenancyv1alpha1.TenantStatus{
		ObservedGeneration: t.Generation,
		Namespace:          tenantNamespace(t),
		Conditions:         append([]metav1.Condition(nil), t.Status.Conditions...),
		Secrets:            in.secrets,
	}
	set := func(a area, ok bool, reason, message string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{
			Type: string(a), Status: status, Reason: reason, Message: message, ObservedGeneration: t.Generation,
		})
	}
	var notReady, failures []string
	for _, a := range areaOrder {
		ok, reason, message := areaCondition(t, a, in)
		if p, bad := in.results.failures[a]; bad {
			ok, reason, message = false, p.reason, p.message
		}
		set(a, ok, reason, message)
		if !ok {
			notReady = append(notReady, string(a))
		}
		if failureReasons[reason] {
			failures = append(failures, string(a)+": "+message)
		}
	}
	if b := in.backend; b != nil && b.deployment != nil {
		s.Backend = &tenancyv1alpha1.BackendStatus{
			Ready:         fmt.Sprintf("%d/%d", b.deployment.Status.ReadyReplicas, ptr.Deref(b.deployment.Spec.Replicas, 1)),
			Replicas:      ptr.Deref(b.deployment.Spec.Replicas, 1),
			ReadyReplicas: b.deployment.Status.ReadyReplicas,
			Image:         t.Spec.Backend.Image,
		}
	}
	switch {
	case len(notReady) == 0:
		set(tenancyv1alpha1.ConditionReady, true, tenancyv1alpha1.ReasonReady, "The tenant is provisioned")
		s.Phase = tenancyv1alpha1.TenantPhaseReady
	case len(failures) > 0:
		// What failed, in its own words: the admin (and Argo CD's health message) reads it on the Tenant.
		set(tenancyv1alpha1.ConditionReady, false, tenancyv1alpha1.ReasonNotReady,
			"Not ready: "+strings.Join(notReady, ", ")+". "+strings.Join(failures, "; "))
		s.Phase = tenancyv1alpha1.TenantPhaseFailed
	default:
		set(tenancyv1alpha1.ConditionReady, false, tenancyv1alpha1.ReasonNotReady, "Not ready: "+strings.Join(notReady, ", "))
		s.Phase = tenancyv1alpha1.TenantPhaseProvisioning
	}
	sortConditions(s.Conditions)
	return s
}

// failureReasons are the reasons that fail a tenant: the operator will not get past them alone.
var failureReasons = map[string]bool{
	tenancyv1alpha1.ReasonObjectConflict: true, tenancyv1alpha1.ReasonApplyFailed: true,
	tenancyv1alpha1.ReasonForbiddenCIDR: true, tenancyv1alpha1.ReasonBackendFailed: true,
}

// areaCondition is an area's condition when every object of it applied.
func areaCondition(t *tenancyv1alpha1.Tenant, a area, in statusInputs) (bool, string, string) {
	switch a {
	case areaNamespace:
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("Namespace %s exists with Pod Security restricted enforced", tenantNamespace(t))
	case areaNetwork:
		return true, tenancyv1alpha1.ReasonReady, "Default-deny NetworkPolicies and the allowed exceptions are in place"
	case areaAccess:
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("%d owner(s), %d member(s), %d viewer(s) bound",
			len(t.Spec.Owners), len(t.Spec.Members), len(t.Spec.Viewers))
	case areaQuota:
		if !in.quotaEnforced {
			return false, tenancyv1alpha1.ReasonQuotaPending, "ResourceQuota applied; waiting for the quota controller to enforce it"
		}
		return true, tenancyv1alpha1.ReasonReady, "ResourceQuota and LimitRange are enforced"
	case areaSecrets:
		msg := fmt.Sprintf("%d generated secret(s) and the encryption key ring are current", len(t.Spec.Secrets))
		if t.Spec.Backend != nil {
			msg = fmt.Sprintf("%d generated secret(s), the encryption key ring and the back-end certificate are current", len(t.Spec.Secrets))
		}
		return true, tenancyv1alpha1.ReasonReady, msg
	case areaBackend:
		if t.Spec.Backend == nil {
			return true, tenancyv1alpha1.ReasonNoBackend, "The tenant has no back-end"
		}
		d := in.backend.deployment
		if d == nil {
			return false, tenancyv1alpha1.ReasonProgressing, "The back-end Deployment is being created"
		}
		want := ptr.Deref(d.Spec.Replicas, 1)
		if in.backend.failure != "" {
			return false, tenancyv1alpha1.ReasonBackendFailed, "The back-end cannot start: " + in.backend.failure
		}
		if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want || d.Status.ReadyReplicas < want {
			return false, tenancyv1alpha1.ReasonBackendUnavailable, fmt.Sprintf("%d of %d back-end replica(s) ready", d.Status.ReadyReplicas, want)
		}
		return true, tenancyv1alpha1.ReasonReady, fmt.Sprintf("%d of %d back-end replica(s) ready", d.Status.ReadyReplicas, want)
	}
	return false, tenancyv1alpha1.ReasonProgressing, ""
}

// failedStatus is the status of a tenant that cannot have its namespace: Ready and NamespaceReady false with the
// reason, Failed. Other conditions are left as they were.
func failedStatus(t *tenancyv1alpha1.Tenant, p problem) tenancyv1alpha1.TenantStatus {
	s := *t.Status.DeepCopy()
	s.ObservedGeneration = t.Generation
	s.Namespace = tenantNamespace(t)
	s.Phase = tenancyv1alpha1.TenantPhaseFailed
	for _, typ := range []string{tenancyv1alpha1.ConditionReady, tenancyv1alpha1.ConditionNamespaceReady} {
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionFalse,
			Reason: p.reason, Message: p.message, ObservedGeneration: t.Generation})
	}
	sortConditions(s.Conditions)
	return s
}

// terminatingStatus marks a tenant whose deletion is in progress.
func terminatingStatus(t *tenancyv1alpha1.Tenant) tenancyv1alpha1.TenantStatus {
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

// statusEqual reports whether writing desired would change anything, so that unchanged status is never rewritten.
func statusEqual(current, desired tenancyv1alpha1.TenantStatus) bool {
	return equality.Semantic.DeepEqual(current, desired)
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }
