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
	"encoding/json"
	"fmt"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// What a Tenant deleted with deletionPolicy Retain leaves: its namespace marked retained, a quota that allows no
// pods, default-deny, and the back-end scaled to zero. Everything else the operator made is revoked.

// AnnotationRetention records on a retained namespace how long it is kept and what then (a Retention, in JSON): the
// Tenant that said so is gone. LabelRetentionHold marks one that no one may delete before its period is over (the
// retention-hold guardrail); the operator takes it off when the period is over.
// FinalizerEraseDatabase holds a namespace to erase until the tenant's database is erased too: the namespace's
// record is the only one left of it.
const (
	AnnotationRetention    = OperatorKeyPrefix + "retention"
	LabelRetentionHold     = OperatorKeyPrefix + "retention-hold"
	FinalizerEraseDatabase = OperatorKeyPrefix + "erase-database"
)

// Retention is the retention of a retained namespace: from when, until when, what then, and the database to erase
// with it.
type Retention struct {
	RetainedAt  time.Time                       `json:"retainedAt"`
	Until       time.Time                       `json:"until"`
	AfterPeriod tenancyv1alpha1.RetentionAction `json:"afterPeriod"`
	// Database is the tenant's database, erased with the namespace (Erase only).
	Database *RetainedDatabase `json:"database,omitempty"`
}

// RetainedDatabase is where a retained tenant's database is.
type RetainedDatabase struct {
	Server string                        `json:"server"`
	Model  tenancyv1alpha1.DatabaseModel `json:"model"`
	Role   string                        `json:"role"`
}

// RetentionFor is the retention of t's namespace retained at retainedAt; nil when it is kept as long as the admin
// wants (EffectiveRetention).
func RetentionFor(t *tenancyv1alpha1.Tenant, retainedAt time.Time) *Retention {
	spec := EffectiveRetention(t)
	if spec == nil {
		return nil
	}
	r := &Retention{RetainedAt: retainedAt.UTC(), Until: retainedAt.Add(spec.Period.Duration).UTC(), AfterPeriod: spec.AfterPeriod}
	if db := t.Spec.Database; db != nil && spec.AfterPeriod == tenancyv1alpha1.RetentionErase {
		r.Database = &RetainedDatabase{Server: db.Server, Model: db.Model, Role: DatabaseRole(t)}
	}
	return r
}

// WithHold is the retention of a namespace retained at retainedAt while it carries hold (see Hold): kept at least
// until the hold ends, longer if r says so; r itself when there is no hold.
func WithHold(r, hold *Retention, retainedAt time.Time) *Retention {
	if hold == nil {
		return r
	}
	out := &Retention{RetainedAt: retainedAt.UTC(), Until: hold.Until, AfterPeriod: tenancyv1alpha1.RetentionKeep}
	if r != nil && r.Until.After(out.Until) {
		out.Until = r.Until
	}
	return out
}

// RetentionOf is the retention recorded on a retained namespace; nil when there is none or it cannot be read (the
// namespace is then kept, which loses nothing).
func RetentionOf(ns *corev1.Namespace) *Retention {
	if ns.GetAnnotations()[AnnotationRetained] != markTrue {
		return nil
	}
	return recordOf(ns)
}

// recordOf is the retention recorded on ns, retained or taken back; nil for none.
func recordOf(ns *corev1.Namespace) *Retention {
	raw, ok := ns.GetAnnotations()[AnnotationRetention]
	if !ok {
		return nil
	}
	r := &Retention{}
	if err := json.Unmarshal([]byte(raw), r); err != nil || r.Until.IsZero() {
		return nil
	}
	return r
}

// RetainedNamespace is the tenant's namespace, marked as retained: a new Tenant of the same name may take it back
// (spec.adoptRetainedNamespace), no other. c is the class the namespace had (see AppliedClass): it keeps its metadata.
// retention, when not nil, is recorded on it, and a namespace kept at least that long is held.
func RetainedNamespace(t *tenancyv1alpha1.Tenant, c *Class, retention *Retention) *corev1.Namespace {
	ns := desiredNamespace(WithClass(t, c), c)
	ns.Annotations = maps.Clone(ns.Annotations)
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	ns.Annotations[AnnotationRetained] = markTrue
	if t.UID != "" {
		ns.Annotations[AnnotationRetainedBy] = string(t.UID)
	}
	if retention != nil {
		recordRetention(ns, retention)
		if retention.Database != nil {
			ns.Finalizers = []string{FinalizerEraseDatabase}
		}
	}
	return ns
}

// recordRetention writes r on ns, held when it is kept at least its period. ns's maps are its own.
func recordRetention(ns *corev1.Namespace, r *Retention) {
	raw, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("a retention always marshals: %v", err)) // times and strings
	}
	ns.Annotations[AnnotationRetention] = string(raw)
	if r.AfterPeriod == tenancyv1alpha1.RetentionKeep {
		ns.Labels = maps.Clone(ns.Labels)
		ns.Labels[LabelRetentionHold] = markTrue
	}
}

// Hold is the hold a tenant namespace carries (a retention with afterPeriod Keep, labelled held), retained or taken
// back since: a Tenant that takes the namespace back keeps it until its period is over. nil for none.
func Hold(ns *corev1.Namespace) *Retention {
	r := recordOf(ns)
	if r == nil || r.AfterPeriod != tenancyv1alpha1.RetentionKeep || ns.Labels[LabelRetentionHold] != markTrue {
		return nil
	}
	r.Database = nil
	return r
}

// RetainedQuota allows a retained namespace no pods: nothing runs while nobody is in charge of it, and the
// workloads' controllers cannot start their pods again. The rest of the data stays.
func RetainedQuota(t *tenancyv1alpha1.Tenant) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: objectMeta(t, QuotaName), Spec: corev1.ResourceQuotaSpec{
		Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")},
	}}
}

// ScaledDownBackend is the back-end Deployment with no replicas, its pod template annotations as they run
// (templateAnnotations), so that scaling down rolls nothing.
func ScaledDownBackend(t *tenancyv1alpha1.Tenant, templateAnnotations map[string]string) *appsv1.Deployment {
	deployment, _, _ := desiredBackend(t, "", ptr.To[int32](0), t.Spec.Database != nil)
	deployment.Spec.Template.Annotations = templateAnnotations
	return deployment
}

// GeneratedSecretNames are the Secrets whose values the operator generates for t.
func GeneratedSecretNames(t *tenancyv1alpha1.Tenant) map[string]bool {
	names := map[string]bool{EncryptionKeyName: true}
	if t.Spec.Backend != nil {
		names[TLSSecretName] = true
	}
	if t.Spec.Database != nil {
		names[DatabaseSecretName] = true
	}
	for _, s := range t.Spec.Secrets {
		names[s.Name] = true
	}
	return names
}

// GeneratedValues are a generated secret's values as the operator compares them: without the CA certificate of TLS
// secrets, which comes from the operator's CA, never from the secret.
func GeneratedValues(s *corev1.Secret) map[string][]byte {
	data := s.Data
	if _, ok := data[caCertKey]; ok && s.Type == corev1.SecretTypeTLS {
		data = maps.Clone(data)
		delete(data, caCertKey)
	}
	return data
}
