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
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// neverEgress are the destinations no tenant egress reaches, besides the cluster's own ranges: all of link-local,
// where AWS, GCP, Azure and OpenStack serve instance metadata (169.254.169.254 is only the best known of their
// addresses), and the metadata addresses of the clouds that serve it elsewhere.
var neverEgress = []string{
	"169.254.0.0/16",     // IPv4 link-local
	"100.100.100.200/32", // Alibaba Cloud metadata
	"168.63.129.16/32",   // Azure wireserver (DHCP, DNS, VM agent)
	"fe80::/10",          // IPv6 link-local
	"fd00:ec2::254/128",  // AWS instance metadata over IPv6
}

// Names of the NetworkPolicies every tenant gets; allow-from-tenant-<name> is added per allowed tenant.
const (
	PolicyDefaultDeny        = "default-deny"
	PolicySameNamespace      = "allow-same-namespace"
	PolicyDNS                = "allow-dns"
	PolicyIngressControllers = "allow-ingress-controllers"
	PolicyMonitoring         = "allow-monitoring"
	PolicyEgressCIDRs        = "allow-egress-cidrs"
	PolicyEgressInternet     = "allow-egress-internet"
	policyFromTenantPrefix   = "allow-from-tenant-"
	policyToTenantPrefix     = "allow-to-tenant-"
)

// desiredNetworkPolicies isolates the tenant: everything is denied, then the namespace may talk to itself (but for the
// pods the tenant labelled segmented, which its own policies govern) and to the cluster DNS, the back-end may be reached by the ingress controllers and by the allowed tenants, the tenant's pods
// may reach the back-end of each tenant in allowedBy (the tenants that allow this one: a connection needs the egress
// of its source and the ingress of its destination), and egress goes where the spec says. Names come from stable
// keys, so reordering the spec renames nothing.
func desiredNetworkPolicies(t *tenancyv1alpha1.Tenant, cfg Config, allowedBy []*tenancyv1alpha1.Tenant) []*networkingv1.NetworkPolicy {
	all := &metav1.LabelSelector{}
	policies := []*networkingv1.NetworkPolicy{
		DefaultDeny(t),
		{
			ObjectMeta: objectMeta(t, PolicySameNamespace),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: LabelSegmented, Operator: metav1.LabelSelectorOpNotIn, Values: []string{markTrue},
				}}},
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
	if len(cfg.MonitoringNamespaces) > 0 && len(cfg.MonitoringPorts) > 0 {
		policies = append(policies, monitoringPolicy(t, cfg))
	}
	if b := t.Spec.Backend; b != nil {
		backendPort := []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(BackendPort(b)))}}
		if len(cfg.IngressNamespaces) > 0 {
			policies = append(policies, ingressToBackend(t, PolicyIngressControllers, backendPort, &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: sortedCopy(cfg.IngressNamespaces),
				}},
			}))
		}
		for _, other := range AllowedTenants(t) {
			policies = append(policies, ingressToBackend(t, shortName(policyFromTenantPrefix, other, 253), backendPort,
				&metav1.LabelSelector{MatchLabels: map[string]string{LabelManagedBy: ManagedByValue, LabelTenant: other}}))
		}
	}
	for _, other := range allowedBy {
		if other.Name == t.Name || other.Spec.Backend == nil {
			continue
		}
		policies = append(policies, egressToBackend(t, other))
	}
	if egress := egressSpec(t); egress != nil {
		if open, _ := egressCIDRs(t, cfg); len(open) > 0 {
			peers := make([]networkingv1.NetworkPolicyPeer, 0, len(open))
			for _, cidr := range open {
				peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
			}
			policies = append(policies, egressPolicy(t, PolicyEgressCIDRs, peers, nil))
		}
		if egress.AllowInternet {
			policies = append(policies, egressPolicy(t, PolicyEgressInternet, internetPeers(cfg.ClusterCIDRs), nil))
		}
	}
	return policies
}

// defaultDeny selects every pod of the namespace for ingress and egress, and allows nothing.
func DefaultDeny(t *tenancyv1alpha1.Tenant) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, PolicyDefaultDeny),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
}

func ingressToBackend(t *tenancyv1alpha1.Tenant, name string, ports []networkingv1.NetworkPolicyPort, from *metav1.LabelSelector) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: BackendSelector(t)},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: from}}, Ports: ports}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
}

// monitoringPolicy lets the pods of the monitoring namespaces reach every pod of the tenant, on the monitoring ports
// only (numbers, or container port names such as "metrics"): the shared scrapers reach metrics, nothing else.
func monitoringPolicy(t *tenancyv1alpha1.Tenant, cfg Config) *networkingv1.NetworkPolicy {
	ports := make([]networkingv1.NetworkPolicyPort, 0, len(cfg.MonitoringPorts))
	for _, p := range cfg.MonitoringPorts {
		ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(p)})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, PolicyMonitoring),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
					MatchExpressions: []metav1.LabelSelectorRequirement{{
						Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: sortedCopy(cfg.MonitoringNamespaces),
					}},
				}}},
				Ports: ports,
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
}

// egressToBackend lets t's pods reach the back-end of other, on its port only: the egress half of other's
// allow-from-tenant policy for t.
func egressToBackend(t, other *tenancyv1alpha1.Tenant) *networkingv1.NetworkPolicy {
	return egressPolicy(t, shortName(policyToTenantPrefix, other.Name, 253), []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelManagedBy: ManagedByValue, LabelTenant: other.Name}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: BackendSelector(other)},
	}}, []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(BackendPort(other.Spec.Backend)))}})
}

func egressPolicy(t *tenancyv1alpha1.Tenant, name string, to []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: to, Ports: ports}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		},
	}
}

// internetPeers is 0.0.0.0/0 and ::/0 minus, in each family, the neverEgress ranges and the cluster's own.
func internetPeers(clusterCIDRs []string) []networkingv1.NetworkPolicyPeer {
	var v4, v6 []string
	for _, p := range forbiddenEgress(clusterCIDRs) {
		if p.Addr().Is4() {
			v4 = append(v4, p.String())
		} else {
			v6 = append(v6, p.String())
		}
	}
	return []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: v4}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: v6}},
	}
}

// forbiddenEgress is neverEgress, then the cluster's own ranges sorted, masked.
func forbiddenEgress(clusterCIDRs []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(neverEgress)+len(clusterCIDRs))
	for _, cidr := range append(append([]string(nil), neverEgress...), sortedCopy(clusterCIDRs)...) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			continue // Config.Validate refuses these at start
		}
		out = append(out, p.Masked())
	}
	return out
}

// refusedCIDR is an allowed egress CIDR left out of the tenant's egress, and the forbidden range it overlaps.
type refusedCIDR struct{ cidr, overlaps string }

// egressCIDRs splits spec.network.egress.allowedCIDRs, sorted, into those egress is opened to and those overlapping
// the cluster's own ranges or a neverEgress range: the admin's allowedCIDRs must not reopen what allowInternet keeps
// out (another tenant's pods, the nodes, the metadata endpoints). The CRD refuses link-local; the cluster ranges are
// known to the operator only, and Tenants stored before a rule was added are checked here too.
func egressCIDRs(t *tenancyv1alpha1.Tenant, cfg Config) (open []string, refused []refusedCIDR) {
	egress := egressSpec(t)
	if egress == nil {
		return nil, nil
	}
	forbidden := forbiddenEgress(cfg.ClusterCIDRs)
	for _, cidr := range sortedCopy(egress.AllowedCIDRs) {
		if overlaps, ok := firstOverlap(cidr, forbidden); ok {
			refused = append(refused, refusedCIDR{cidr: cidr, overlaps: overlaps.String()})
			continue
		}
		open = append(open, cidr)
	}
	return open, refused
}

// firstOverlap is the first of ranges that cidr shares addresses with. A string that is no CIDR overlaps nothing: the
// CRD refuses those, and the apiserver a NetworkPolicy holding one (ApplyFailed).
func firstOverlap(cidr string, ranges []netip.Prefix) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, false
	}
	for _, r := range ranges {
		if p.Overlaps(r) {
			return r, true
		}
	}
	return netip.Prefix{}, false
}

// refusedCIDRsMessage names each refused CIDR and what it overlaps, in the order of the sorted spec.
func refusedCIDRsMessage(refused []refusedCIDR) string {
	parts := make([]string, len(refused))
	for i, r := range refused {
		parts[i] = fmt.Sprintf("%s (overlaps %s)", r.cidr, r.overlaps)
	}
	return "Egress was not opened to allowedCIDRs overlapping the cluster's own ranges or a cloud metadata address: " +
		strings.Join(parts, ", ")
}

func egressSpec(t *tenancyv1alpha1.Tenant) *tenancyv1alpha1.EgressSpec {
	if t.Spec.Network == nil {
		return nil
	}
	return t.Spec.Network.Egress
}

// allowedTenants are the other tenants whose pods may reach this tenant's back-end, sorted, without itself.
func AllowedTenants(t *tenancyv1alpha1.Tenant) []string {
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
