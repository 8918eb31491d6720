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
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// TestTenantSegmentsItsNamespace: with allow-same-namespace, a tenant's own NetworkPolicy alone cannot keep its
// namespace's pods from a pod (policies only add up); labelled segmented, the pod takes only what the tenant's
// policies give it, the other pods keep talking to each other and to the back-end, and nothing opens outside.
func TestTenantSegmentsItsNamespace(t *testing.T) {
	tenant := matrixSpec{name: "a", backend: true}.tenant()
	other := matrixSpec{name: "b"}.tenant()
	const tcp, probePort = corev1.ProtocolTCP, 5432
	// The tenant's own policy, as its owner would write it (admitted: podSelector peers only): the vault takes
	// connections from its clients.
	vaultFromClients := npPolicy("a", map[string]string{"app": "vault"}, npIngressOnly,
		npFrom(networkingv1.NetworkPolicyPeer{PodSelector: npSel("role", "vault-client")}), nil)
	// and its clients may reach it: they are not segmented, so allow-same-namespace already lets them out.

	for _, tc := range []struct {
		name      string
		segmented bool
		src, dst  string
		port      int32
		want      bool
	}{
		{"without the label, the tenant's policy cannot keep a worker out", false, "worker", "vault", probePort, true},
		{"segmented: a worker is kept out", true, "worker", "vault", probePort, false},
		{"segmented: a client the tenant's policy names gets in", true, "client", "vault", probePort, true},
		{"segmented: the vault cannot reach the namespace's other pods", true, "vault", "worker", probePort, false},
		{"segmented: the vault still resolves names", true, "vault", "dns", 53, true},
		{"segmented: the other pods still talk to each other", true, "worker", "client", probePort, true},
		{"segmented: the other pods still reach the back-end", true, "worker", "backend", 8080, true},
		{"segmented: another tenant is still refused", true, "b/worker", "vault", probePort, false},
		{"segmented: the vault reaches no other tenant", true, "vault", "b/worker", probePort, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c := newNPCluster()
			eps := map[string]npEndpoint{}
			for _, r := range []matrixRendered{matrixRender(t, tenant, nil), matrixRender(t, other, nil)} {
				c.addNamespace(r.namespace.Name, r.namespace.Labels)
			}
			c.addNamespace(cfg.DNSNamespace, nil)
			eps["dns"] = c.addPod(cfg.DNSNamespace, "dns", cfg.DNSPodLabels).endpoint()
			vault := map[string]string{"app": "vault"}
			if tc.segmented {
				vault[LabelSegmented] = "true"
			}
			eps["vault"] = c.addPod("a", "vault", vault).endpoint()
			eps["client"] = c.addPod("a", "client", map[string]string{"role": "vault-client"}).endpoint()
			eps["worker"] = c.addPod("a", "worker", map[string]string{"app": "worker"}).endpoint()
			eps["backend"] = c.addPod("a", "backend", BackendSelector(tenant)).endpoint()
			eps["b/worker"] = c.addPod("b", "worker", map[string]string{"app": "worker"}).endpoint()
			for _, r := range []matrixRendered{matrixRender(t, tenant, nil), matrixRender(t, other, nil)} {
				for _, np := range r.policies {
					if err := c.addPolicy(np); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := c.addPolicy(vaultFromClients); err != nil {
				t.Fatal(err)
			}
			protocol := tcp
			if tc.dst == "dns" {
				protocol = corev1.ProtocolUDP
			}
			if got := npAllowed(c, eps[tc.src], eps[tc.dst], protocol, tc.port); got != tc.want {
				t.Errorf("%s -> %s:%d: allowed %v, want %v", tc.src, tc.dst, tc.port, got, tc.want)
			}
		})
	}
}
