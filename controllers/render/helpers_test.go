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
	"crypto/x509"
	"math/rand/v2"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/pki"
)

type (
	clientObject     = client.Object
	appsv1Deployment = appsv1.Deployment
)

func rand2() *seededRand { return &seededRand{rand.NewChaCha8([32]byte{2})} }

func mustQty(s string) resource.Quantity { return resource.MustParse(s) }

func intstrOf(i int32) intstr.IntOrString { return intstr.FromInt32(i) }

func durationPtr(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func pool(ca *pki.CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
