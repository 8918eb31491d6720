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
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// metadataCIDR is the cloud metadata endpoint, never reachable through "internet" egress.
const metadataCIDR = "169.254.169.254/32"

// Names of the NetworkPolicies every tenant gets; allow-from-tenant-<name> is added per allowed tenant.
const (
	PolicyDefaultDeny        = "default-deny"
	PolicySameNamespace      = "allow-same-namespace"
	PolicyDNS                = "allow-dns"
	PolicyIngressControllers = "allow-ingress-controllers"
	PolicyEgressCIDRs        = "allow-egress-cidrs"
	PolicyEgressInternet     = "allow-egress-internet"
	policyFromTenantPrefix   = "allow-from-tenant-"
)

// desiredNetworkPolicies isolates the tenant: everything is denied, then the namespace may talk to itself and to the
// cluster DNS, the back-end may be reached by the ingress controllers and by the allowed tenants, and egress goes
// where the spec says. Names come from stable keys, so reordering the spec renames nothing.
func desiredNetworkPolicies(t *tenancyv1alpha1.Tenant, cfg Config) []*networkingv1.NetworkPolicy {
	all := &metav1.LabelSelector{}
	policies := []*networkingv1.NetworkPolicy{
		{
			ObjectMeta: objectMeta(t, PolicyDefaultDeny),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			},
		},
		{
			ObjectMeta: objectMeta(t, PolicySameNamespace),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: all}}}},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: all}}}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			},
		},
		{
			ObjectMeta: objectMeta(t, PolicyDNS),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: cfg.DNSNamespace}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: cfg.DNSPodLabels},
					}},
					Ports: []networkingv1.NetworkPolicyPort{
						{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(53))},
						{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(53))},
					},
				}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			},
		},
	}
	if b := t.Spec.Backend; b != nil {
		backendPort := []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(backendPort(b)))}}
		if len(cfg.IngressNamespaces) > 0 {
			policies = append(policies, ingressToBackend(t, PolicyIngressControllers, backendPort, &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: sortedCopy(cfg.IngressNamespaces),
				}},
			}))
		}
		for _, other := range allowedTenants(t) {
			policies = append(policies, ingressToBackend(t, shortName(policyFromTenantPrefix, other, 253), backendPort,
				&metav1.LabelSelector{MatchLabels: map[string]string{LabelManagedBy: ManagedByValue, LabelTenant: other}}))
		}
	}
	if egress := egressSpec(t); egress != nil {
		if len(egress.AllowedCIDRs) > 0 {
			peers := make([]networkingv1.NetworkPolicyPeer, 0, len(egress.AllowedCIDRs))
			for _, cidr := range sortedCopy(egress.AllowedCIDRs) {
				peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
			}
			policies = append(policies, egressPolicy(t, PolicyEgressCIDRs, peers))
		}
		if egress.AllowInternet {
			policies = append(policies, egressPolicy(t, PolicyEgressInternet, internetPeers(cfg.ClusterCIDRs)))
		}
	}
	return policies
}

func ingressToBackend(t *tenancyv1alpha1.Tenant, name string, ports []networkingv1.NetworkPolicyPort, from *metav1.LabelSelector) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: backendSelector(t)},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: from}}, Ports: ports}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
}

func egressPolicy(t *tenancyv1alpha1.Tenant, name string, to []networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: to}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		},
	}
}

// internetPeers is 0.0.0.0/0 and ::/0 minus the metadata address and the cluster's own ranges of each family.
func internetPeers(clusterCIDRs []string) []networkingv1.NetworkPolicyPeer {
	v4 := []string{metadataCIDR}
	var v6 []string
	for _, cidr := range sortedCopy(clusterCIDRs) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			continue // Config.Validate refuses these at start
		}
		if p.Addr().Is4() {
			v4 = append(v4, p.Masked().String())
		} else {
			v6 = append(v6, p.Masked().String())
		}
	}
	return []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: v4}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: v6}},
	}
}

func egressSpec(t *tenancyv1alpha1.Tenant) *tenancyv1alpha1.EgressSpec {
	if t.Spec.Network == nil {
		return nil
	}
	return t.Spec.Network.Egress
}

// allowedTenants are the other tenants whose pods may reach this tenant's back-end, sorted, without itself.
func allowedTenants(t *tenancyv1alpha1.Tenant) []string {
	if t.Spec.Network == nil {
		return nil
	}
	var out []string
	for _, name := range sortedCopy(t.Spec.Network.AllowFromTenants) {
		if name != t.Name {
			out = append(out, name)
		}
	}
	return out
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
