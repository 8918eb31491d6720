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
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
)

const (
	defaultSecretLength = 32
	secretAlphabet      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// AnnotationNotAfter on backend-tls records when its certificate expires (for status and metrics).
	AnnotationNotAfter = "tenancy.tenant-operator.dev/not-after"
	// encryptionKeyPrimary names the key-ring entry holding the name of the key to encrypt new data with.
	encryptionKeyPrimary = "primary"
	encryptionKeyPrefix  = "key-"
	encryptionKeyBytes   = 32
	// caCertKey in backend-tls holds the CA's certificate, for clients of the back-end.
	caCertKey = "ca.crt"
)

// secretKeys are the keys of a generated secret: spec keys, defaulting to [password].
func secretKeys(s tenancyv1alpha1.GeneratedSecret) []string {
	if len(s.Keys) == 0 {
		return []string{"password"}
	}
	return s.Keys
}

func secretLength(s tenancyv1alpha1.GeneratedSecret) int {
	if s.Length != nil {
		return int(*s.Length)
	}
	return defaultSecretLength
}

// generatedAt reads when the operator last generated a secret's values; zero when unknown.
func generatedAt(s *corev1.Secret) time.Time {
	if s == nil {
		return time.Time{}
	}
	at, err := time.Parse(time.RFC3339, s.Annotations[AnnotationGenerated])
	if err != nil {
		return time.Time{}
	}
	return at
}

// desiredGeneratedSecret computes a spec.secrets entry. Existing values are kept until rotationPeriod has passed
// since they were generated, or their length no longer matches; then every key gets a new value. Keys added to the
// spec get values, removed ones go. rotated reports whether any value was generated.
func desiredGeneratedSecret(t *tenancyv1alpha1.Tenant, s tenancyv1alpha1.GeneratedSecret, existing *corev1.Secret,
	now time.Time, rand io.Reader) (secret *corev1.Secret, rotated bool, err error) {
	length := secretLength(s)
	at := generatedAt(existing)
	due := existing == nil || at.IsZero() ||
		(s.RotationPeriod != nil && !now.Before(at.Add(s.RotationPeriod.Duration)))
	data := map[string][]byte{}
	for _, key := range secretKeys(s) {
		if !due {
			if v, ok := existing.Data[key]; ok && len(v) == length {
				data[key] = v
				continue
			}
			// A new key, or a new length: treat it as a rotation of the whole secret.
			due = true
		}
	}
	if due {
		at = now.UTC().Truncate(time.Second)
		for _, key := range secretKeys(s) {
			if data[key], err = randomString(rand, length); err != nil {
				return nil, false, err
			}
		}
	}
	secret = &corev1.Secret{ObjectMeta: objectMeta(t, s.Name), Type: corev1.SecretTypeOpaque, Data: data}
	secret.Annotations = map[string]string{AnnotationGenerated: at.Format(time.RFC3339)}
	return secret, due, nil
}

// desiredEncryptionKey is the tenant's key ring for its own encryption at rest: key-1, key-2, ... each 256 random
// bits, and "primary" naming the one to encrypt new data with. A rotation adds a key and makes it primary; no key is
// ever removed, so data encrypted under an old key stays readable.
func desiredEncryptionKey(t *tenancyv1alpha1.Tenant, existing *corev1.Secret, rotationPeriod time.Duration,
	now time.Time, rand io.Reader) (secret *corev1.Secret, rotated bool, err error) {
	data := map[string][]byte{}
	newest := 0
	if existing != nil {
		for k, v := range existing.Data {
			if n, err := strconv.Atoi(strings.TrimPrefix(k, encryptionKeyPrefix)); err == nil && strings.HasPrefix(k, encryptionKeyPrefix) && len(v) == encryptionKeyBytes {
				data[k] = v
				newest = max(newest, n)
			}
		}
	}
	at := generatedAt(existing)
	if newest == 0 || at.IsZero() || (rotationPeriod > 0 && !now.Before(at.Add(rotationPeriod))) {
		newest++
		key := make([]byte, encryptionKeyBytes)
		if _, err := io.ReadFull(rand, key); err != nil {
			return nil, false, err
		}
		data[encryptionKeyPrefix+strconv.Itoa(newest)] = key
		at = now.UTC().Truncate(time.Second)
		rotated = true
	}
	data[encryptionKeyPrimary] = []byte(encryptionKeyPrefix + strconv.Itoa(newest))
	secret = &corev1.Secret{ObjectMeta: objectMeta(t, EncryptionKeyName), Type: corev1.SecretTypeOpaque, Data: data}
	secret.Annotations = map[string]string{AnnotationGenerated: at.Format(time.RFC3339)}
	return secret, rotated, nil
}

// backendDNSNames are the names the back-end's Service answers to that the CA's name constraints permit: those under
// "svc". The short forms (backend, backend.<ns>) resolve through the search path only and could be any name: a client
// must ask for backend.<ns>.svc. Certificates issued with the short forms are reissued (certificateCurrent).
func backendDNSNames(t *tenancyv1alpha1.Tenant, clusterDomain string) []string {
	ns := TenantNamespace(t)
	return []string{
		BackendName + "." + ns + ".svc",
		BackendName + "." + ns + ".svc." + clusterDomain,
	}
}

// desiredTLSSecret is the back-end's serving certificate, signed by the operator's CA. The existing certificate is
// kept until two thirds of its lifetime have passed, or until it no longer matches the CA or the Service's names.
func desiredTLSSecret(t *tenancyv1alpha1.Tenant, existing *corev1.Secret, ca *pki.CA, cfg Config,
	now time.Time, rand io.Reader) (secret *corev1.Secret, renewed bool, err error) {
	names := backendDNSNames(t, cfg.ClusterDomain)
	data := map[string][]byte{}
	var notAfter time.Time
	if cert := ParseCertificate(existing); cert != nil && certificateCurrent(cert, existing, ca, names, now) {
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			data[k] = existing.Data[k]
		}
		notAfter = cert.NotAfter
	} else {
		if data[corev1.TLSCertKey], data[corev1.TLSPrivateKeyKey], notAfter, err = ca.Issue(names, now, cfg.CertificateLifetime, rand); err != nil {
			return nil, false, err
		}
		renewed = true
	}
	data[caCertKey] = ca.CertPEM
	secret = &corev1.Secret{ObjectMeta: objectMeta(t, TLSSecretName), Type: corev1.SecretTypeTLS, Data: data}
	secret.Annotations = map[string]string{AnnotationNotAfter: notAfter.UTC().Format(time.RFC3339)}
	return secret, renewed, nil
}

// ParseCertificate returns the certificate of a TLS Secret, nil if it holds none.
func ParseCertificate(s *corev1.Secret) *x509.Certificate {
	if s == nil {
		return nil
	}
	return pki.ParseCertificate(s.Data[corev1.TLSCertKey])
}

// certificateCurrent: signed by this CA, for exactly these names, with its key present, before its renewal time.
func certificateCurrent(cert *x509.Certificate, s *corev1.Secret, ca *pki.CA, names []string, now time.Time) bool {
	if cert.CheckSignatureFrom(ca.Cert) != nil || len(s.Data[corev1.TLSPrivateKeyKey]) == 0 {
		return false
	}
	if !slices.Equal(sortedCopy(cert.DNSNames), sortedCopy(names)) {
		return false
	}
	return now.Before(pki.RenewalTime(cert.NotBefore, cert.NotAfter))
}

// secretsVersion identifies the generated values the back-end's pods see: a hash of every generated secret's
// generation time. A rotation changes it, which rolls the pods.
func secretsVersion(secrets []*corev1.Secret) string {
	lines := make([]string, 0, len(secrets))
	for _, s := range secrets {
		lines = append(lines, s.Name+"="+s.Annotations[AnnotationGenerated]+s.Annotations[AnnotationNotAfter])
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:8])
}

// randomString returns n characters drawn uniformly from secretAlphabet (rejection sampling: no modulo bias).
func randomString(rand io.Reader, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	const limit = 256 - 256%len(secretAlphabet)
	for len(out) < n {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, fmt.Errorf("reading randomness: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, secretAlphabet[int(b)%len(secretAlphabet)])
			}
		}
	}
	return out, nil
}
