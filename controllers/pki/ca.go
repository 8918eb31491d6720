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
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CA signs the back-end certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed CA valid for ten years. Its name constraints (critical, so a client that cannot check
// them refuses the CA) make any certificate it signs valid only for names under "svc" and "svc.<clusterDomain>", the
// Service names of the cluster, and never for an IP address: a leaked CA key, or a bug in what the operator signs,
// cannot yield a certificate for another site. A CA created before the constraints existed, or supplied by the
// admin, is used as it is: replace its Secret to get them.
func NewCA(clusterDomain string, now time.Time, rand io.Reader) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tenant-operator CA", Organization: []string{"tenant-operator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Tenant back-ends are served as backend.<ns>.svc[.<clusterDomain>] (backendDNSNames).
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{"svc", "svc." + strings.TrimSuffix(clusterDomain, ".")},
		ExcludedIPRanges: []*net.IPNet{
			{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 8*net.IPv4len)},
			{IP: net.IPv6zero, Mask: net.CIDRMask(0, 8*net.IPv6len)},
		},
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return ParseCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// ParseCA reads a CA from PEM (an ECDSA key, as NewCA makes, in SEC 1 or PKCS #8 form).
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("CA certificate or key is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("the CA certificate is not a CA")
	}
	var key *ecdsa.PrivateKey
	if key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
		parsed, perr := x509.ParsePKCS8PrivateKey(kb.Bytes)
		var ok bool
		if key, ok = parsed.(*ecdsa.PrivateKey); perr != nil || !ok {
			return nil, fmt.Errorf("the CA key must be an ECDSA key")
		}
	}
	return &CA{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// Issue signs a serving certificate for names, valid from now for lifetime.
func (ca *CA) Issue(names []string, now time.Time, lifetime time.Duration, rand io.Reader) (certPEM, keyPEM []byte, notAfter time.Time, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	serial, err := serialNumber(rand)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	notBefore := now.UTC().Truncate(time.Second)
	notAfter = notBefore.Add(lifetime)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[len(names)-1]},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), notAfter, nil
}

func serialNumber(rand io.Reader) (*big.Int, error) {
	return cryptorand.Int(rand, new(big.Int).Lsh(big.NewInt(1), 127))
}

// CAProvider loads the operator's CA from its Secret, creating the Secret at first use unless the admin supplied one,
// and keeps it in memory.
type CAProvider struct {
	Reader    client.Reader
	Writer    client.Client
	Namespace string
	Name      string
	// Labels are the labels of a CA Secret created here.
	Labels map[string]string
	// ClusterDomain bounds the names a CA created here may sign for (NewCA).
	ClusterDomain string
	Clock         func() time.Time
	Rand          io.Reader

	mu sync.Mutex
	ca *CA
}

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create

// Get returns the CA.
func (p *CAProvider) Get(ctx context.Context) (*CA, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ca != nil {
		return p.ca, nil
	}
	secret := &corev1.Secret{}
	err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, secret)
	if apierrors.IsNotFound(err) {
		ca, err := NewCA(p.ClusterDomain, p.Clock(), p.Rand)
		if err != nil {
			return nil, err
		}
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: ca.CertPEM, corev1.TLSPrivateKeyKey: ca.KeyPEM},
		}
		switch err := p.Writer.Create(ctx, secret); {
		case err == nil:
			p.ca = ca
			return ca, nil
		case !apierrors.IsAlreadyExists(err):
			return nil, fmt.Errorf("creating CA secret %s/%s: %w", p.Namespace, p.Name, err)
		}
		// Another replica created it first: use theirs.
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, secret); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	ca, err := ParseCA(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("CA secret %s/%s: %w", p.Namespace, p.Name, err)
	}
	p.ca = ca
	return ca, nil
}

// ParseCertificate returns the first certificate of PEM data, or nil if there is none that parses.
func ParseCertificate(certPEM []byte) *x509.Certificate {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	return cert
}

// RenewalTime is two thirds into a certificate's lifetime.
func RenewalTime(notBefore, notAfter time.Time) time.Time {
	return notBefore.Add(notAfter.Sub(notBefore) * 2 / 3)
}
