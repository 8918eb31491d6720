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
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// account tells what apply and prune changed (and the grants of former owners revoked): Events on the Tenant, metrics and logs. A change to an area the operator
// had already brought to its desired state, for this very spec, is drift: someone changed or deleted the object.
func (r *TenantReconciler) account(ctx context.Context, s *tenantScope) error {
	log := logf.FromContext(ctx)
	t := s.tenant
	specObserved := t.Status.ObservedGeneration == t.Generation
	var created, updated []string
	for _, a := range s.results.changes {
		kind, obj := kindOf(a.Obj), a.Obj
		steady := specObserved && meta.IsStatusConditionTrue(t.Status.Conditions, string(a.Area))
		switch {
		case a.change == changeNone:
		case a.change == changeConflict:
			// One Warning when the conflict starts; the rechecks that find it again add none.
			if p := conflictProblem(obj); !status.AlreadyReported(t, string(a.Area), p) {
				r.event(t, corev1.EventTypeWarning, p.Reason, "Apply", p.Message)
			}
		case a.change == changeRotated:
			secretRotations.WithLabelValues(t.Name, rotationKind(obj.GetName())).Inc()
			r.event(t, corev1.EventTypeNormal, "SecretRotated", "Rotate", fmt.Sprintf("Rotated Secret %s/%s", obj.GetNamespace(), obj.GetName()))
			log.Info("Rotated secret", "secret", obj.GetName())
		case steady:
			how := map[change]string{changeCreated: "recreated", changeUpdated: "restored"}[a.change]
			driftCorrections.WithLabelValues(kind).Inc()
			s.memo.driftSinceAudit++
			r.event(t, corev1.EventTypeWarning, "DriftCorrected", "Apply", fmt.Sprintf("Drift corrected: %s %s %s", how, kind, objectRef(obj)))
			log.Info("Corrected drift", "kind", kind, "name", obj.GetName(), "namespace", obj.GetNamespace(), "how", how)
		case a.change == changeCreated:
			created = append(created, kind)
			log.V(1).Info("Created object", "kind", kind, "name", obj.GetName())
		default:
			updated = append(updated, kind)
			log.V(1).Info("Updated object", "kind", kind, "name", obj.GetName())
		}
	}
	// One Event per pass and kind of change, not one per object: a new tenant creates a dozen objects at once.
	if len(created) > 0 {
		r.event(t, corev1.EventTypeNormal, "Created", "Apply", "Created "+countKinds(created))
	}
	if len(updated) > 0 {
		r.event(t, corev1.EventTypeNormal, "Updated", "Apply", "Updated "+countKinds(updated))
	}
	for _, obj := range s.pruned {
		kind := kindOf(obj)
		log.Info("Pruned object", "kind", kind, "name", obj.GetName(), "namespace", obj.GetNamespace())
		r.event(t, corev1.EventTypeNormal, "Pruned", "Delete", fmt.Sprintf("Deleted %s %s, no longer desired", kind, objectRef(obj)))
	}
	for _, b := range s.revoked {
		grantor := b.Annotations[AnnotationGrantedBy]
		log.Info("Revoked a former owner's grant", "roleBinding", b.Name, "grantedBy", grantor)
		r.event(t, corev1.EventTypeNormal, "GrantRevoked", "Delete",
			fmt.Sprintf("Deleted RoleBinding %s/%s: %s, who granted it, is no longer an owner", b.Namespace, b.Name, grantor))
	}
	return nil
}

// recordMetrics records a tenant's phase, conditions, certificate times and errors.
func (r *TenantReconciler) recordMetrics(s *tenantScope, st tenancyv1alpha1.TenantStatus) {
	t := s.tenant
	// One series per tenant, its current phase: four per tenant (three of them 0) cost memory and scrape time for
	// nothing an alert needs. Likewise one series per condition, its current status.
	if s.memo.phase != st.Phase {
		s.memo.phase = st.Phase
		tenantPhase.DeletePartialMatch(map[string]string{metricTenant: t.Name})
		tenantPhase.WithLabelValues(t.Name, string(st.Phase)).Set(1)
	}
	if conditions := conditionStatuses(st.Conditions); s.memo.conditions != conditions {
		s.memo.conditions = conditions
		tenantCondition.DeletePartialMatch(map[string]string{metricTenant: t.Name})
		for _, c := range st.Conditions {
			tenantCondition.WithLabelValues(t.Name, c.Type, string(c.Status)).Set(1)
		}
	}
	if cert := render.ParseCertificate(s.observed.Secrets[render.TLSSecretName]); cert != nil && t.Spec.Backend != nil {
		certificateExpiry.WithLabelValues(t.Name).Set(float64(cert.NotAfter.Unix()))
		certificateRenewal.WithLabelValues(t.Name).Set(float64(pki.RenewalTime(cert.NotBefore, cert.NotAfter).Unix()))
	} else if t.Spec.Backend == nil {
		// No back-end, no certificate: a series left from one would set off the certificate alerts.
		certificateExpiry.DeleteLabelValues(t.Name)
		certificateRenewal.DeleteLabelValues(t.Name)
	}
	for _, reason := range status.ErrorReasons(st) {
		reconcileErrors.WithLabelValues(reason).Inc()
	}
}

// conditionStatuses identifies the types and statuses of a list of conditions: what the condition series show.
func conditionStatuses(conditions []metav1.Condition) string {
	var b strings.Builder
	for _, c := range conditions {
		b.WriteString(c.Type + "=" + string(c.Status) + ";")
	}
	return b.String()
}

// rotationKind is the kind of Secret a rotation renewed, for the rotation counter: the name of a generated Secret is
// the admin's choice, and not a bounded label value.
func rotationKind(secretName string) string {
	switch secretName {
	case render.TLSSecretName:
		return "certificate"
	case render.EncryptionKeyName:
		return "encryption-key"
	case render.DatabaseSecretName:
		return "database"
	}
	return "generated"
}

// countKinds describes a list of object kinds by count, in a stable order: "3 NetworkPolicy, 1 Secret".
func countKinds(kinds []string) string {
	counts := map[string]int{}
	for _, k := range kinds {
		counts[k]++
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}

func objectRef(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// eventRecorder is the part of the events API the reconciler uses.
type eventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

var _ eventRecorder = events.EventRecorder(nil)

// event records an Event on the Tenant. Messages never hold secret values: they name objects only.
func (r *TenantReconciler) event(t *tenancyv1alpha1.Tenant, eventType, reason, action, message string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(t, nil, eventType, reason, action, "%s", message)
	}
}
