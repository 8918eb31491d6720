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
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/ssa"
	"github.com/tenant-operator/tenant-operator/test/golden"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seededRand is a deterministic randomness source for the pure builders.
type seededRand struct{ r *rand.ChaCha8 }

func newSeededRand() *seededRand { return &seededRand{rand.NewChaCha8([32]byte{1})} }

func (s *seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

var testCA = func() *pki.CA {
	ca, err := pki.NewCA("cluster.local", t0, newSeededRand())
	if err != nil {
		panic(err)
	}
	return ca
}()

// testScheme holds the kinds a Tenant renders into, to name them in apply requests.
var testScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	return s
}()

func isLabelled(obj client.Object, tenant string) bool {
	return obj.GetLabels()[LabelManagedBy] == ManagedByValue && obj.GetLabels()[LabelTenant] == tenant
}

func kindOf(obj client.Object) string { return reflect.TypeOf(obj).Elem().Name() }

// testConfig is the default configuration with the extra role everyField asks for allowed.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.ExtraRoles = []string{"cert-manager-edit"}
	return cfg
}

func render(t *testing.T, tenant *tenancyv1alpha1.Tenant, secrets map[string]*corev1.Secret, now time.Time) *Desired {
	t.Helper()
	if secrets == nil {
		secrets = map[string]*corev1.Secret{}
	}
	d, err := DesiredState(tenant, testConfig(), Observed{Secrets: secrets, CA: testCA, Now: now, Rand: newSeededRand()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadSamples reads every Tenant in config/samples.
func loadSamples(t *testing.T) []*tenancyv1alpha1.Tenant {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "tenant_*.yaml"))
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
// Run "go test ./controllers/render -run TestSamplesGolden -update" after an intended change, and review the diff.
func TestSamplesGolden(t *testing.T) {
	for _, tenant := range loadSamples(t) {
		t.Run(tenant.Name, func(t *testing.T) {
			checkGolden(t, tenant.Name, goldenObjects(t, render(t, tenant, nil, t0).Objects))
		})
	}
}

// goldenObjects writes objects as the apply requests the operator sends, each headed by its area (and "rotated" for
// secrets given new values). Secret values are replaced by their length, and certificates by their presence, so the
// files are stable and hold nothing secret.
func goldenObjects(t *testing.T, objects []Object) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, o := range objects {
		obj := o.Obj.DeepCopyObject()
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
		u, err := ssa.Request(obj.(clientObject), testScheme)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sigsyaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		header := "# area: " + string(o.Area)
		if o.Rotated {
			header += ", rotated"
		}
		fmt.Fprintf(&out, "%s\n---\n%s", header, b)
	}
	return out.Bytes()
}

// checkGolden compares out with testdata/golden/<name>.yaml (see golden.Check).
func checkGolden(t *testing.T, name string, out []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name+".yaml"), out)
}

func find[T any](t *testing.T, d *Desired, name string) T {
	t.Helper()
	for _, o := range d.Objects {
		if v, ok := o.Obj.(T); ok && o.Obj.GetName() == name {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T named %s", zero, name)
	return zero
}

func TestEveryObjectIsLabelled(t *testing.T) {
	for _, tenant := range loadSamples(t) {
		for _, o := range render(t, tenant, nil, t0).Objects {
			if !isLabelled(o.Obj, tenant.Name) {
				t.Errorf("%s %s lacks the managed-by and tenant labels: %v", kindOf(o.Obj), o.Obj.GetName(), o.Obj.GetLabels())
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
		for _, o := range render(t, tenant, nil, t0).Objects {
			metas := []metav1.Object{o.Obj}
			if d, ok := o.Obj.(*appsv1.Deployment); ok {
				metas = append(metas, &d.Spec.Template)
			}
			for _, m := range metas {
				for k := range tenant.Labels {
					if _, ok := m.GetLabels()[k]; ok {
						t.Errorf("%s %s carries the Tenant's label %s", kindOf(o.Obj), o.Obj.GetName(), k)
					}
				}
				for k := range tenant.Annotations {
					if _, ok := m.GetAnnotations()[k]; ok {
						t.Errorf("%s %s carries the Tenant's annotation %s", kindOf(o.Obj), o.Obj.GetName(), k)
					}
				}
			}
		}
	}
}

func TestNamespace(t *testing.T) {
	ns := desiredNamespace(&tenancyv1alpha1.Tenant{}, nil)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		if got := ns.Labels["pod-security.kubernetes.io/"+mode]; got != "restricted" {
			t.Errorf("pod-security %s = %q, want restricted", mode, got)
		}
	}
}

// TestNamespaceMetadata: the admin's labels and annotations reach the namespace; none of them can replace what the
// operator sets there (Pod Security, the managed-by and tenant labels, the namespace name NetworkPolicies select
// by), even on a Tenant stored before the CRD refused those keys.
func TestNamespaceMetadata(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	tenant.Spec.DisplayName = "ACME"
	tenant.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{
		Labels: map[string]tenancyv1alpha1.LabelValue{
			"istio-injection": "enabled", "backup.example.com/policy": "daily",
			"pod-security.kubernetes.io/enforce": "privileged", corev1.LabelMetadataName: "ingress-nginx",
			LabelManagedBy: "someone", LabelTenant: "globex", "network.tenant-operator.dev/segmented": "true",
		},
		Annotations: map[string]string{
			"sidecar.istio.io/inject": "true", OperatorKeyPrefix + "display-name": "Globex",
			"pod-security.kubernetes.io/enforce": "privileged",
		},
	}
	ns := desiredNamespace(tenant, nil)
	for k, want := range map[string]string{
		"istio-injection": "enabled", "backup.example.com/policy": "daily",
		"pod-security.kubernetes.io/enforce": "restricted", LabelManagedBy: ManagedByValue, LabelTenant: "acme",
	} {
		if got := ns.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{corev1.LabelMetadataName, "network.tenant-operator.dev/segmented"} {
		if v, set := ns.Labels[k]; set {
			t.Errorf("label %s = %q set from the Tenant", k, v)
		}
	}
	want := map[string]string{"sidecar.istio.io/inject": "true", OperatorKeyPrefix + "display-name": "ACME"}
	if !reflect.DeepEqual(ns.Annotations, want) {
		t.Errorf("annotations %v, want %v", ns.Annotations, want)
	}
	for key, allowed := range map[string]bool{
		"team": true, "example.com/team": true, "scheduler.alpha.kubernetes.io/node-selector": true,
		"pod-security.kubernetes.io/audit": false, "tenancy.tenant-operator.dev/x": false, "tenant-operator.dev/x": false,
		"a.b.tenant-operator.dev/x": false, "tenant-operator.dev.example.com/x": true, "not-tenant-operator.dev/x": true,
	} {
		if got := AdminNamespaceKey(key, true); got != allowed {
			t.Errorf("AdminNamespaceKey(%q) = %v, want %v", key, got, allowed)
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
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowInternet: true, AllowedCIDRs: []string{"203.0.113.0/24"}}}
		}, nil, []string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS, PolicyEgressCIDRs, PolicyEgressInternet}},
		{"egress CIDRs all in the cluster's ranges open nothing", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"10.1.0.0/16"}}}
		}, nil, []string{PolicyDefaultDeny, PolicySameNamespace, PolicyDNS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tenant := base.DeepCopy()
			tt.spec(tenant)
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			policies := desiredNetworkPolicies(tenant, cfg, nil)
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
	if peers[0].IPBlock.CIDR != "0.0.0.0/0" || strings.Join(peers[0].IPBlock.Except, ",") !=
		"169.254.0.0/16,100.100.100.200/32,168.63.129.16/32,10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("IPv4 block = %+v", peers[0].IPBlock)
	}
	if peers[1].IPBlock.CIDR != "::/0" || strings.Join(peers[1].IPBlock.Except, ",") != "fe80::/10,fd00:ec2::254/128,fd00::/8" {
		t.Errorf("IPv6 block = %+v", peers[1].IPBlock)
	}
}

// TestInternetEgressKeepsMetadataOut: no address a cloud serves instance metadata or platform services on is inside
// what allowInternet opens, whatever the cluster's ranges.
func TestInternetEgressKeepsMetadataOut(t *testing.T) {
	peers := internetPeers(nil)
	for _, addr := range []string{
		"169.254.169.254", // AWS, GCP, Azure IMDS, OpenStack
		"169.254.170.2",   // AWS ECS task metadata
		"169.254.169.123", // AWS time sync
		"169.254.0.1",     // any link-local
		"100.100.100.200", // Alibaba Cloud
		"168.63.129.16",   // Azure wireserver
		"fd00:ec2::254",   // AWS IMDS over IPv6
		"fe80::a9fe:a9fe", // IPv6 link-local
	} {
		if allowedBy(peers, netip.MustParseAddr(addr)) {
			t.Errorf("%s is reachable through internet egress", addr)
		}
	}
	for _, addr := range []string{"203.0.113.7", "2001:db8::1", "100.100.100.201"} {
		if !allowedBy(peers, netip.MustParseAddr(addr)) {
			t.Errorf("%s must be reachable through internet egress", addr)
		}
	}
}

// allowedBy reports whether a NetworkPolicy peer list lets traffic to addr through, as a network plugin reads ipBlocks.
func allowedBy(peers []networkingv1.NetworkPolicyPeer, addr netip.Addr) bool {
	for _, p := range peers {
		if p.IPBlock == nil || !netip.MustParsePrefix(p.IPBlock.CIDR).Contains(addr) {
			continue
		}
		excepted := false
		for _, e := range p.IPBlock.Except {
			excepted = excepted || netip.MustParsePrefix(e).Contains(addr)
		}
		if !excepted {
			return true
		}
	}
	return false
}

// TestEgressCIDRsOverlappingForbiddenRangesAreLeftOut: allowedCIDRs cannot reopen what internet egress keeps out. The
// overlapping CIDRs are dropped from the policy and reported on NetworkIsolated; the others are opened.
func TestEgressCIDRsOverlappingForbiddenRangesAreLeftOut(t *testing.T) {
	for _, tc := range []struct {
		name        string
		allowed     []string
		wantPolicy  []string // CIDRs of allow-egress-cidrs; none: no policy
		wantMessage string   // NetworkIsolated's message; empty: no failure
	}{
		{"outside every forbidden range", []string{"203.0.113.0/24", "2001:db8::/32"}, []string{"2001:db8::/32", "203.0.113.0/24"}, ""},
		{"inside a cluster range", []string{"10.1.0.0/16"}, nil,
			"Egress was not opened to allowedCIDRs overlapping the cluster's own ranges or a cloud metadata address: 10.1.0.0/16 (overlaps 10.0.0.0/8)"},
		{"covering a cluster range", []string{"8.0.0.0/5", "203.0.113.0/24"}, []string{"203.0.113.0/24"},
			"Egress was not opened to allowedCIDRs overlapping the cluster's own ranges or a cloud metadata address: 8.0.0.0/5 (overlaps 10.0.0.0/8)"},
		{"everything", []string{"0.0.0.0/0", "::/0"}, nil,
			"Egress was not opened to allowedCIDRs overlapping the cluster's own ranges or a cloud metadata address: 0.0.0.0/0 (overlaps 169.254.0.0/16), ::/0 (overlaps fe80::/10)"},
		{"a metadata address", []string{"168.63.0.0/16", "100.100.100.200/32", "fd00:ec2::/32"}, nil,
			"Egress was not opened to allowedCIDRs overlapping the cluster's own ranges or a cloud metadata address: 100.100.100.200/32 (overlaps 100.100.100.200/32), 168.63.0.0/16 (overlaps 168.63.129.16/32), fd00:ec2::/32 (overlaps fd00:ec2::254/128)"},
		{"IPv6 cluster range", []string{"fd12::/16"}, nil,
			"Egress was not opened to allowedCIDRs overlapping the cluster's own ranges or a cloud metadata address: fd12::/16 (overlaps fc00::/7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := &tenancyv1alpha1.Tenant{}
			tenant.Name = "a"
			tenant.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: tc.allowed}}
			d := render(t, tenant, nil, t0)
			var got []string
			for _, o := range d.Objects {
				if o.Obj.GetName() == PolicyEgressCIDRs {
					for _, p := range o.Obj.(*networkingv1.NetworkPolicy).Spec.Egress[0].To {
						got = append(got, p.IPBlock.CIDR)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.wantPolicy, ",") {
				t.Errorf("%s opens %v, want %v", PolicyEgressCIDRs, got, tc.wantPolicy)
			}
			var want []AreaProblem
			if tc.wantMessage != "" {
				want = []AreaProblem{{AreaNetwork, Problem{tenancyv1alpha1.ReasonForbiddenCIDR, tc.wantMessage}}}
			}
			if !reflect.DeepEqual(d.Refused, want) {
				t.Errorf("refused = %+v, want %+v", d.Refused, want)
			}
		})
	}
}

func TestAllowedTenantPolicySelectsTheOtherTenantsNamespace(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	tenant.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x"}
	tenant.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"b"}}
	var np *networkingv1.NetworkPolicy
	for _, p := range desiredNetworkPolicies(tenant, DefaultConfig(), nil) {
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

// TestExtraRoleBindings: each ClusterRole of spec.extraRoles the operator allows is bound to the people it names, in
// the tenant's namespace; one it does not allow is refused with its name, never bound; a role for nobody gets no
// binding.
func TestExtraRoleBindings(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	tenant.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "ann"}}
	tenant.Spec.Members = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "devs"}}
	tenant.Spec.ExtraRoles = []tenancyv1alpha1.ExtraRole{
		{ClusterRole: "cert-manager-edit", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleMembers, tenancyv1alpha1.TenantRoleOwners}},
		{ClusterRole: "monitoring:servicemonitors-view", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}},
		{ClusterRole: "cluster-admin", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}},
		{ClusterRole: "gateway-edit", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleViewers}},
	}
	cfg := DefaultConfig()
	cfg.ExtraRoles = []string{"cert-manager-edit", "monitoring:servicemonitors-view", "gateway-edit"}
	bindings, refused := desiredExtraRoleBindings(tenant, cfg)
	if !reflect.DeepEqual(refused, []string{"cluster-admin"}) {
		t.Errorf("refused %v, want [cluster-admin]", refused)
	}
	got := map[string]string{}
	for _, b := range bindings {
		if b.Namespace != "acme" || b.RoleRef.Kind != "ClusterRole" || b.Labels[LabelTenant] != "acme" {
			t.Errorf("binding %s/%s: %+v", b.Namespace, b.Name, b)
		}
		var names []string
		for _, s := range b.Subjects {
			names = append(names, s.Name)
		}
		got[b.Name] = b.RoleRef.Name + ":" + strings.Join(names, ",")
	}
	want := map[string]string{
		"tenant-extra-cert-manager-edit":               "cert-manager-edit:ann,devs",
		"tenant-extra-monitoring:servicemonitors-view": "monitoring:servicemonitors-view:ann",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bindings %v, want %v", got, want)
	}
	d, err := DesiredState(tenant, cfg, Observed{Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: t0, Rand: newSeededRand()})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Refused) != 1 || d.Refused[0].Area != AreaAccess || d.Refused[0].Reason != tenancyv1alpha1.ReasonExtraRoleNotAllowed ||
		!strings.Contains(d.Refused[0].Message, "cluster-admin") {
		t.Errorf("refused %+v", d.Refused)
	}
}

// TestLongNamesAreHashedStably: a key too long for the limit is replaced by a hash of it that stays the same across
// releases (the name is an object's identity: a new one would orphan the old object), differs between keys, and
// fits.
func TestLongNamesAreHashedStably(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"short", "p-short"},
		{strings.Repeat("x", 61), "p-" + strings.Repeat("x", 61)},
		// Pinned: sha256 of the key, first 16 hex digits.
		{strings.Repeat("x", 62), "p-" + "21210f9644c6fe6b"},
		{strings.Repeat("x", 300), "p-" + "0d4e2ca9e9cbced7"},
	} {
		got := shortName("p-", tc.key, 63)
		if got != tc.want || len(got) > 63 {
			t.Errorf("shortName(p-, %d characters) = %q, want %q", len(tc.key), got, tc.want)
		}
	}
	if shortName("p-", strings.Repeat("x", 300), 63) == shortName("p-", strings.Repeat("y", 300), 63) {
		t.Error("two long keys got the same name")
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
	// Every person of the tenant may read the Tenant, by its name only (get and watch, never list).
	role, binding := desiredOwnerAccess(tenant)
	if r := role.Rules[0]; len(role.Rules) != 1 || !reflect.DeepEqual(r.ResourceNames, []string{"a"}) || !reflect.DeepEqual(r.Verbs, []string{"get", "watch"}) ||
		binding.RoleRef.Name != role.Name || len(binding.Subjects) != 2 || binding.Subjects[1].Name != "prom" {
		t.Errorf("tenant access = %+v %+v", role, binding)
	}
	tenant.Spec.Owners = nil
	if role, _ := desiredOwnerAccess(tenant); role == nil {
		t.Error("a tenant with viewers only: its viewers cannot read it")
	}
}

// TestQuotaAndLimitsOverrideDefaultsKeyByKey: what a Tenant sets replaces the operator's default for that key only,
// so a quota of a few keys still bounds everything the defaults bound (MTB CC-FNS-1 and CC-FNS-2).
func TestQuotaAndLimitsOverrideDefaultsKeyByKey(t *testing.T) {
	cfg := DefaultConfig()
	with := func(base corev1.ResourceList, overrides corev1.ResourceList) corev1.ResourceList {
		out := base.DeepCopy()
		for k, v := range overrides {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		quota     *tenancyv1alpha1.QuotaSpec
		limits    *tenancyv1alpha1.LimitsSpec
		wantQuota corev1.ResourceList
		wantItem  corev1.LimitRangeItem
	}{
		{"nothing set: the defaults", nil, nil, cfg.DefaultQuota,
			corev1.LimitRangeItem{Default: cfg.DefaultLimits.Default, DefaultRequest: cfg.DefaultLimits.DefaultRequest, Max: cfg.DefaultLimits.Max}},
		{"empty lists: the defaults", &tenancyv1alpha1.QuotaSpec{}, &tenancyv1alpha1.LimitsSpec{}, cfg.DefaultQuota,
			corev1.LimitRangeItem{Default: cfg.DefaultLimits.Default, DefaultRequest: cfg.DefaultLimits.DefaultRequest, Max: cfg.DefaultLimits.Max}},
		{"one key each: the rest kept",
			&tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: mustQty("3")}},
			&tenancyv1alpha1.LimitsSpec{Max: corev1.ResourceList{corev1.ResourceCPU: mustQty("1")}},
			with(cfg.DefaultQuota, corev1.ResourceList{corev1.ResourcePods: mustQty("3")}),
			corev1.LimitRangeItem{Default: cfg.DefaultLimits.Default, DefaultRequest: cfg.DefaultLimits.DefaultRequest,
				Max: with(cfg.DefaultLimits.Max, corev1.ResourceList{corev1.ResourceCPU: mustQty("1")})}},
		{"keys the defaults lack are added",
			&tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{"count/deployments.apps": mustQty("5"), corev1.ResourceRequestsCPU: mustQty("1500m")}},
			&tenancyv1alpha1.LimitsSpec{
				Default:        corev1.ResourceList{corev1.ResourceMemory: mustQty("256Mi")},
				DefaultRequest: corev1.ResourceList{corev1.ResourceEphemeralStorage: mustQty("64Mi")},
				Max:            corev1.ResourceList{"hugepages-2Mi": mustQty("1Gi")},
			},
			with(cfg.DefaultQuota, corev1.ResourceList{"count/deployments.apps": mustQty("5"), corev1.ResourceRequestsCPU: mustQty("1500m")}),
			corev1.LimitRangeItem{
				Default:        with(cfg.DefaultLimits.Default, corev1.ResourceList{corev1.ResourceMemory: mustQty("256Mi")}),
				DefaultRequest: with(cfg.DefaultLimits.DefaultRequest, corev1.ResourceList{corev1.ResourceEphemeralStorage: mustQty("64Mi")}),
				Max:            with(cfg.DefaultLimits.Max, corev1.ResourceList{"hugepages-2Mi": mustQty("1Gi")}),
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := &tenancyv1alpha1.Tenant{}
			tenant.Spec.Quota, tenant.Spec.Limits = tc.quota, tc.limits
			if got := desiredQuota(tenant, cfg).Spec.Hard; !equality.Semantic.DeepEqual(got, tc.wantQuota) {
				t.Errorf("quota = %v, want %v", got, tc.wantQuota)
			}
			tc.wantItem.Type = corev1.LimitTypeContainer
			if got := desiredLimitRange(tenant, cfg).Spec.Limits; len(got) != 1 || !equality.Semantic.DeepEqual(got[0], tc.wantItem) {
				t.Errorf("limits = %+v, want %+v", got, tc.wantItem)
			}
		})
	}
	// The Tenant's lists and the configuration are inputs: rendering must not write into either.
	spec := corev1.ResourceList{corev1.ResourcePods: mustQty("3")}
	tenant := &tenancyv1alpha1.Tenant{Spec: tenancyv1alpha1.TenantSpec{Quota: &tenancyv1alpha1.QuotaSpec{Hard: spec}}}
	desiredQuota(tenant, cfg).Spec.Hard[corev1.ResourceSecrets] = mustQty("1")
	if len(spec) != 1 || !equality.Semantic.DeepEqual(cfg.DefaultQuota, DefaultConfig().DefaultQuota) {
		t.Errorf("rendering changed its inputs: spec %v, default quota %v", spec, cfg.DefaultQuota)
	}
}

// TestEveryQuotaCoversTheBenchmarksResources is MTB CC-FNS-1 and CC-FNS-2 as its tool checks them: whatever a Tenant
// sets, its ResourceQuota bounds compute, memory and ephemeral-storage (requests and limits) and the object counts.
// And every per-container resource the quota bounds has a LimitRange default and request, or pods that set none would
// be refused under it.
func TestEveryQuotaCoversTheBenchmarksResources(t *testing.T) {
	mtb := []corev1.ResourceName{
		corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory,
		corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceServices, corev1.ResourceReplicationControllers, corev1.ResourceQuotas,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
	}
	tenants := loadSamples(t)
	small := &tenancyv1alpha1.Tenant{}
	small.Name = "small"
	small.Spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: mustQty("2")}}
	tenants = append(tenants, small)
	for _, tenant := range tenants {
		q := desiredQuota(tenant, DefaultConfig()).Spec.Hard
		for _, name := range mtb {
			if _, ok := q[name]; !ok {
				t.Errorf("tenant %s: the quota does not bound %s", tenant.Name, name)
			}
		}
		lr := desiredLimitRange(tenant, DefaultConfig()).Spec.Limits[0]
		for name := range q {
			perContainer, ok := strings.CutPrefix(string(name), "limits.")
			if !ok {
				perContainer, ok = strings.CutPrefix(string(name), "requests.")
			}
			if !ok || perContainer == "storage" {
				continue // requests.storage is per PersistentVolumeClaim
			}
			r := corev1.ResourceName(perContainer)
			if _, ok := lr.Default[r]; !ok {
				t.Errorf("tenant %s: the quota bounds %s but the LimitRange has no default %s", tenant.Name, name, r)
			}
			if _, ok := lr.DefaultRequest[r]; !ok {
				t.Errorf("tenant %s: the quota bounds %s but the LimitRange has no default request of %s", tenant.Name, name, r)
			}
			if _, ok := lr.Max[r]; !ok {
				t.Errorf("tenant %s: the quota bounds %s but the LimitRange has no max %s", tenant.Name, name, r)
			}
		}
	}
}

func TestBackendIsHardened(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	tenant.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "img", Replicas: ptr.To[int32](3), RuntimeClassName: ptr.To("gvisor")}
	tenant.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "db-creds", Keys: []string{"user", "password"}}}
	d, svc, pdb := desiredBackend(tenant, "v1", nil, false)
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
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p == nil || *p != policyv1.AlwaysAllow {
		t.Errorf("the back-end's PodDisruptionBudget keeps unhealthy pods from eviction (%v): a back-end that never starts blocks node drains", p)
	}
	if _, _, pdb := desiredBackend(tenant, "v1", ptr.To[int32](1), false); pdb != nil {
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
	cert := ParseCertificate(s)
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
	otherCA, _ := pki.NewCA("cluster.local", t0, newSeededRand())
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
	for _, o := range first.Objects {
		if s, ok := o.Obj.(*corev1.Secret); ok {
			existing[s.Name] = s
		}
	}
	version := func(d *Desired) string {
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
	if rotated.RequeueAt.IsZero() {
		t.Error("the next rotation must be scheduled")
	}
}

// TestBackendCertificateFitsTheConstraints: every name the operator puts in a back-end certificate is one the CA may
// sign for, so the certificate verifies for each of them.
func TestBackendCertificateFitsTheConstraints(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{}
	tenant.Name = "a"
	tenant.Spec.Namespace = "a-prod"
	cfg := DefaultConfig()
	s, _, err := desiredTLSSecret(tenant, nil, testCA, cfg, t0, newSeededRand())
	if err != nil {
		t.Fatal(err)
	}
	cert := ParseCertificate(s)
	if len(cert.DNSNames) == 0 {
		t.Fatal("no names")
	}
	for _, name := range cert.DNSNames {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool(testCA), DNSName: name, CurrentTime: t0.Add(time.Hour)}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSuspendedTenant: a suspended tenant keeps every object it had, stopped: the back-end at zero replicas with its
// pod template as it was (resuming rolls nothing), a quota of no pods over the rest of its quota, owners and members
// bound read-only and no extra role, and the namespace marked for the suspended-namespace guardrail. Resuming gives
// back exactly what the tenant had.
func TestSuspendedTenant(t *testing.T) {
	active := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	active.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "ann"}}
	active.Spec.Members = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "devs"}}
	active.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "vic"}}
	active.Spec.ExtraRoles = []tenancyv1alpha1.ExtraRole{{ClusterRole: "cert-manager-edit", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleMembers}}}
	active.Spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsStorage: mustQty("10Gi")}}
	active.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1", Replicas: ptr.To[int32](3)}
	suspended := active.DeepCopy()
	suspended.Spec.Suspended = true

	before, after := render(t, active, nil, t0), render(t, suspended, nil, t0)
	bindings := func(d *Desired) map[string]string {
		out := map[string]string{}
		for _, o := range d.Objects {
			if b, ok := o.Obj.(*rbacv1.RoleBinding); ok {
				var names []string
				for _, s := range b.Subjects {
					names = append(names, s.Name)
				}
				out[b.Name] = b.RoleRef.Name + ":" + strings.Join(names, ",")
			}
		}
		return out
	}
	if got, want := bindings(after), map[string]string{
		BindingSuspended: TenantViewerRole + ":ann,devs",
		BindingViewers:   TenantViewerRole + ":vic",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("suspended bindings %v, want %v", got, want)
	}
	if got := bindings(before); got[BindingOwners] != TenantAdminRole+":ann" || got["tenant-extra-cert-manager-edit"] == "" || got[BindingSuspended] != "" {
		t.Errorf("active bindings %v", got)
	}

	quota := find[*corev1.ResourceQuota](t, after, QuotaName)
	pods, storage := quota.Spec.Hard[corev1.ResourcePods], quota.Spec.Hard[corev1.ResourceRequestsStorage]
	if !pods.IsZero() || storage.Cmp(mustQty("10Gi")) != 0 ||
		len(quota.Spec.Hard) != len(find[*corev1.ResourceQuota](t, before, QuotaName).Spec.Hard) {
		t.Errorf("suspended quota %v: want no pods, every other key as before", quota.Spec.Hard)
	}
	stopped, running := find[*appsv1.Deployment](t, after, BackendName), find[*appsv1.Deployment](t, before, BackendName)
	if *stopped.Spec.Replicas != 0 || *running.Spec.Replicas != 3 {
		t.Errorf("replicas suspended %d, active %d", *stopped.Spec.Replicas, *running.Spec.Replicas)
	}
	if !reflect.DeepEqual(stopped.Spec.Template, running.Spec.Template) {
		t.Error("suspending changed the back-end's pod template: resuming would roll its pods")
	}
	if ns := find[*corev1.Namespace](t, after, "acme"); ns.Labels[LabelSuspended] != "true" {
		t.Errorf("suspended namespace labels %v", ns.Labels)
	}
	if ns := find[*corev1.Namespace](t, before, "acme"); ns.Labels[LabelSuspended] != "" {
		t.Errorf("active namespace labelled suspended: %v", ns.Labels)
	}
	// Nothing else changes: the same objects, by kind and name, but the bindings and the disruption budget (of pods
	// that no longer run).
	names := func(d *Desired) []string {
		var out []string
		for _, o := range d.Objects {
			switch o.Obj.(type) {
			case *rbacv1.RoleBinding, *policyv1.PodDisruptionBudget:
			default:
				out = append(out, kindOf(o.Obj)+"/"+o.Obj.GetName())
			}
		}
		return out
	}
	if !reflect.DeepEqual(names(before), names(after)) {
		t.Errorf("suspending changed the objects: %v, was %v", names(after), names(before))
	}
}

// TestPlacement: spec.placement reaches the back-end's pods through its Deployment and every other pod through the
// namespace annotations the tenant-placement policies read, in a stable order; the namespace names the one dedicated
// pool the tenant may tolerate. Without placement, none of it.
func TestPlacement(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	tenant.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1"}
	tenant.Spec.Placement = &tenancyv1alpha1.PlacementSpec{
		NodeSelector: map[string]tenancyv1alpha1.LabelValue{"pool": "gold", "kubernetes.io/arch": "amd64"},
		Tolerations: []tenancyv1alpha1.Toleration{
			{Key: TaintDedicated, Value: "gold", Effect: corev1.TaintEffectNoSchedule},
			{Key: "example.com/gpu", Operator: corev1.TolerationOpExists},
		},
	}
	d := render(t, tenant, nil, t0)
	ns := find[*corev1.Namespace](t, d, "acme")
	if got := ns.Annotations[AnnotationNodeSelector]; got != "kubernetes.io/arch=amd64,pool=gold" {
		t.Errorf("node selector annotation %q", got)
	}
	if got := ns.Annotations[AnnotationTolerations]; got != TaintDedicated+":Equal:gold:NoSchedule;example.com/gpu:Exists::" {
		t.Errorf("tolerations annotation %q", got)
	}
	if ns.Labels[TaintDedicated] != "gold" {
		t.Errorf("dedicated pool label %v", ns.Labels)
	}
	spec := find[*appsv1.Deployment](t, d, BackendName).Spec.Template.Spec
	if spec.NodeSelector["pool"] != "gold" || len(spec.NodeSelector) != 2 || len(spec.Tolerations) != 2 ||
		spec.Tolerations[0].Operator != corev1.TolerationOpEqual || spec.Tolerations[1].Operator != corev1.TolerationOpExists {
		t.Errorf("back-end placement: %v %v", spec.NodeSelector, spec.Tolerations)
	}

	tenant.Spec.Placement = nil
	d = render(t, tenant, nil, t0)
	ns = find[*corev1.Namespace](t, d, "acme")
	spec = find[*appsv1.Deployment](t, d, BackendName).Spec.Template.Spec
	if ns.Annotations[AnnotationNodeSelector] != "" || ns.Annotations[AnnotationTolerations] != "" || ns.Labels[TaintDedicated] != "" ||
		spec.NodeSelector != nil || spec.Tolerations != nil {
		t.Errorf("without placement: %v %v %v %v", ns.Labels, ns.Annotations, spec.NodeSelector, spec.Tolerations)
	}
}
