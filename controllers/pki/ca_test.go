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

package pki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// signLeaf signs a serving certificate for any names and addresses, as a leaked CA key or a bug could: what the
// CA's name constraints must make worthless outside the cluster's Service names.
func signLeaf(t *testing.T, ca *CA, dnsNames []string, ips []net.IP) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), newSeededRand())
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "leaf"},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
		NotBefore:    t0,
		NotAfter:     t0.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(newSeededRand(), tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestCANameConstraints(t *testing.T) {
	ca, err := NewCA("example.internal", t0, newSeededRand())
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.PermittedDNSDomainsCritical {
		t.Error("the name constraints must be critical: a client unable to check them must refuse the CA")
	}
	for _, tc := range []struct {
		name  string
		dns   []string
		ips   []net.IP
		valid bool
	}{
		{"a back-end's Service name", []string{"backend.acme.svc"}, nil, true},
		{"its fully qualified name", []string{"backend.acme.svc.example.internal"}, nil, true},
		{"both, as the operator issues them", []string{"backend.acme.svc", "backend.acme.svc.example.internal"}, nil, true},
		{"another site", []string{"evil.example.com"}, nil, false},
		{"another cluster domain", []string{"backend.acme.svc.cluster.local"}, nil, false},
		{"svc not as a label of its own", []string{"backend.acmesvc"}, nil, false},
		{"svc further left", []string{"backend.svc.evil.example.com"}, nil, false},
		{"a short name", []string{"backend"}, nil, false},
		{"a namespace-qualified name", []string{"backend.acme"}, nil, false},
		{"a Service name beside another site", []string{"backend.acme.svc", "evil.example.com"}, nil, false},
		{"an IPv4 address", nil, []net.IP{net.ParseIP("10.96.0.10")}, false},
		{"a public IPv4 address", nil, []net.IP{net.ParseIP("203.0.113.7").To4()}, false},
		{"an IPv6 address", nil, []net.IP{net.ParseIP("fd00::10")}, false},
		{"a Service name and an address", []string{"backend.acme.svc"}, []net.IP{net.ParseIP("10.96.0.10")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := signLeaf(t, ca, tc.dns, tc.ips)
			_, err := leaf.Verify(x509.VerifyOptions{Roots: pool(ca), CurrentTime: t0.Add(time.Hour)})
			var invalid x509.CertificateInvalidError
			switch {
			case tc.valid && err != nil:
				t.Errorf("does not verify: %v", err)
			case !tc.valid && err == nil:
				t.Error("verifies: the CA's name constraints let it through")
			case !tc.valid && (!errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName):
				t.Errorf("refused for another reason than the name constraints: %v", err)
			}
		})
	}
}

// TestCAProviderKeepsAnExistingCA: a CA created before the name constraints existed, or supplied by the admin, is
// used as it is; only a CA the operator creates gets them.
func TestCAProviderKeepsAnExistingCA(t *testing.T) {
	ctx := context.Background()
	old, err := NewCA("cluster.local", t0, newSeededRand())
	if err != nil {
		t.Fatal(err)
	}
	// Strip the constraints the way a CA of an earlier release lacks them: re-sign the same key without them.
	tmpl := *old.Cert
	tmpl.PermittedDNSDomains, tmpl.ExcludedIPRanges, tmpl.PermittedDNSDomainsCritical = nil, nil, false
	der, err := x509.CreateCertificate(newSeededRand(), &tmpl, &tmpl, &old.Key.PublicKey, old.Key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "ca"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: old.KeyPEM},
	}
	for _, tc := range []struct {
		name            string
		existing        []*corev1.Secret
		wantConstrained bool
	}{
		{"existing CA without constraints", []*corev1.Secret{secret}, false},
		{"no CA yet", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(scheme.Scheme)
			for _, s := range tc.existing {
				b = b.WithObjects(s.DeepCopy())
			}
			c := b.Build()
			p := &CAProvider{Reader: c, Writer: c, Namespace: "ops", Name: "ca", ClusterDomain: "cluster.local",
				Clock: func() time.Time { return t0 }, Rand: newSeededRand()}
			ca, err := p.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if constrained := len(ca.Cert.PermittedDNSDomains) > 0; constrained != tc.wantConstrained {
				t.Errorf("constrained = %v, want %v (permitted %v)", constrained, tc.wantConstrained, ca.Cert.PermittedDNSDomains)
			}
			if len(tc.existing) > 0 && !bytes.Equal(ca.CertPEM, certPEM) {
				t.Error("the existing CA was replaced")
			}
		})
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seededRand is deterministic randomness, so that keys and serials are the same on every run.
type seededRand struct{ r *rand.ChaCha8 }

func newSeededRand() *seededRand { return &seededRand{rand.NewChaCha8([32]byte{1})} }

func (s *seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

func pool(ca *CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
