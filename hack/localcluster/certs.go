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

package localcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// inClusterNames are the names and addresses the apiserver's certificate holds when a node runs pods: loopback for
// the tests, the kubernetes Service's names and address for in-cluster clients (client-go's in-cluster config dials
// the Service address), and the pod network's gateway, where the node relays it.
var inClusterNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}

func inClusterIPs() []net.IP {
	return []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(KubernetesServiceIP), net.ParseIP(podGateway)}
}

// KubernetesServiceIP is the kubernetes Service's address: the first of the service range.
const KubernetesServiceIP = "10.96.0.1"

// writeServingCerts writes a serving certificate for names and ips, and its key, where the apiserver looks for them
// in certDir, and the ServiceAccount token signer's key and certificate: envtest then generates none of them. It
// returns the PEM of the CA that signed the serving certificate.
func writeServingCerts(certDir string, names []string, ips []net.IP) ([]byte, error) {
	now := time.Now()
	ca, caKey, caPEM, _, err := newCertificate(&x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "local cluster CA"},
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}, nil, nil, now)
	if err != nil {
		return nil, err
	}
	_, _, servingPEM, servingKey, err := newCertificate(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: names, IPAddresses: ips,
	}, ca, caKey, now)
	if err != nil {
		return nil, err
	}
	_, _, signerPEM, signerKey, err := newCertificate(&x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "service account signer"},
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}, nil, nil, now)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"apiserver.crt": servingPEM, "apiserver.key": servingKey,
		"sa-signer.crt": signerPEM, "sa-signer.key": signerKey,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	return caPEM, nil
}

// newCertificate signs template (valid for a week) with a new P-256 key, by parent and parentKey, or by itself
// when parent is nil; it returns the certificate and key, parsed and as PEM.
func newCertificate(template, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	template.NotBefore, template.NotAfter = now.Add(-time.Hour), now.Add(7*24*time.Hour)
	if parent == nil {
		parent, parentKey = template, key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
