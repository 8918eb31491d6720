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
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// matrixSpec is one tenant of the matrix, as its owner would write it.
type matrixSpec struct {
	name, namespace string // namespace empty: the tenant's name
	backend         bool
	port            *int32 // nil: the back-end's documented default, 8080
	allow           []string
	internet        bool
}

// matrixSpecs: back-ends on three ports (one the default), one tenant without a back-end; a allows b, d and a
// tenant that does not exist, b allows nobody, c allows a, b and itself, d allows a but has no back-end to open.
// c and d live in namespaces not named after them, so nothing may select a tenant by its namespace's name.
func matrixSpecs() []matrixSpec {
	return []matrixSpec{
		{name: "a", backend: true, port: ptr.To[int32](8081), allow: []string{"b", "d", "ghost"}},
		{name: "b", backend: true, port: ptr.To[int32](8082)},
		{name: "c", namespace: "team-c", backend: true, allow: []string{"a", "b", "c"}},
		{name: "d", namespace: "team-d", allow: []string{"a"}, internet: true},
	}
}

func (s matrixSpec) tenant() *tenancyv1alpha1.Tenant {
	t := &tenancyv1alpha1.Tenant{}
	t.Name = s.name
	t.Spec.Namespace = s.namespace
	if s.backend {
		t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "registry.example/backend:1", Port: s.port}
	}
	if len(s.allow) > 0 || s.internet {
		t.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: s.allow}
		if s.internet {
			t.Spec.Network.Egress = &tenancyv1alpha1.EgressSpec{AllowInternet: true}
		}
	}
	return t
}

func (s matrixSpec) BackendPort() int32 { return ptr.Deref(s.port, 8080) }

// matrixAllowedBy is what the reconciler passes as Observed.AllowedBy: the other tenants with a back-end
// whose allowFromTenants names t, sorted by name.
func matrixAllowedBy(tenants []*tenancyv1alpha1.Tenant, t *tenancyv1alpha1.Tenant) []*tenancyv1alpha1.Tenant {
	var out []*tenancyv1alpha1.Tenant
	for _, o := range tenants {
		if o.Name != t.Name && o.Spec.Backend != nil && o.Spec.Network != nil && slices.Contains(o.Spec.Network.AllowFromTenants, t.Name) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// matrixRendered is what computeDesiredState gives one tenant that matters to the network.
type matrixRendered struct {
	namespace *corev1.Namespace
	backend   *appsv1.Deployment
	policies  []*networkingv1.NetworkPolicy
}

func matrixRender(t *testing.T, tenant *tenancyv1alpha1.Tenant, allowedBy []*tenancyv1alpha1.Tenant) matrixRendered {
	t.Helper()
	d, err := DesiredState(tenant, DefaultConfig(), Observed{
		Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: t0, Rand: newSeededRand(), AllowedBy: allowedBy,
	})
	if err != nil {
		t.Fatal(err)
	}
	var r matrixRendered
	for _, o := range d.Objects {
		switch obj := o.Obj.(type) {
		case *corev1.Namespace:
			r.namespace = obj
		case *appsv1.Deployment:
			r.backend = obj
		case *networkingv1.NetworkPolicy:
			r.policies = append(r.policies, obj)
		}
	}
	if r.namespace == nil {
		t.Fatalf("tenant %s: no Namespace rendered", tenant.Name)
	}
	return r
}

// matrixRenderAll renders every tenant, each with the allowedBy computed from allowedFrom (the tenants as the
// reconciler last saw them when it rendered that one).
func matrixRenderAll(t *testing.T, tenants, allowedFrom []*tenancyv1alpha1.Tenant, withEgressHalf bool) []matrixRendered {
	t.Helper()
	out := make([]matrixRendered, 0, len(tenants))
	for _, tenant := range tenants {
		var allowedBy []*tenancyv1alpha1.Tenant
		if withEgressHalf {
			allowedBy = matrixAllowedBy(allowedFrom, tenant)
		}
		out = append(out, matrixRender(t, tenant, allowedBy))
	}
	return out
}

// matrixEndpoint is an endpoint of the matrix and what it is: a tenant's pod (tenant set; its back-end or not), or
// something outside every tenant, by role.
type matrixEndpoint struct {
	npEndpoint
	tenant  string
	backend bool
	role    string
}

// Roles of the endpoints outside the tenants, and pod names.
const (
	matrixDNS       = "dns"
	matrixSystem    = "system"    // another kube-system pod: DNS egress must not reach it
	matrixIngress   = "ingress"   // an ingress controller
	matrixOther     = "other"     // a pod of a shared namespace that is no ingress controller's
	matrixInternet  = "internet"  // a public address
	matrixMetadata  = "metadata"  // the cloud metadata address
	matrixUnmanaged = "unmanaged" // a pod in a hand-made namespace named after the tenant a allows that does not exist
	matrixImpostor  = "impostor"  // a pod of d labelled as a's back-end
	matrixBackend   = "backend"
	matrixWorker    = "worker"
	matrixAppLabel  = "app"
)

// matrixCluster builds the model cluster from the rendered objects, with the cluster's shared pods around them.
func matrixCluster(t *testing.T, cfg Config, rendered []matrixRendered) (*npCluster, []matrixEndpoint) {
	t.Helper()
	c := newNPCluster()
	var eps []matrixEndpoint
	for _, r := range rendered {
		ns, tenant := r.namespace.Name, r.namespace.Labels[LabelTenant]
		c.addNamespace(ns, r.namespace.Labels)
		if r.backend != nil {
			tmpl := r.backend.Spec.Template
			var ports []corev1.ContainerPort
			for _, ctr := range tmpl.Spec.Containers {
				ports = append(ports, ctr.Ports...)
			}
			eps = append(eps, matrixEndpoint{npEndpoint: c.addPod(ns, matrixBackend, tmpl.Labels, ports...).endpoint(), tenant: tenant, backend: true})
		}
		eps = append(eps, matrixEndpoint{npEndpoint: c.addPod(ns, matrixWorker, map[string]string{matrixAppLabel: matrixWorker}).endpoint(), tenant: tenant})
		if tenant == "d" {
			impostor := c.addPod(ns, matrixImpostor, BackendSelector(matrixSpec{name: "a"}.tenant()))
			eps = append(eps, matrixEndpoint{npEndpoint: impostor.endpoint(), tenant: tenant})
		}
	}
	for _, r := range rendered {
		for _, np := range r.policies {
			if err := c.addPolicy(np); err != nil {
				t.Fatal(err)
			}
		}
	}
	add := func(ns, role string, podLabels map[string]string) {
		if _, ok := c.namespaces[ns]; !ok {
			c.addNamespace(ns, nil)
		}
		eps = append(eps, matrixEndpoint{npEndpoint: c.addPod(ns, role, podLabels).endpoint(), role: role})
	}
	add(cfg.DNSNamespace, matrixDNS, cfg.DNSPodLabels)
	add(cfg.DNSNamespace, matrixSystem, map[string]string{matrixAppLabel: "kube-proxy"})
	for _, ns := range cfg.IngressNamespaces {
		add(ns, matrixIngress, map[string]string{matrixAppLabel: matrixIngress})
	}
	add("monitoring", matrixOther, map[string]string{matrixAppLabel: "prometheus"})
	// Made and labelled by hand for the tenant a allows, which does not exist: only the operator's own label may
	// make a namespace a tenant's.
	c.addNamespace("ghost", map[string]string{LabelTenant: "ghost"})
	add("ghost", matrixUnmanaged, map[string]string{matrixAppLabel: matrixWorker})
	eps = append(eps,
		matrixEndpoint{npEndpoint: npExternal("203.0.113.10"), role: matrixInternet},
		matrixEndpoint{npEndpoint: npExternal("169.254.169.254"), role: matrixMetadata})
	return c, eps
}

// matrixProbe is a protocol and port a connection is tried on.
type matrixProbe struct {
	protocol corev1.Protocol
	port     int32
}

func (p matrixProbe) String() string { return fmt.Sprintf("%s/%d", p.protocol, p.port) }

// matrixProbes: every back-end port, DNS, and ports nothing should open, over both protocols.
func matrixProbes() []matrixProbe {
	out := make([]matrixProbe, 0, 12)
	for _, protocol := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
		for _, port := range []int32{53, 443, 8080, 8081, 8082, 9999} {
			out = append(out, matrixProbe{protocol, port})
		}
	}
	return out
}

// matrixWant is the intent, written from the specs alone: what the policies must let through. egressHalf false
// models tenants rendered without allowedBy.
type matrixWant struct {
	specs      map[string]matrixSpec
	egressHalf bool
}

func newMatrixWant(specs []matrixSpec, egressHalf bool) matrixWant {
	w := matrixWant{specs: map[string]matrixSpec{}, egressHalf: egressHalf}
	for _, s := range specs {
		w.specs[s.name] = s
	}
	return w
}

func (w matrixWant) allowed(src, dst matrixEndpoint, p matrixProbe) bool {
	switch {
	case src.tenant != "" && src.tenant == dst.tenant:
		return true // a namespace talks to itself, on every port
	case src.tenant != "" && dst.tenant != "":
		return w.crossTenant(src, dst, p)
	case src.tenant != "":
		return w.toOutside(src, dst, p)
	default:
		// From outside, only the ingress controllers, to back-ends, on their port.
		return src.role == matrixIngress && dst.backend && p.protocol == corev1.ProtocolTCP && p.port == w.specs[dst.tenant].BackendPort()
	}
}

// crossTenant: only to the back-end of a tenant that allows the source, on its port, over TCP.
func (w matrixWant) crossTenant(src, dst matrixEndpoint, p matrixProbe) bool {
	to := w.specs[dst.tenant]
	return w.egressHalf && dst.backend && slices.Contains(to.allow, src.tenant) &&
		p.protocol == corev1.ProtocolTCP && p.port == to.BackendPort()
}

// toOutside: DNS on 53 to the DNS pods only; the internet, never the metadata address, when the spec opens it.
func (w matrixWant) toOutside(src, dst matrixEndpoint, p matrixProbe) bool {
	switch dst.role {
	case matrixDNS:
		return p.port == 53
	case matrixInternet:
		return w.specs[src.tenant].internet
	default:
		return false
	}
}

// matrixCheck tries every probe between every two endpoints one of which is a tenant's, and reports each answer
// that differs from want. It returns how many cross-tenant connections were let through, so that callers can tell
// an open matrix from a closed one.
func matrixCheck(t *testing.T, c *npCluster, eps []matrixEndpoint, want matrixWant) (crossTenant int) {
	t.Helper()
	for _, src := range eps {
		for _, dst := range eps {
			if src.npEndpoint == dst.npEndpoint || (src.tenant == "" && dst.tenant == "") {
				continue
			}
			for _, p := range matrixProbes() {
				got := npAllowed(c, src.npEndpoint, dst.npEndpoint, p.protocol, p.port)
				if exp := want.allowed(src, dst, p); got != exp {
					t.Errorf("%s -> %s %s: allowed = %v, want %v (source egress %v, destination ingress %v)", src, dst, p, got, exp,
						npEgressAllows(c, src.npEndpoint, dst.npEndpoint, p.protocol, p.port),
						npIngressAllows(c, src.npEndpoint, dst.npEndpoint, p.protocol, p.port))
				}
				if got && src.tenant != "" && dst.tenant != "" && src.tenant != dst.tenant {
					crossTenant++
				}
			}
		}
	}
	return crossTenant
}

func matrixEndpointNamed(t *testing.T, eps []matrixEndpoint, name string) npEndpoint {
	t.Helper()
	for _, e := range eps {
		if e.String() == name {
			return e.npEndpoint
		}
	}
	t.Fatalf("no endpoint %s", name)
	return npEndpoint{}
}

// matrixExpect states one connection by name, so that the cases read as what they are about.
func matrixExpect(t *testing.T, c *npCluster, eps []matrixEndpoint, src, dst string, port int32, want bool) {
	t.Helper()
	if got := npAllowed(c, matrixEndpointNamed(t, eps, src), matrixEndpointNamed(t, eps, dst), corev1.ProtocolTCP, port); got != want {
		t.Errorf("%s -> %s TCP/%d: allowed = %v, want %v", src, dst, port, got, want)
	}
}

func matrixTenantsOf(specs []matrixSpec) []*tenancyv1alpha1.Tenant {
	out := make([]*tenancyv1alpha1.Tenant, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.tenant())
	}
	return out
}

func matrixPolicyNames(r matrixRendered) string {
	names := make([]string, 0, len(r.policies))
	for _, np := range r.policies {
		names = append(names, np.Name)
	}
	return strings.Join(names, ",")
}

// TestNetworkMatrix renders every tenant, runs the NetworkPolicies through the evaluator, and checks every
// connection between the tenants' pods and the cluster's against what the specs mean.
func TestNetworkMatrix(t *testing.T) {
	cfg := DefaultConfig()
	specs := matrixSpecs()
	tenants := matrixTenantsOf(specs)

	t.Run("as specified", func(t *testing.T) {
		c, eps := matrixCluster(t, cfg, matrixRenderAll(t, tenants, tenants, true))
		if n := matrixCheck(t, c, eps, newMatrixWant(specs, true)); n == 0 {
			t.Error("no cross-tenant connection was let through: the matrix tests nothing")
		}
		matrixExpect(t, c, eps, "b/worker", "a/backend", 8081, true)
		matrixExpect(t, c, eps, "team-d/worker", "a/backend", 8081, true)
		matrixExpect(t, c, eps, "a/worker", "b/backend", 8082, false)
		matrixExpect(t, c, eps, "a/backend", "team-c/backend", 8080, true)
		matrixExpect(t, c, eps, "team-c/worker", "a/backend", 8081, false)
		matrixExpect(t, c, eps, "b/worker", "team-d/impostor", 8081, false)
		matrixExpect(t, c, eps, "ghost/unmanaged", "a/backend", 8081, false)
	})

	// Without allowedBy each tenant renders only its ingress half: the destination lets the source in, but the
	// source's default deny keeps the connection from leaving. This is why the egress policy exists.
	t.Run("without the egress half", func(t *testing.T) {
		c, eps := matrixCluster(t, cfg, matrixRenderAll(t, tenants, tenants, false))
		if n := matrixCheck(t, c, eps, newMatrixWant(specs, false)); n != 0 {
			t.Errorf("%d cross-tenant connections let through without egress policies", n)
		}
		src, dst := matrixEndpointNamed(t, eps, "b/worker"), matrixEndpointNamed(t, eps, "a/backend")
		if !npIngressAllows(c, src, dst, corev1.ProtocolTCP, 8081) || npEgressAllows(c, src, dst, corev1.ProtocolTCP, 8081) {
			t.Error("b -> a's back-end must be let in by a and kept from leaving by b")
		}
	})

	// c stops allowing a and b: c's ingress half goes at once, so the connection closes even while a and b still
	// carry their allow-to-tenant-c from before; once they are rendered again, that policy goes too.
	t.Run("allowFromTenants removed", func(t *testing.T) {
		after := matrixSpecs()
		after[2].allow = nil
		afterTenants := matrixTenantsOf(after)
		stale := matrixRenderAll(t, afterTenants, tenants, true)
		if !strings.Contains(matrixPolicyNames(stale[0]), policyToTenantPrefix+"c") {
			t.Fatalf("a rendered from before must still carry %sc: %s", policyToTenantPrefix, matrixPolicyNames(stale[0]))
		}
		stale[2] = matrixRender(t, afterTenants[2], matrixAllowedBy(afterTenants, afterTenants[2]))
		for _, stage := range []struct {
			name     string
			rendered []matrixRendered
		}{{"stale egress", stale}, {"rendered again", matrixRenderAll(t, afterTenants, afterTenants, true)}} {
			t.Run(stage.name, func(t *testing.T) {
				c, eps := matrixCluster(t, cfg, stage.rendered)
				matrixCheck(t, c, eps, newMatrixWant(after, true))
				matrixExpect(t, c, eps, "a/backend", "team-c/backend", 8080, false)
				matrixExpect(t, c, eps, "b/worker", "team-c/backend", 8080, false)
				matrixExpect(t, c, eps, "b/worker", "a/backend", 8081, true)
			})
		}
		for _, r := range matrixRenderAll(t, afterTenants, afterTenants, true) {
			if names := matrixPolicyNames(r); strings.Contains(names, policyToTenantPrefix+"c") {
				t.Errorf("%s still renders %sc: %s", r.namespace.Name, policyToTenantPrefix, names)
			}
		}
	})
}
