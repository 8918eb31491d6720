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
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	sigsyaml "sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seededRand is a deterministic randomness source for the pure builders.
type seededRand struct{ r *rand.ChaCha8 }

func newSeededRand() *seededRand { return &seededRand{rand.NewChaCha8([32]byte{1})} }

func (s *seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

var testCA = func() *CA {
	ca, err := NewCA(t0, newSeededRand())
	if err != nil {
		panic(err)
	}
	return ca
}()

func render(t *testing.T, tenant *tenancyv1alpha1.Tenant, secrets map[string]*corev1.Secret, now time.Time) *desiredState {
	t.Helper()
	if secrets == nil {
		secrets = map[string]*corev1.Secret{}
	}
	d, err := computeDesiredState(tenant, DefaultConfig(), observedState{secrets: secrets, ca: testCA, now: now, rand: newSeededRand()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadSamples reads every Tenant in config/samples.
func loadSamples(t *testing.T) []*tenancyv1alpha1.Tenant {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "config", "samples", "tenant_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var out []*tenancyv1alpha1.Tenant
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			tenant := &tenancyv1alpha1.Tenant{}
			if err := dec.Decode(tenant); err != nil {
				break
			}
			out = append(out, tenant)
		}
	}
	return out
}

// TestSamplesGolden renders every sample and compares with testdata/golden/<tenant>.yaml. Secret values are replaced
// by their length, and certificates by their names, so the files are stable and hold nothing secret.
// Run "go test ./controllers -run TestSamplesGolden -update" after an intended change, and review the diff.
func TestSamplesGolden(t *testing.T) {
	for _, tenant := range loadSamples(t) {
		t.Run(tenant.Name, func(t *testing.T) {
			d := render(t, tenant, nil, t0)
			var out bytes.Buffer
			for _, o := range d.objects {
				obj := o.obj.DeepCopyObject()
				if s, ok := obj.(*corev1.Secret); ok {
					for k, v := range s.Data {
						s.Data[k] = []byte(fmt.Sprintf("<%d bytes>", len(v)))
					}
					// ECDSA signatures and keys vary in length: only their presence is stable.
					for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
						if _, ok := s.Data[k]; ok {
							s.Data[k] = []byte("<PEM>")
						}
					}
				}
				u, err := toApplyConfiguration(obj.(clientObject), NewScheme())
				if err != nil {
					t.Fatal(err)
				}
				b, err := sigsyaml.Marshal(u.Object)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&out, "# area: %s\n---\n%s", o.area, b)
			}
			golden := filepath.Join("testdata", "golden", tenant.Name+".yaml")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				t.Errorf("rendered objects differ from %s (run with -update and review the diff):\n%s", golden, firstDiff(string(want), out.String()))
			}
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  golden:   %s\n  rendered: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}

func find[T any](t *testing.T, d *desiredState, name string) T {
	t.Helper()
	for _, o := range d.objects {
		if v, ok := o.obj.(T); ok && o.obj.GetName() == name {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T named %s", zero, name)
	return zero
}

func TestEveryObjectIsLabelled(t *testing.T) {
	for _, tenant := range loadSamples(t) {
		for _, o := range render(t, tenant, nil, t0).objects {
			if !isManagedBy(o.obj, tenant.Name) {
				t.Errorf("%s %s lacks the managed-by and tenant labels: %v", kindOf(o.obj), o.obj.GetName(), o.obj.GetLabels())
			}
		}
	}
}

// TestGitOpsMarksStayOnTheTenant: Argo CD tracks what it applied by an annotation or app.kubernetes.io/instance;
// generated objects carrying either would be shown as out of sync, or pruned, by the Application of the Tenant.
func TestGitOpsMarksStayOnTheTenant(t *testing.T) {
	for _, tenant := range loadSamples(t) {
		tenant.Labels = map[string]string{"app.kubernetes.io/instance": "platform", "team": "a"}
		tenant.Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "platform:tenancy.tenant-operator.dev/Tenant:/" + tenant.Name}
		for _, o := range render(t, tenant, nil, t0).objects {
			metas := []metav1.Object{o.obj}
			if d, ok := o.obj.(*appsv1.Deployment); ok {
				metas = append(metas, &d.Spec.Template)
			}
			for _, m := range metas {
				for k := range tenant.Labels {
					if _, ok := m.GetLabels()[k]; ok {
						t.Errorf("%s %s carries the Tenant's label %s", kindOf(o.obj), o.obj.GetName(), k)
					}
				}
				for k := range tenant.Annotations {
					if _, ok := m.GetAnnotations()[k]; ok {
						t.Errorf("%s %s carries the Tenant's annotation %s", kindOf(o.obj), o.obj.GetName(), k)
					}
				}
			}
		}
	}
}

func TestNamespace(t *testing.T) {
	ns := desiredNamespace(&tenancyv1alpha1.Tenant{})
	for _, mode := range []string{"enforce", "audit", "warn"} {
		if got := ns.Labels["pod-security.kubernetes.io/"+mode]; got != "restricted" {
			t.Errorf("pod-security %s = %q, want restricted", mode, got)
		}
	}
}

func TestNetworkPolicies(t *testing.T) {
	base := tenancyv1alpha1.Tenant{}
	base.Name = "a"
	withBackend := base
	withBackend.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x", Port: ptr.To[int32](9000)}
	tests := []struct {
		name string
		spec func(*tenancyv1alpha1.Tenant)
		cfg  func(*Config)
		want []string
	}{
		{"no back-end: deny, same namespace, DNS", func(*tenancyv1alpha1.Tenant) {}, nil,
			[]string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS}},
		{"back-end: ingress controllers too", func(t *tenancyv1alpha1.Tenant) { t.Spec.Backend = withBackend.Spec.Backend }, nil,
			[]string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS, PolicyIngressControllers}},
		{"no ingress namespaces configured", func(t *tenancyv1alpha1.Tenant) { t.Spec.Backend = withBackend.Spec.Backend },
			func(c *Config) { c.IngressNamespaces = nil },
			[]string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS}},
		{"allowed tenants, sorted, self ignored", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Backend = withBackend.Spec.Backend
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"c", "a", "b"}}
		}, nil, []string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS, PolicyIngressControllers, "allow-from-tenant-b", "allow-from-tenant-c"}},
		{"allowed tenants without a back-end open nothing", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"b"}}
		}, nil, []string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS}},
		{"egress CIDRs and internet", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowInternet: true, AllowedCIDRs: []string{"10.1.0.0/16"}}}
		}, nil, []string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS, PolicyEgressCIDRs, PolicyEgressInternet}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tenant := base.DeepCopy()
			tt.spec(tenant)
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			policies := desiredNetworkPolicies(tenant, cfg)
			got := make([]string, 0, len(policies))
			for _, np := range policies {
				got = append(got, np.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("policies = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInternetEgressExcludesMetadataAndClusterRanges(t *testing.T) {
	peers := internetPeers([]string{"10.0.0.0/8", "fd00::/8", "192.168.1.7/16"})
	if peers[0].IPBlock.CIDR != "0.0.0.0/0" || strings.Join(peers[0].IPBlock.Except, ",") != "169.254.169.254/32,10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("IPv4 block = %+v", peers[0].IPBlock)
	}
	if peers[1].IPBlock.CIDR != "::/0" || strings.Join(peers[1].IPBlock.Except, ",") != "fd00::/8" {
		t.Errorf("IPv6 block = %+v", peers[1].IPBlock)
	}
}

func TestAllowedTenantPolicySelectsTheOtherTenantsNamespace(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	tenant.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x"}
	tenant.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"b"}}
	var np *networkingv1.NetworkPolicy
	for _, p := range desiredNetworkPolicies(tenant, DefaultConfig()) {
		if p.Name == "allow-from-tenant-b" {
			np = p
		}
	}
	if np == nil {
		t.Fatal("no allow-from-tenant-b policy")
	}
	sel := np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels
	if sel[LabelTenant] != "b" || sel[LabelManagedBy] != ManagedByValue {
		t.Errorf("namespace selector = %v", sel)
	}
	if np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != BackendName || *np.Spec.Ingress[0].Ports[0].Port != intstrOf(defaultBackendPort) {
		t.Errorf("the policy must open the back-end's port only: %+v", np.Spec)
	}
}

func TestLongNamesAreHashedStably(t *testing.T) {
	long := strings.Repeat("x", 300)
	a, b := shortName("p-", long, 63), shortName("p-", long, 63)
	if a != b || len(a) > 63 {
		t.Errorf("shortName = %q (len %d), not stable or too long", a, len(a))
	}
	if shortName("p-", "short", 63) != "p-short" {
		t.Error("short keys must be kept as they are")
	}
}

func TestRoleBindings(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	if len(desiredRoleBindings(tenant)) != 0 {
		t.Error("no people, no bindings")
	}
	tenant.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: "Group", Name: "sso:admins"}}
	tenant.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: "ServiceAccount", Name: "prom", Namespace: "monitoring"}}
	rbs := desiredRoleBindings(tenant)
	if len(rbs) != 2 || rbs[0].RoleRef.Name != TenantAdminRole || rbs[1].RoleRef.Name != TenantViewerRole {
		t.Fatalf("bindings = %+v", rbs)
	}
	if s := rbs[0].Subjects[0]; s.Kind != "Group" || s.APIGroup != "rbac.authorization.k8s.io" || s.Namespace != "" {
		t.Errorf("group subject = %+v", s)
	}
	if s := rbs[1].Subjects[0]; s.Kind != "ServiceAccount" || s.APIGroup != "" || s.Namespace != "monitoring" {
		t.Errorf("service account subject = %+v", s)
	}
	role, binding := desiredOwnerAccess(tenant)
	if role.Rules[0].ResourceNames[0] != "a" || binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 {
		t.Errorf("owner access = %+v %+v", role, binding)
	}
}

func TestQuotaAndLimitsDefault(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	cfg := DefaultConfig()
	if q := desiredQuota(tenant, cfg); !q.Spec.Hard.Pods().Equal(*cfg.DefaultQuota.Pods()) {
		t.Errorf("default quota not applied: %v", q.Spec.Hard)
	}
	tenant.Spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: mustQty("3")}}
	tenant.Spec.Limits = &tenancyv1alpha1.LimitsSpec{Max: corev1.ResourceList{corev1.ResourceCPU: mustQty("1")}}
	if q := desiredQuota(tenant, cfg); len(q.Spec.Hard) != 1 || q.Spec.Hard.Pods().String() != "3" {
		t.Errorf("spec quota = %v", q.Spec.Hard)
	}
	lr := desiredLimitRange(tenant, cfg).Spec.Limits[0]
	if lr.Max.Cpu().String() != "1" || !lr.Default.Cpu().Equal(*cfg.DefaultLimits.Default.Cpu()) {
		t.Errorf("limits = %+v: spec max with default defaults expected", lr)
	}
}

func TestBackendIsHardened(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	tenant.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "img", Replicas: ptr.To[int32](3), RuntimeClassName: ptr.To("gvisor")}
	tenant.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "db-creds", Keys: []string{"user", "password"}}}
	d, svc, pdb := desiredBackend(tenant, "v1", nil)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	switch {
	case !*pod.SecurityContext.RunAsNonRoot, *c.SecurityContext.AllowPrivilegeEscalation, !*c.SecurityContext.ReadOnlyRootFilesystem,
		c.SecurityContext.Capabilities.Drop[0] != "ALL", pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault,
		*pod.AutomountServiceAccountToken, c.ImagePullPolicy != corev1.PullAlways, *pod.RuntimeClassName != "gvisor":
		t.Errorf("back-end pod is not hardened: %+v", pod)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if env["TENANT_NAME"].Value != "a" || env["DB_CREDS_PASSWORD"].ValueFrom.SecretKeyRef.Key != "password" || env["DB_CREDS_PASSWORD"].Value != "" {
		t.Errorf("env = %+v", c.Env)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || pdb == nil || d.Spec.Template.Annotations[AnnotationSecretsVersion] != "v1" {
		t.Errorf("service %v, pdb %v, template annotations %v", svc.Spec.Type, pdb, d.Spec.Template.Annotations)
	}
	if _, _, pdb := desiredBackend(tenant, "v1", ptr.To[int32](1)); pdb != nil {
		t.Error("a single replica gets no PodDisruptionBudget")
	}
}

func TestGeneratedSecretKeepsValuesUntilRotation(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	spec := tenancyv1alpha1.GeneratedSecret{Name: "db", Keys: []string{"password"}, Length: ptr.To[int32](20),
		RotationPeriod: durationPtr(24 * time.Hour)}
	first, rotated, err := desiredGeneratedSecret(tenant, spec, nil, t0, newSeededRand())
	if err != nil || !rotated || len(first.Data["password"]) != 20 {
		t.Fatalf("first generation: %v %v %q", err, rotated, first.Data)
	}
	again, rotated, _ := desiredGeneratedSecret(tenant, spec, first, t0.Add(23*time.Hour), rand2())
	if rotated || !bytes.Equal(again.Data["password"], first.Data["password"]) {
		t.Error("values must be kept before the rotation period")
	}
	later, rotated, _ := desiredGeneratedSecret(tenant, spec, first, t0.Add(24*time.Hour), rand2())
	if !rotated || bytes.Equal(later.Data["password"], first.Data["password"]) || generatedAt(later) != t0.Add(24*time.Hour) {
		t.Error("values must rotate once the period has passed")
	}
	spec.Keys = append(spec.Keys, "username")
	grown, rotated, _ := desiredGeneratedSecret(tenant, spec, first, t0.Add(time.Hour), rand2())
	if !rotated || len(grown.Data) != 2 {
		t.Error("a new key regenerates the secret with every key")
	}
	for _, v := range [][]byte{first.Data["password"], later.Data["password"]} {
		if strings.Trim(string(v), secretAlphabet) != "" {
			t.Errorf("value %q uses characters outside the alphabet", v)
		}
	}
}

func TestEncryptionKeyRingOnlyGrows(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	k1, rotated, err := desiredEncryptionKey(tenant, nil, time.Hour, t0, newSeededRand())
	if err != nil || !rotated || string(k1.Data["primary"]) != "key-1" || len(k1.Data["key-1"]) != 32 {
		t.Fatalf("first key ring: %v %v", err, k1.Data)
	}
	same, rotated, _ := desiredEncryptionKey(tenant, k1, time.Hour, t0.Add(time.Minute), rand2())
	if rotated || !bytes.Equal(same.Data["key-1"], k1.Data["key-1"]) {
		t.Error("the key ring must not change before rotation")
	}
	k2, rotated, _ := desiredEncryptionKey(tenant, k1, time.Hour, t0.Add(time.Hour), rand2())
	if !rotated || string(k2.Data["primary"]) != "key-2" || !bytes.Equal(k2.Data["key-1"], k1.Data["key-1"]) || len(k2.Data["key-2"]) != 32 {
		t.Errorf("rotation must add key-2 as primary and keep key-1: %v", k2.Data)
	}
}

func TestCertificateRenewsAtTwoThirds(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	cfg := DefaultConfig()
	cfg.CertificateLifetime = 90 * time.Hour
	s, renewed, err := desiredTLSSecret(tenant, nil, testCA, cfg, t0, newSeededRand())
	if err != nil || !renewed || s.Type != corev1.SecretTypeTLS || !bytes.Equal(s.Data["ca.crt"], testCA.CertPEM) {
		t.Fatalf("first certificate: %v %v", err, renewed)
	}
	cert := parseCertificate(s)
	if err := cert.CheckSignatureFrom(testCA.Cert); err != nil {
		t.Fatalf("not signed by the CA: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool(testCA), DNSName: "backend.a.svc.cluster.local", CurrentTime: t0.Add(time.Hour)}); err != nil {
		t.Errorf("certificate does not verify for the Service's name: %v", err)
	}
	if _, renewed, _ := desiredTLSSecret(tenant, s, testCA, cfg, t0.Add(59*time.Hour), rand2()); renewed {
		t.Error("renewed before two thirds of its lifetime")
	}
	if _, renewed, _ := desiredTLSSecret(tenant, s, testCA, cfg, t0.Add(60*time.Hour), rand2()); !renewed {
		t.Error("not renewed at two thirds of its lifetime")
	}
	otherCA, _ := NewCA(t0, newSeededRand())
	if _, renewed, _ := desiredTLSSecret(tenant, s, otherCA, cfg, t0, rand2()); !renewed {
		t.Error("a new CA must reissue the certificate")
	}
	block, _ := pem.Decode(s.Data["tls.key"])
	if block == nil {
		t.Error("no PEM private key")
	}
}

func TestRotationRollsTheBackend(t *testing.T) {
	tenant := loadSamples(t)[0]
	for _, s := range loadSamples(t) {
		if s.Spec.Backend != nil && len(s.Spec.Secrets) > 0 {
			tenant = s
		}
	}
	first := render(t, tenant, nil, t0)
	existing := map[string]*corev1.Secret{}
	for _, o := range first.objects {
		if s, ok := o.obj.(*corev1.Secret); ok {
			existing[s.Name] = s
		}
	}
	version := func(d *desiredState) string {
		return find[*appsv1Deployment](t, d, BackendName).Spec.Template.Annotations[AnnotationSecretsVersion]
	}
	same := render(t, tenant, existing, t0.Add(time.Hour))
	if version(same) != version(first) {
		t.Error("pods must not roll when nothing rotated")
	}
	rotated := render(t, tenant, existing, t0.Add(31*24*time.Hour))
	if version(rotated) == version(first) {
		t.Error("a rotation must roll the pods")
	}
	if rotated.requeueAt.IsZero() {
		t.Error("the next rotation must be scheduled")
	}
}
