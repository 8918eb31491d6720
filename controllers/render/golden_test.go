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
	"bytes"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// everyField is a Tenant that sets every optional field of the spec.
func everyField() *tenancyv1alpha1.Tenant {
	return &tenancyv1alpha1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: "umbrella", Generation: 4},
		Spec: tenancyv1alpha1.TenantSpec{
			Namespace: "umbrella-prod", DisplayName: "Umbrella Corporation",
			Owners: []tenancyv1alpha1.Subject{
				{Kind: tenancyv1alpha1.SubjectUser, Name: "oidc:alice@umbrella.example"},
				{Kind: tenancyv1alpha1.SubjectGroup, Name: "oidc:umbrella-admins"},
			},
			Members: []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "deployer", Namespace: "ci"}},
			Viewers: []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "oidc:auditors"}},
			NamespaceMetadata: &tenancyv1alpha1.NamespaceMetadata{
				Labels:      map[string]tenancyv1alpha1.LabelValue{"istio-injection": "enabled", "example.com/cost-centre": "cc-42"},
				Annotations: map[string]string{"backup.example.com/schedule": "daily"},
			},
			ExtraRoles: []tenancyv1alpha1.ExtraRole{{ClusterRole: "cert-manager-edit", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}}},
			Quota: &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{
				corev1.ResourceRequestsCPU: resource.MustParse("8"), corev1.ResourcePods: resource.MustParse("20"),
			}},
			Limits: &tenancyv1alpha1.LimitsSpec{
				Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				DefaultRequest: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				Max:            corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")},
			},
			Network: &tenancyv1alpha1.NetworkSpec{
				AllowFromTenants: []string{"wayne", "stark"},
				Egress:           &tenancyv1alpha1.EgressSpec{AllowInternet: true, AllowedCIDRs: []string{"203.0.113.0/24"}},
			},
			Backend: &tenancyv1alpha1.BackendSpec{
				Image: "registry.example/umbrella/api:1.2.3", Replicas: ptr.To[int32](3), Port: ptr.To[int32](9443),
				Command: []string{"/api"}, Args: []string{"--tls"},
				Env: []tenancyv1alpha1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}},
				Resources: &corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
				},
				RuntimeClassName: ptr.To("gvisor"),
			},
			Secrets: []tenancyv1alpha1.GeneratedSecret{
				{Name: "db", Keys: []string{"password", "username"}, Length: ptr.To[int32](40), RotationPeriod: &metav1.Duration{Duration: 30 * 24 * time.Hour}},
			},
			PreventDeletion: true, DeletionPolicy: tenancyv1alpha1.DeletionPolicyDelete, AdoptRetainedNamespace: true,
		},
	}
}

// TestCasesGolden renders the cases a fresh sample does not show into testdata/golden/cases/<case>.yaml: every
// optional field set; a tenant allowed in by two others; a rotation and a renewal due; an egress CIDR refused; and
// what a tenant deleted with deletionPolicy Retain leaves.
func TestCasesGolden(t *testing.T) {
	withBackend := func(name string, port int32, allow ...string) *tenancyv1alpha1.Tenant {
		return &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenancyv1alpha1.TenantSpec{
			Network: &tenancyv1alpha1.NetworkSpec{AllowFromTenants: allow},
			Backend: &tenancyv1alpha1.BackendSpec{Image: "registry.example/" + name + ":1", Port: ptr.To(port)},
		}}
	}
	for _, tc := range []struct {
		name string
		out  func(t *testing.T) []byte
	}{{
		name: "every-optional-field",
		out: func(t *testing.T) []byte {
			return goldenObjects(t, render(t, everyField(), nil, t0).Objects)
		},
	}, {
		name: "allowed-in-by-two-tenants",
		out: func(t *testing.T) []byte {
			allowedBy := []*tenancyv1alpha1.Tenant{withBackend("stark", 8443, "umbrella"), withBackend("wayne", 9000, "umbrella")}
			d, err := DesiredState(everyField(), testConfig(), Observed{
				Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: t0, Rand: newSeededRand(), AllowedBy: allowedBy,
			})
			if err != nil {
				t.Fatal(err)
			}
			return goldenObjects(t, d.Objects)
		},
	}, {
		// The secrets as a first pass wrote them, rendered again once the generated secret's rotation period, the
		// certificate's renewal time and the key ring's rotation period have all passed.
		name: "rotation-and-renewal-due",
		out: func(t *testing.T) []byte {
			tenant := everyField()
			first := render(t, tenant, nil, t0)
			existing := map[string]*corev1.Secret{}
			for _, o := range first.Objects {
				if s, ok := o.Obj.(*corev1.Secret); ok {
					existing[s.Name] = s
				}
			}
			due := t0.Add(DefaultConfig().EncryptionKeyRotationPeriod)
			if !first.RequeueAt.Before(due) {
				t.Fatalf("the first pass asks to come back at %s, after everything is due (%s)", first.RequeueAt, due)
			}
			return goldenObjects(t, secretsOf(render(t, tenant, existing, due).Objects))
		},
	}, {
		name: "egress-cidr-refused",
		out: func(t *testing.T) []byte {
			tenant := everyField()
			tenant.Spec.Network.Egress.AllowedCIDRs = []string{"203.0.113.0/24", "10.96.0.0/12", "169.254.169.254/32"}
			d := render(t, tenant, nil, t0)
			var out bytes.Buffer
			for _, p := range d.Refused {
				fmt.Fprintf(&out, "# refused, %s: %s: %s\n", p.Area, p.Reason, p.Message)
			}
			out.Write(goldenObjects(t, networkOf(d.Objects)))
			return out.Bytes()
		},
	}, {
		// A database on a registered server: its Secret (the URL verifying the server's CA), the egress to the
		// server's address and port only, and the back-end's environment and CA mount.
		name: "database",
		out: func(t *testing.T) []byte {
			tenant := everyField()
			tenant.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSchemaPerTenant,
				RotationPeriod: &metav1.Duration{Duration: 720 * time.Hour}}
			d, err := DesiredState(tenant, testConfig(), Observed{
				Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: t0, Rand: newSeededRand(),
				Database: &DatabaseEndpoint{Host: "db.example", Port: 5432, CACert: []byte("-----BEGIN CERTIFICATE-----\n...\n"),
					EgressCIDRs: []string{"198.51.100.20/32", "198.51.100.21/32"}, Database: "tenants"},
			})
			if err != nil {
				t.Fatal(err)
			}
			var objects []Object
			for _, o := range d.Objects {
				switch obj := o.Obj.(type) {
				case *corev1.Secret:
					if obj.Name == DatabaseSecretName {
						objects = append(objects, o)
					}
				case *networkingv1.NetworkPolicy:
					if obj.Name == PolicyDatabase {
						objects = append(objects, o)
					}
				case *appsv1.Deployment:
					objects = append(objects, o)
				}
			}
			return goldenObjects(t, objects)
		},
	}, {
		name: "retained",
		out: func(t *testing.T) []byte {
			tenant := everyField()
			objects := []Object{
				{Area: AreaNamespace, Obj: RetainedNamespace(tenant, nil, nil)},
				{Area: AreaQuota, Obj: RetainedQuota(tenant)},
				{Area: AreaNetwork, Obj: DefaultDeny(tenant)},
				{Area: AreaBackend, Obj: ScaledDownBackend(tenant, map[string]string{AnnotationSecretsVersion: "0123456789abcdef"})},
			}
			return goldenObjects(t, objects)
		},
	}, {
		// HIPAA without a retention of its own: held six years from the deletion, then kept.
		name: "retained-hipaa",
		out: func(t *testing.T) []byte {
			tenant := everyField()
			tenant.Spec.Compliance = []tenancyv1alpha1.ComplianceProfile{tenancyv1alpha1.ComplianceHIPAA}
			retainedAt := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
			return goldenObjects(t, []Object{{Area: AreaNamespace, Obj: RetainedNamespace(tenant, nil, RetentionFor(tenant, retainedAt))}})
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, "cases/"+tc.name, tc.out(t))
		})
	}
}

func secretsOf(objects []Object) []Object { return objectsOf[*corev1.Secret](objects) }

func networkOf(objects []Object) []Object {
	var out []Object
	for _, o := range objects {
		if o.Area == AreaNetwork {
			out = append(out, o)
		}
	}
	return out
}

func objectsOf[T client.Object](objects []Object) []Object {
	var out []Object
	for _, o := range objects {
		if _, ok := o.Obj.(T); ok {
			out = append(out, o)
		}
	}
	return out
}
