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
	"bytes"
	"maps"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// secretMemory remembers, per tenant, the values the operator last wrote into each generated Secret. Generated values
// exist nowhere else: a deleted key ring rebuilt from fresh randomness would make every byte the tenant encrypted
// unreadable, and a value someone overwrote (with one of the same length, so that nothing looks wrong) would be kept
// as if the operator had chosen it. With the values remembered, both are drift, restored as they were. The memory
// lasts as long as the process: after a restart, what the apiserver holds is taken as written.
type secretMemory struct {
	byTenant sync.Map // tenant name -> map[secret name]*corev1.Secret; each tenant's map is used by its reconcile only
}

// remember records what the operator applied (or found as desired) for a generated secret.
func (m *secretMemory) remember(tenant string, s *corev1.Secret) {
	values, _ := m.byTenant.LoadOrStore(tenant, map[string]*corev1.Secret{})
	// References, not copies: desired objects are built anew each pass and never modified once applied.
	values.(map[string]*corev1.Secret)[s.Name] = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: s.Labels, Annotations: s.Annotations},
		Type:       s.Type, Data: asCached(s),
	}
}

// restore returns the observed generated secrets with every one that is missing or differs from what the operator
// last wrote replaced by that. Only secrets the tenant still wants (wanted) are kept in memory.
func (m *secretMemory) restore(tenant string, observed map[string]*corev1.Secret, wanted map[string]bool) {
	values, ok := m.byTenant.Load(tenant)
	if !ok {
		return
	}
	remembered := values.(map[string]*corev1.Secret)
	for name, s := range remembered {
		if !wanted[name] {
			delete(remembered, name)
			continue
		}
		if current := observed[name]; current == nil || !maps.EqualFunc(current.Data, s.Data, bytes.Equal) ||
			current.Annotations[AnnotationGenerated] != s.Annotations[AnnotationGenerated] {
			observed[name] = s
		}
	}
}

func (m *secretMemory) forget(tenant string) { m.byTenant.Delete(tenant) }

// asCached is a secret's data as the cache holds it: without the CA certificate of TLS secrets, which comes from the
// operator's CA, never from the secret.
func asCached(s *corev1.Secret) map[string][]byte {
	data := s.Data
	if _, ok := data[caCertKey]; ok && s.Type == corev1.SecretTypeTLS {
		data = maps.Clone(data)
		delete(data, caCertKey)
	}
	return data
}

// generatedSecretNames are the Secrets whose values the operator generates for t.
func generatedSecretNames(t *tenancyv1alpha1.Tenant) map[string]bool {
	names := map[string]bool{EncryptionKeyName: true}
	if t.Spec.Backend != nil {
		names[TLSSecretName] = true
	}
	for _, s := range t.Spec.Secrets {
		names[s.Name] = true
	}
	return names
}
