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
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
)

// Area groups the objects behind one status condition.
type Area string

// The areas, one per condition the objects decide.
const (
	AreaNamespace Area = tenancyv1alpha1.ConditionNamespaceReady
	AreaNetwork   Area = tenancyv1alpha1.ConditionNetworkIsolated
	AreaAccess    Area = tenancyv1alpha1.ConditionAccessConfigured
	AreaQuota     Area = tenancyv1alpha1.ConditionQuotaEnforced
	AreaSecrets   Area = tenancyv1alpha1.ConditionSecretsReady
	AreaBackend   Area = tenancyv1alpha1.ConditionBackendReady
	AreaDatabase  Area = tenancyv1alpha1.ConditionDatabaseReady
)

// Areas are every area, in the order conditions are computed and reported in. AreaDatabase is a tenant's only with
// spec.database.
var Areas = []Area{AreaNamespace, AreaNetwork, AreaAccess, AreaQuota, AreaSecrets, AreaBackend, AreaDatabase}

// Problem is why a tenant, or one area of it, cannot be provisioned: a reason (an API constant) and a message.
type Problem struct{ Reason, Message string }

// AreaProblem is a problem with one area of a tenant.
type AreaProblem struct {
	Area Area
	Problem
}

// Object is one object to apply, with the area it belongs to.
type Object struct {
	Area Area
	Obj  client.Object
	// Rotated is set on a secret whose values were generated in this pass (an expected change, not drift).
	Rotated bool
}

// Observed is what the reconciler gathered before deciding: the current generated secrets (so their values
// survive), the operator's CA, the tenants that allow this one in, and the clock and randomness to use.
type Observed struct {
	Secrets map[string]*corev1.Secret
	CA      *pki.CA
	Now     time.Time
	Rand    io.Reader
	// AllowedBy are the other tenants that let this one reach their back-end (their spec.network.allowFromTenants
	// names it), sorted by name.
	AllowedBy []*tenancyv1alpha1.Tenant
	// Database is where the tenant's database is; nil without spec.database, or while its server is unknown and
	// the tenant has no database Secret yet.
	Database *DatabaseEndpoint
	// DatabaseHeld keeps the database password as it is, due or not: the server could not take a new one.
	DatabaseHeld bool
	// Class is the TenantClass generation to render the tenant with; nil for none.
	Class *Class
	// Shared are the originals of the tenant's shared objects found in the operator's namespace, by SharedKey.
	Shared map[string]client.Object
	// Hold is the retention hold of the namespace the tenant took back (render.Hold): it stays until its period is
	// over, whatever the new Tenant says. nil for none.
	Hold *Retention
}

// Desired is everything the tenant should have, computed by the pure builders, and when to come back (the earliest
// rotation or renewal due).
type Desired struct {
	Objects     []Object
	RequeueAt   time.Time
	SecretTimes []tenancyv1alpha1.SecretStatus
	// Refused is what the builders left out of the spec, by area: the admin must correct it, whatever the apply does.
	Refused []AreaProblem
}

// DesiredState renders a Tenant into its objects, in the order they are created in a new namespace. It reads no
// cluster state beyond observed, and takes its clock and randomness from it, so it is deterministic under test.
func DesiredState(t *tenancyv1alpha1.Tenant, cfg Config, observed Observed) (*Desired, error) {
	t = WithCompliance(WithClass(t, observed.Class))
	d := &Desired{}
	add := func(a Area, objs ...client.Object) {
		for _, o := range objs {
			d.Objects = append(d.Objects, Object{Area: a, Obj: o})
		}
	}
	// The order is the order of creation in a new namespace. Quota and limits come first: they bind every pod
	// created after them. Access comes last: until the tenant's people are bound, no one but the operator (and
	// cluster admins) can create anything in the new namespace, so nothing there can collide with what it creates.
	ns, holdEnds := heldNamespace(t, observed)
	d.RequeueAt = holdEnds
	add(AreaNamespace, ns)
	add(AreaQuota, desiredQuota(t, cfg), desiredLimitRange(t, cfg))
	for _, np := range desiredNetworkPolicies(t, cfg, observed.AllowedBy) {
		add(AreaNetwork, np)
	}
	if _, refused := egressCIDRs(t, cfg); len(refused) > 0 {
		d.Refused = append(d.Refused, AreaProblem{AreaNetwork, Problem{tenancyv1alpha1.ReasonForbiddenCIDR, refusedCIDRsMessage(refused)}})
	}

	var generated []*corev1.Secret
	addSecret := func(s *corev1.Secret, rotated bool, due time.Time) {
		d.Objects = append(d.Objects, Object{Area: AreaSecrets, Obj: s, Rotated: rotated})
		generated = append(generated, s)
		d.RequeueAt = earliest(d.RequeueAt, due)
	}
	for _, spec := range t.Spec.Secrets {
		s, rotated, err := desiredGeneratedSecret(t, spec, observed.Secrets[spec.Name], observed.Now, observed.Rand)
		if err != nil {
			return nil, err
		}
		var due time.Time
		if spec.RotationPeriod != nil {
			due = generatedAt(s).Add(spec.RotationPeriod.Duration)
		}
		addSecret(s, rotated, due)
		d.SecretTimes = append(d.SecretTimes, tenancyv1alpha1.SecretStatus{Name: spec.Name, LastRotationTime: metav1.NewTime(generatedAt(s))})
	}
	key, rotated, err := desiredEncryptionKey(t, observed.Secrets[EncryptionKeyName], cfg.EncryptionKeyRotationPeriod, observed.Now, observed.Rand)
	if err != nil {
		return nil, err
	}
	var keyDue time.Time
	if cfg.EncryptionKeyRotationPeriod > 0 {
		keyDue = generatedAt(key).Add(cfg.EncryptionKeyRotationPeriod)
	}
	addSecret(key, rotated, keyDue)
	if ep := observed.Database; t.Spec.Database != nil && ep != nil {
		s, err := d.addDatabase(t, ep, observed)
		if err != nil {
			return nil, err
		}
		generated = append(generated, s) // a new password rolls the back-end
	}
	pullSecrets := d.addSharedObjects(t, cfg, observed.Shared)
	if t.Spec.Backend != nil {
		tls, renewed, err := desiredTLSSecret(t, observed.Secrets[TLSSecretName], observed.CA, cfg, observed.Now, observed.Rand)
		if err != nil {
			return nil, err
		}
		var due time.Time
		if cert := ParseCertificate(tls); cert != nil {
			due = pki.RenewalTime(cert.NotBefore, cert.NotAfter)
		}
		addSecret(tls, renewed, due)

		add(AreaBackend, desiredServiceAccount(t))
		var replicas *int32
		if t.Spec.Suspended {
			replicas = ptr.To[int32](0)
		}
		deployment, service, pdb := desiredBackend(t, secretsVersion(generated), replicas, observed.Database != nil && t.Spec.Database != nil)
		for _, name := range pullSecrets {
			deployment.Spec.Template.Spec.ImagePullSecrets = append(deployment.Spec.Template.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: name})
		}
		add(AreaBackend, deployment, service)
		if pdb != nil {
			add(AreaBackend, pdb)
		}
	}
	d.addAccess(t, cfg)
	return d, nil
}

// heldNamespace is the tenant's namespace, with the retention hold it took back until the hold ends (then the
// next pass lets it go).
func heldNamespace(t *tenancyv1alpha1.Tenant, observed Observed) (ns *corev1.Namespace, holdEnds time.Time) {
	ns = desiredNamespace(t, observed.Class)
	if h := observed.Hold; h != nil && observed.Now.Before(h.Until) {
		ns.Annotations, ns.Labels = maps.Clone(ns.Annotations), maps.Clone(ns.Labels)
		if ns.Annotations == nil {
			ns.Annotations = map[string]string{}
		}
		recordRetention(ns, h)
		return ns, h.Until
	}
	return ns, time.Time{}
}

// addAccess adds the RoleBindings of the tenant's people, their extra roles, and the owners' access to their Tenant.
func (d *Desired) addAccess(t *tenancyv1alpha1.Tenant, cfg Config) {
	for _, rb := range desiredRoleBindings(t) {
		d.Objects = append(d.Objects, Object{Area: AreaAccess, Obj: rb})
	}
	if role, binding := desiredOwnerAccess(t); role != nil {
		d.Objects = append(d.Objects, Object{Area: AreaAccess, Obj: role}, Object{Area: AreaAccess, Obj: binding})
	}
	extra, refused := desiredExtraRoleBindings(t, cfg)
	for _, rb := range extra {
		d.Objects = append(d.Objects, Object{Area: AreaAccess, Obj: rb})
	}
	if len(refused) > 0 {
		d.Refused = append(d.Refused, AreaProblem{AreaAccess, Problem{tenancyv1alpha1.ReasonExtraRoleNotAllowed,
			fmt.Sprintf("ClusterRoles not allowed by the operator's --extra-roles were not bound: %s", strings.Join(refused, ", "))}})
	}
}

// addDatabase adds the tenant's database Secret and the NetworkPolicy to its server, and returns the Secret.
func (d *Desired) addDatabase(t *tenancyv1alpha1.Tenant, ep *DatabaseEndpoint, observed Observed) (*corev1.Secret, error) {
	s, rotated, err := desiredDatabaseSecret(t, ep, observed.Secrets[DatabaseSecretName], observed.DatabaseHeld, observed.Now, observed.Rand)
	if err != nil {
		return nil, err
	}
	var due time.Time
	if p := t.Spec.Database.RotationPeriod; p != nil && !observed.DatabaseHeld { // held: the backoff brings the tenant back
		due = generatedAt(s).Add(p.Duration)
	}
	d.Objects = append(d.Objects, Object{Area: AreaDatabase, Obj: s, Rotated: rotated}, Object{Area: AreaNetwork, Obj: databasePolicy(t, ep)})
	d.RequeueAt = earliest(d.RequeueAt, due)
	d.SecretTimes = append(d.SecretTimes, tenancyv1alpha1.SecretStatus{Name: DatabaseSecretName, LastRotationTime: metav1.NewTime(generatedAt(s))})
	return s, nil
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	default:
		return b
	}
}
