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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestSecretMemoryRestoresWhatTheOperatorWrote: a generated Secret that is gone or holds other values than the
// operator wrote is observed as the operator wrote it; one that matches (the TLS secret as the cache holds it, without
// ca.crt) is observed as it is; secrets no longer wanted are forgotten.
func TestSecretMemoryRestoresWhatTheOperatorWrote(t *testing.T) {
	secret := func(name string, typ corev1.SecretType, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{render.AnnotationGenerated: "2026-01-01T00:00:00Z"}}, Type: typ, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	m := secretMemory{}
	written := map[string]*corev1.Secret{
		"db":                     secret("db", corev1.SecretTypeOpaque, map[string]string{"password": "original"}),
		render.EncryptionKeyName: secret(render.EncryptionKeyName, corev1.SecretTypeOpaque, map[string]string{"key-1": "k1", "primary": "key-1"}),
		render.TLSSecretName:     secret(render.TLSSecretName, corev1.SecretTypeTLS, map[string]string{"tls.key": "key", "ca.crt": "ca"}),
		"removed":                secret("removed", corev1.SecretTypeOpaque, map[string]string{"password": "x"}),
	}
	for _, s := range written {
		m.remember(s)
	}
	cachedTLS := secret(render.TLSSecretName, corev1.SecretTypeTLS, map[string]string{"tls.key": "key"})
	observed := map[string]*corev1.Secret{
		"db":                 secret("db", corev1.SecretTypeOpaque, map[string]string{"password": "tampered"}),
		render.TLSSecretName: cachedTLS,
		// encryption-key deleted
	}
	wanted := map[string]bool{"db": true, render.EncryptionKeyName: true, render.TLSSecretName: true}
	m.restore(observed, wanted)
	if string(observed["db"].Data["password"]) != "original" {
		t.Errorf("overwritten value observed as %q", observed["db"].Data["password"])
	}
	if observed[render.EncryptionKeyName] == nil || string(observed[render.EncryptionKeyName].Data["key-1"]) != "k1" {
		t.Errorf("deleted key ring observed as %v", observed[render.EncryptionKeyName])
	}
	if observed[render.TLSSecretName] != cachedTLS {
		t.Error("a TLS secret as the operator wrote it was taken for drift")
	}
	if _, ok := observed["removed"]; ok {
		t.Error("a secret no longer wanted was brought back")
	}
	if _, ok := m["removed"]; ok {
		t.Error("a secret no longer wanted is still remembered")
	}
}
