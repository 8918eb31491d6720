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
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// area groups the objects behind one status condition.
type area string

const (
	areaNamespace area = tenancyv1alpha1.ConditionNamespaceReady
	areaNetwork   area = tenancyv1alpha1.ConditionNetworkIsolated
	areaAccess    area = tenancyv1alpha1.ConditionAccessConfigured
	areaQuota     area = tenancyv1alpha1.ConditionQuotaEnforced
	areaSecrets   area = tenancyv1alpha1.ConditionSecretsReady
	areaBackend   area = tenancyv1alpha1.ConditionBackendReady
)

// desiredObject is one object to apply, with the area it belongs to.
type desiredObject struct {
	area area
	obj  client.Object
	// rotated is set on a secret whose values were generated in this pass (an expected change, not drift).
	rotated bool
}

// observedState is what the reconciler gathered before deciding: the current generated secrets (so their values
// survive), the operator's CA, the tenants that allow this one in, and the clock and randomness to use.
type observedState struct {
	secrets map[string]*corev1.Secret
	ca      *CA
	now     time.Time
	rand    io.Reader
	// allowedBy are the other tenants that let this one reach their back-end (their spec.network.allowFromTenants
	// names it), sorted by name.
	allowedBy []*tenancyv1alpha1.Tenant
}

// desiredState is everything the tenant should have, computed by the pure builders, and when to come back
// (the earliest rotation or renewal due).
type desiredState struct {
	objects     []desiredObject
	requeueAt   time.Time
	secretTimes []tenancyv1alpha1.SecretStatus
	// refused is what the builders left out of the spec, by area: the admin must correct it, whatever the apply does.
	refused []areaProblem
}

// areaProblem is a problem with one area of a tenant.
type areaProblem struct {
	area area
	problem
}

// computeDesiredState renders a Tenant into its objects. It reads no cluster state beyond observed, and takes its
// clock and randomness from it, so it is deterministic under test.
func computeDesiredState(t *tenancyv1alpha1.Tenant, cfg Config, observed observedState) (*desiredState, error) {
	d := &desiredState{}
	add := func(a area, objs ...client.Object) {
		for _, o := range objs {
			d.objects = append(d.objects, desiredObject{area: a, obj: o})
		}
	}
	// The order is the order of creation in a new namespace. Quota and limits come first: they bind every pod
	// created after them. Access comes last: until the tenant's people are bound, no one but the operator (and
	// cluster admins) can create anything in the new namespace, so nothing there can collide with what it creates.
	add(areaNamespace, desiredNamespace(t))
	add(areaQuota, desiredQuota(t, cfg), desiredLimitRange(t, cfg))
	for _, np := range desiredNetworkPolicies(t, cfg, observed.allowedBy) {
		add(areaNetwork, np)
	}
	if _, refused := egressCIDRs(t, cfg); len(refused) > 0 {
		d.refused = append(d.refused, areaProblem{areaNetwork, problem{tenancyv1alpha1.ReasonForbiddenCIDR, refusedCIDRsMessage(refused)}})
	}

	var generated []*corev1.Secret
	addSecret := func(s *corev1.Secret, rotated bool, due time.Time) {
		d.objects = append(d.objects, desiredObject{area: areaSecrets, obj: s, rotated: rotated})
		generated = append(generated, s)
		d.requeueAt = earliest(d.requeueAt, due)
	}
	for _, spec := range t.Spec.Secrets {
		s, rotated, err := desiredGeneratedSecret(t, spec, observed.secrets[spec.Name], observed.now, observed.rand)
		if err != nil {
			return nil, err
		}
		var due time.Time
		if spec.RotationPeriod != nil {
			due = generatedAt(s).Add(spec.RotationPeriod.Duration)
		}
		addSecret(s, rotated, due)
		d.secretTimes = append(d.secretTimes, tenancyv1alpha1.SecretStatus{Name: spec.Name, LastRotationTime: metaTime(generatedAt(s))})
	}
	key, rotated, err := desiredEncryptionKey(t, observed.secrets[EncryptionKeyName], cfg.EncryptionKeyRotationPeriod, observed.now, observed.rand)
	if err != nil {
		return nil, err
	}
	var keyDue time.Time
	if cfg.EncryptionKeyRotationPeriod > 0 {
		keyDue = generatedAt(key).Add(cfg.EncryptionKeyRotationPeriod)
	}
	addSecret(key, rotated, keyDue)
	if t.Spec.Backend != nil {
		tls, renewed, err := desiredTLSSecret(t, observed.secrets[TLSSecretName], observed.ca, cfg, observed.now, observed.rand)
		if err != nil {
			return nil, err
		}
		var due time.Time
		if cert := parseCertificate(tls); cert != nil {
			due = renewalTime(cert.NotBefore, cert.NotAfter)
		}
		addSecret(tls, renewed, due)

		add(areaBackend, desiredServiceAccount(t))
		deployment, service, pdb := desiredBackend(t, secretsVersion(generated), nil)
		add(areaBackend, deployment, service)
		if pdb != nil {
			add(areaBackend, pdb)
		}
	}
	for _, rb := range desiredRoleBindings(t) {
		add(areaAccess, rb)
	}
	if role, binding := desiredOwnerAccess(t); role != nil {
		add(areaAccess, role, binding)
	}
	return d, nil
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

// RenderNewTenant returns the server-side apply requests the operator sends for a tenant it sees for the first
// time, allowed in by the tenants allowedBy (see observedState), in the order it sends them. The benchmark applies
// them directly to measure the apiserver's own limit.
func RenderNewTenant(t *tenancyv1alpha1.Tenant, allowedBy []*tenancyv1alpha1.Tenant, cfg Config, ca *CA, now time.Time, rand io.Reader) ([]*unstructured.Unstructured, error) {
	d, err := computeDesiredState(t, cfg, observedState{secrets: map[string]*corev1.Secret{}, ca: ca, now: now, rand: rand, allowedBy: allowedBy})
	if err != nil {
		return nil, err
	}
	scheme := NewScheme()
	out := make([]*unstructured.Unstructured, 0, len(d.objects))
	for _, o := range d.objects {
		u, err := toApplyConfiguration(o.obj, scheme)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
