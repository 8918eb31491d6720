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
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// A model of NetworkPolicy (networking.k8s.io/v1) enforcement, so that tests can ask whether the policies the
// operator renders let a connection through, instead of comparing them to a copy of themselves.

// npPod is a pod of the model cluster. ports are its container ports, for named ports in policies.
type npPod struct {
	name      string
	namespace string
	labels    map[string]string
	ip        netip.Addr
	ports     []corev1.ContainerPort
}

// npEndpoint is one end of a connection: a pod, or an address outside the cluster when pod is nil.
type npEndpoint struct {
	pod *npPod
	ip  netip.Addr
}

func (p *npPod) endpoint() npEndpoint { return npEndpoint{pod: p, ip: p.ip} }

func npExternal(ip string) npEndpoint { return npEndpoint{ip: netip.MustParseAddr(ip)} }

func (e npEndpoint) String() string {
	if e.pod == nil {
		return e.ip.String()
	}
	return e.pod.namespace + "/" + e.pod.name
}

// npCluster holds the namespaces (name to labels), pods and NetworkPolicies in force.
type npCluster struct {
	namespaces map[string]map[string]string
	pods       []*npPod
	policies   []*networkingv1.NetworkPolicy
	lastIP     netip.Addr
}

func newNPCluster() *npCluster {
	return &npCluster{namespaces: map[string]map[string]string{}, lastIP: netip.MustParseAddr("10.244.0.1")}
}

// addNamespace adds the label the apiserver sets on every namespace, which policies commonly select on.
func (c *npCluster) addNamespace(name string, nsLabels map[string]string) {
	l := map[string]string{corev1.LabelMetadataName: name}
	for k, v := range nsLabels {
		if k != corev1.LabelMetadataName {
			l[k] = v
		}
	}
	c.namespaces[name] = l
}

// addPod gives the pod the next address from 10.244.0.2 on, inside the cluster's ranges.
func (c *npCluster) addPod(namespace, name string, podLabels map[string]string, ports ...corev1.ContainerPort) *npPod {
	if _, ok := c.namespaces[namespace]; !ok {
		panic("no namespace " + namespace)
	}
	c.lastIP = c.lastIP.Next()
	p := &npPod{name: name, namespace: namespace, labels: podLabels, ports: ports, ip: c.lastIP}
	c.pods = append(c.pods, p)
	return p
}

// addPolicy refuses what the apiserver would refuse, so that a policy the model accepts is one a cluster would run.
func (c *npCluster) addPolicy(np *networkingv1.NetworkPolicy) error {
	if _, ok := c.namespaces[np.Namespace]; !ok {
		return fmt.Errorf("%s/%s: no namespace %q", np.Namespace, np.Name, np.Namespace)
	}
	if err := npValidate(np); err != nil {
		return fmt.Errorf("%s/%s: %w", np.Namespace, np.Name, err)
	}
	c.policies = append(c.policies, np)
	return nil
}

// npValidate checks the rules of the apiserver's NetworkPolicy validation the evaluator relies on.
func npValidate(np *networkingv1.NetworkPolicy) error {
	if _, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil {
		return err
	}
	for _, pt := range np.Spec.PolicyTypes {
		if pt != networkingv1.PolicyTypeIngress && pt != networkingv1.PolicyTypeEgress {
			return fmt.Errorf("policy type %q", pt)
		}
	}
	var errs []error
	for _, r := range np.Spec.Ingress {
		errs = append(errs, npValidatePeers(r.From), npValidatePorts(r.Ports))
	}
	for _, r := range np.Spec.Egress {
		errs = append(errs, npValidatePeers(r.To), npValidatePorts(r.Ports))
	}
	return errors.Join(errs...)
}

func npValidatePeers(peers []networkingv1.NetworkPolicyPeer) error {
	for _, p := range peers {
		selectors := p.PodSelector != nil || p.NamespaceSelector != nil
		switch {
		case p.IPBlock != nil && selectors:
			return errors.New("ipBlock with a selector in one peer")
		case p.IPBlock != nil:
			if err := npValidateIPBlock(p.IPBlock); err != nil {
				return err
			}
		case !selectors:
			return errors.New("empty peer")
		}
		for _, s := range []*metav1.LabelSelector{p.PodSelector, p.NamespaceSelector} {
			if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// npValidateIPBlock: each except must lie strictly inside the CIDR.
func npValidateIPBlock(b *networkingv1.IPBlock) error {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return err
	}
	for _, e := range b.Except {
		ex, err := netip.ParsePrefix(e)
		if err != nil {
			return err
		}
		if ex.Addr().Is4() != cidr.Addr().Is4() || ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr()) {
			return fmt.Errorf("except %s is not strictly inside %s", e, b.CIDR)
		}
	}
	return nil
}

func npValidatePorts(ports []networkingv1.NetworkPolicyPort) error {
	for _, p := range ports {
		if p.Protocol != nil && !slices.Contains([]corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}, *p.Protocol) {
			return fmt.Errorf("protocol %q", *p.Protocol)
		}
		if p.EndPort == nil {
			continue
		}
		if p.Port == nil || p.Port.Type != intstr.Int || *p.EndPort < p.Port.IntVal {
			return errors.New("endPort needs a numeric port no greater than it")
		}
	}
	return nil
}

// npAllowed reports whether src may open a connection to dst on protocol and port: the egress of src (when a pod)
// and the ingress of dst (when a pod) must both let it through.
func npAllowed(c *npCluster, src, dst npEndpoint, protocol corev1.Protocol, port int32) bool {
	return npEgressAllows(c, src, dst, protocol, port) && npIngressAllows(c, src, dst, protocol, port)
}

// npEgressAllows is the source's half: true for an external source, which no policy governs.
func npEgressAllows(c *npCluster, src, dst npEndpoint, protocol corev1.Protocol, port int32) bool {
	if src.pod == nil {
		return true
	}
	return c.direction(src.pod, networkingv1.PolicyTypeEgress, dst, dst, protocol, port)
}

// npIngressAllows is the destination's half: true for an external destination.
func npIngressAllows(c *npCluster, src, dst npEndpoint, protocol corev1.Protocol, port int32) bool {
	if dst.pod == nil {
		return true
	}
	return c.direction(dst.pod, networkingv1.PolicyTypeIngress, src, dst, protocol, port)
}

// direction decides for pod, in one direction: a pod no policy of that type selects is not isolated; an isolated
// one is let through by any rule, of any selecting policy, that matches both the peer and the destination port.
func (c *npCluster) direction(pod *npPod, dir networkingv1.PolicyType, peer, dst npEndpoint, protocol corev1.Protocol, port int32) bool {
	isolated := false
	for _, np := range c.policies {
		if np.Namespace != pod.namespace || !slices.Contains(npPolicyTypes(np), dir) || !npSelects(&np.Spec.PodSelector, pod.labels) {
			continue
		}
		isolated = true
		for _, r := range npRules(np, dir) {
			if c.ruleMatches(np.Namespace, r, peer, dst, protocol, port) {
				return true
			}
		}
	}
	return !isolated
}

// npRule is an ingress or egress rule: its peers (from or to) and ports.
type npRule struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

func npRules(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType) []npRule {
	var out []npRule
	if dir == networkingv1.PolicyTypeIngress {
		for _, r := range np.Spec.Ingress {
			out = append(out, npRule{r.From, r.Ports})
		}
		return out
	}
	for _, r := range np.Spec.Egress {
		out = append(out, npRule{r.To, r.Ports})
	}
	return out
}

// npPolicyTypes applies the apiserver's defaulting: no policyTypes means Ingress, and Egress when egress rules exist.
func npPolicyTypes(np *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(np.Spec.PolicyTypes) > 0 {
		return np.Spec.PolicyTypes
	}
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(np.Spec.Egress) > 0 {
		types = append(types, networkingv1.PolicyTypeEgress)
	}
	return types
}

// ruleMatches: no peers matches every peer, no ports every port.
func (c *npCluster) ruleMatches(policyNS string, r npRule, peer, dst npEndpoint, protocol corev1.Protocol, port int32) bool {
	peerOK := len(r.peers) == 0
	for _, p := range r.peers {
		peerOK = peerOK || c.peerMatches(policyNS, p, peer)
	}
	if !peerOK {
		return false
	}
	if len(r.ports) == 0 {
		return true
	}
	for _, p := range r.ports {
		if npPortMatches(p, dst, protocol, port) {
			return true
		}
	}
	return false
}

// peerMatches: an ipBlock matches the endpoint's address, pod or not; selectors match pods only, a podSelector
// alone in the policy's namespace, a namespaceSelector alone every pod of the namespaces it selects, both together
// the pods selected in the namespaces selected.
func (c *npCluster) peerMatches(policyNS string, p networkingv1.NetworkPolicyPeer, e npEndpoint) bool {
	if p.IPBlock != nil {
		return npInIPBlock(p.IPBlock, e.ip)
	}
	if e.pod == nil {
		return false
	}
	if p.NamespaceSelector == nil {
		if e.pod.namespace != policyNS {
			return false
		}
	} else if !npSelects(p.NamespaceSelector, c.namespaces[e.pod.namespace]) {
		return false
	}
	return p.PodSelector == nil || npSelects(p.PodSelector, e.pod.labels)
}

func npInIPBlock(b *networkingv1.IPBlock, ip netip.Addr) bool {
	if !netip.MustParsePrefix(b.CIDR).Contains(ip) {
		return false
	}
	for _, e := range b.Except {
		if netip.MustParsePrefix(e).Contains(ip) {
			return false
		}
	}
	return true
}

// npPortMatches: the protocol defaults to TCP, no port is every port of it, a named port is looked up among the
// destination pod's container ports, and endPort makes a range.
func npPortMatches(p networkingv1.NetworkPolicyPort, dst npEndpoint, protocol corev1.Protocol, port int32) bool {
	if npProtocol(ptr.Deref(p.Protocol, "")) != protocol {
		return false
	}
	switch {
	case p.Port == nil:
		return true
	case p.Port.Type == intstr.String:
		return dst.pod != nil && slices.ContainsFunc(dst.pod.ports, func(cp corev1.ContainerPort) bool {
			return cp.Name == p.Port.StrVal && cp.ContainerPort == port && npProtocol(cp.Protocol) == protocol
		})
	case p.EndPort != nil:
		return p.Port.IntVal <= port && port <= *p.EndPort
	default:
		return p.Port.IntVal == port
	}
}

// npProtocol defaults a policy's or container port's protocol to TCP, as the apiserver does.
func npProtocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// npSelects matches a selector validated by addPolicy; nil selects nothing, empty everything.
func npSelects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		panic(err)
	}
	return s.Matches(labels.Set(l))
}

// npEvalCluster: namespaces "a" (team=red) and "b" (team=blue), each with a web and a db pod.
func npEvalCluster(t *testing.T, policies ...*networkingv1.NetworkPolicy) (*npCluster, map[string]npEndpoint) {
	t.Helper()
	c := newNPCluster()
	c.addNamespace("a", map[string]string{"team": "red"})
	c.addNamespace("b", map[string]string{"team": "blue"})
	web := corev1.ContainerPort{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}
	eps := map[string]npEndpoint{
		"a/web":    c.addPod("a", "web", map[string]string{"app": "web"}, web).endpoint(),
		"a/db":     c.addPod("a", "db", map[string]string{"app": "db", "tier": "data"}).endpoint(),
		"b/web":    c.addPod("b", "web", map[string]string{"app": "web"}, web).endpoint(),
		"b/db":     c.addPod("b", "db", map[string]string{"app": "db"}).endpoint(),
		"internet": npExternal("203.0.113.7"),
		"excepted": npExternal("203.0.113.200"),
	}
	for _, np := range policies {
		if err := c.addPolicy(np); err != nil {
			t.Fatal(err)
		}
	}
	return c, eps
}

func npPolicy(ns string, podLabels map[string]string, types []networkingv1.PolicyType, in []networkingv1.NetworkPolicyIngressRule,
	out []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: podLabels}, PolicyTypes: types, Ingress: in, Egress: out,
	}}
	np.Namespace, np.Name = ns, "test"
	return np
}

func npFrom(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyIngressRule {
	return []networkingv1.NetworkPolicyIngressRule{{From: peers}}
}

func npTo(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyEgressRule {
	return []networkingv1.NetworkPolicyEgressRule{{To: peers}}
}

func npSel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

func npPorts(protocol corev1.Protocol, port intstr.IntOrString, endPort *int32) []networkingv1.NetworkPolicyPort {
	return []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(protocol), Port: &port, EndPort: endPort}}
}

var (
	npIngressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	npEgressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	npBoth        = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

type npEvalCase struct {
	name     string
	policies []*networkingv1.NetworkPolicy
	src, dst string
	protocol corev1.Protocol // TCP when empty
	port     int32
	want     bool
}

// npEvalCases come in pairs where they can: the same policies, one connection let through and one not, so that
// an evaluator answering always the same fails.
func npEvalCases() []npEvalCase {
	dbOnlyFromWeb := npPolicy("a", map[string]string{"app": "db"}, npIngressOnly, npFrom(networkingv1.NetworkPolicyPeer{PodSelector: npSel("app", "web")}), nil)
	denyAll := npPolicy("a", nil, npBoth, nil, nil)
	fromRed := npPolicy("b", nil, nil, npFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: npSel("team", "red")}), nil)
	fromRedWeb := npPolicy("b", nil, nil, npFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: npSel("team", "red"), PodSelector: npSel("app", "web")}), nil)
	fromRedOrWeb := npPolicy("b", nil, nil, npFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: npSel("team", "red")}, networkingv1.NetworkPolicyPeer{PodSelector: npSel("app", "web")}), nil)
	egressBlock := npPolicy("a", nil, npEgressOnly, nil, npTo(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.128/25"}}}))
	podBlock := npPolicy("a", nil, npEgressOnly, nil, npTo(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.0.0/16", Except: []string{"10.244.0.3/32"}}})) // a/db: the second pod
	egressNoTypes := npPolicy("a", nil, nil, nil, npTo(networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}))
	ingressNoTypes := npPolicy("a", nil, nil, npFrom(networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}), nil)
	udpRange := npPolicy("b", nil, npIngressOnly, []networkingv1.NetworkPolicyIngressRule{{Ports: npPorts(corev1.ProtocolUDP, intstr.FromInt32(5000), ptr.To[int32](5010))}}, nil)
	defaultTCP := npPolicy("b", nil, npIngressOnly, []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(80))}}}}, nil)
	named := npPolicy("b", nil, npIngressOnly, []networkingv1.NetworkPolicyIngressRule{{Ports: npPorts(corev1.ProtocolTCP, intstr.FromString("http"), nil)}}, nil)
	byMetadataName := npPolicy("b", nil, npIngressOnly, npFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: npSel(corev1.LabelMetadataName, "a")}), nil)
	exprs := npPolicy("a", nil, npIngressOnly, npFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"db", "cache"}},
		{Key: "tier", Operator: metav1.LabelSelectorOpDoesNotExist},
	}}}), nil)
	onlyDB := npPolicy("a", map[string]string{"tier": "data"}, npBoth, nil, nil)
	egressToBWeb := npPolicy("a", nil, npEgressOnly, nil, npTo(networkingv1.NetworkPolicyPeer{NamespaceSelector: npSel("team", "blue"), PodSelector: npSel("app", "web")}))
	ingressFromAll := npPolicy("a", nil, npIngressOnly, []networkingv1.NetworkPolicyIngressRule{{}}, nil)

	return []npEvalCase{
		{"no policy: open", nil, "b/db", "a/db", "", 1234, true},
		{"deny all: in", []*networkingv1.NetworkPolicy{denyAll}, "b/web", "a/web", "", 80, false},
		{"deny all: out", []*networkingv1.NetworkPolicy{denyAll}, "a/web", "b/web", "", 80, false},
		{"deny all: within the namespace too", []*networkingv1.NetworkPolicy{denyAll}, "a/web", "a/db", "", 80, false},
		{"podSelector peer: same namespace", []*networkingv1.NetworkPolicy{dbOnlyFromWeb}, "a/web", "a/db", "", 5432, true},
		{"podSelector peer: not another namespace's", []*networkingv1.NetworkPolicy{dbOnlyFromWeb}, "b/web", "a/db", "", 5432, false},
		{"podSelector peer: not an unselected pod", []*networkingv1.NetworkPolicy{dbOnlyFromWeb}, "a/db", "a/db", "", 5432, false},
		{"unselected pod stays open", []*networkingv1.NetworkPolicy{dbOnlyFromWeb}, "b/db", "a/web", "", 80, true},
		{"namespaceSelector alone: every pod there", []*networkingv1.NetworkPolicy{fromRed}, "a/db", "b/web", "", 80, true},
		{"namespaceSelector alone: not others", []*networkingv1.NetworkPolicy{fromRed}, "b/db", "b/web", "", 80, false},
		{"both selectors: the pods in the namespaces", []*networkingv1.NetworkPolicy{fromRedWeb}, "a/web", "b/db", "", 80, true},
		{"both selectors: and, not or (namespace)", []*networkingv1.NetworkPolicy{fromRedWeb}, "b/web", "b/db", "", 80, false},
		{"both selectors: and, not or (pod)", []*networkingv1.NetworkPolicy{fromRedWeb}, "a/db", "b/db", "", 80, false},
		{"two peers: or", []*networkingv1.NetworkPolicy{fromRedOrWeb}, "b/web", "b/db", "", 80, true},
		{"two peers: neither", []*networkingv1.NetworkPolicy{fromRedOrWeb}, "b/db", "b/web", "", 80, false},
		{"selectors match no external address", []*networkingv1.NetworkPolicy{fromRed}, "internet", "b/web", "", 80, false},
		{"ipBlock", []*networkingv1.NetworkPolicy{egressBlock}, "a/web", "internet", "", 443, true},
		{"ipBlock except", []*networkingv1.NetworkPolicy{egressBlock}, "a/web", "excepted", "", 443, false},
		{"ipBlock matches no pod outside it", []*networkingv1.NetworkPolicy{egressBlock}, "a/web", "b/web", "", 80, false},
		{"ipBlock matches pod addresses", []*networkingv1.NetworkPolicy{podBlock}, "a/web", "b/web", "", 80, true},
		{"ipBlock matches pod addresses: except", []*networkingv1.NetworkPolicy{podBlock}, "a/web", "a/db", "", 80, false},
		{"egress isolation leaves ingress open", []*networkingv1.NetworkPolicy{egressBlock}, "internet", "a/web", "", 80, true},
		{"no policyTypes, egress rules: egress isolated", []*networkingv1.NetworkPolicy{egressNoTypes}, "a/web", "b/web", "", 80, false},
		{"no policyTypes, egress rules: ingress isolated", []*networkingv1.NetworkPolicy{egressNoTypes}, "b/web", "a/web", "", 80, false},
		{"no policyTypes, ingress rules: egress open", []*networkingv1.NetworkPolicy{ingressNoTypes}, "a/web", "b/web", "", 80, true},
		{"no policyTypes, ingress rules: ingress isolated", []*networkingv1.NetworkPolicy{ingressNoTypes}, "b/web", "a/web", "", 80, false},
		{"port range: inside", []*networkingv1.NetworkPolicy{udpRange}, "a/web", "b/web", corev1.ProtocolUDP, 5010, true},
		{"port range: past the end", []*networkingv1.NetworkPolicy{udpRange}, "a/web", "b/web", corev1.ProtocolUDP, 5011, false},
		{"port range: other protocol", []*networkingv1.NetworkPolicy{udpRange}, "a/web", "b/web", corev1.ProtocolTCP, 5005, false},
		{"protocol defaults to TCP", []*networkingv1.NetworkPolicy{defaultTCP}, "a/web", "b/web", corev1.ProtocolTCP, 80, true},
		{"protocol defaults to TCP, not UDP", []*networkingv1.NetworkPolicy{defaultTCP}, "a/web", "b/web", corev1.ProtocolUDP, 80, false},
		{"named port of the destination", []*networkingv1.NetworkPolicy{named}, "a/db", "b/web", "", 80, true},
		{"named port: other number", []*networkingv1.NetworkPolicy{named}, "a/db", "b/web", "", 81, false},
		{"named port the destination lacks", []*networkingv1.NetworkPolicy{named}, "a/web", "b/db", "", 80, false},
		{"automatic namespace name label", []*networkingv1.NetworkPolicy{byMetadataName}, "a/db", "b/db", "", 1, true},
		{"automatic namespace name label: other", []*networkingv1.NetworkPolicy{byMetadataName}, "b/web", "b/db", "", 1, false},
		{"matchExpressions: In and DoesNotExist", []*networkingv1.NetworkPolicy{exprs}, "b/db", "a/web", "", 1, true},
		{"matchExpressions: not In", []*networkingv1.NetworkPolicy{exprs}, "b/web", "a/web", "", 1, false},
		{"matchExpressions: label present", []*networkingv1.NetworkPolicy{exprs}, "a/db", "a/web", "", 1, false},
		{"policies add up: ingress alone", []*networkingv1.NetworkPolicy{denyAll, ingressNoTypes}, "a/db", "a/web", "", 80, false},
		{"policies add up: egress alone", []*networkingv1.NetworkPolicy{denyAll, egressNoTypes}, "a/db", "a/web", "", 80, false},
		{"policies add up: both", []*networkingv1.NetworkPolicy{denyAll, ingressNoTypes, egressNoTypes}, "a/db", "a/web", "", 80, true},
		{"podSelector of the policy", []*networkingv1.NetworkPolicy{onlyDB}, "a/web", "b/web", "", 80, true},
		{"podSelector of the policy: selected", []*networkingv1.NetworkPolicy{onlyDB}, "a/db", "b/web", "", 80, false},
		{"egress both selectors", []*networkingv1.NetworkPolicy{egressToBWeb}, "a/db", "b/web", "", 80, true},
		{"egress both selectors: other pod", []*networkingv1.NetworkPolicy{egressToBWeb}, "a/db", "b/db", "", 80, false},
		{"egress both selectors: own namespace", []*networkingv1.NetworkPolicy{egressToBWeb}, "a/db", "a/web", "", 80, false},
		{"empty rule: every peer and port", []*networkingv1.NetworkPolicy{ingressFromAll}, "internet", "a/db", corev1.ProtocolUDP, 9, true},
		{"both halves needed", []*networkingv1.NetworkPolicy{egressToBWeb, npPolicy("b", nil, npIngressOnly, nil, nil)}, "a/db", "b/web", "", 80, false},
	}
}

func TestNetworkPolicyEvaluator(t *testing.T) {
	for _, tc := range npEvalCases() {
		t.Run(tc.name, func(t *testing.T) {
			c, eps := npEvalCluster(t, tc.policies...)
			src, ok1 := eps[tc.src]
			dst, ok2 := eps[tc.dst]
			if !ok1 || !ok2 {
				t.Fatalf("unknown endpoint in %q -> %q", tc.src, tc.dst)
			}
			protocol := tc.protocol
			if protocol == "" {
				protocol = corev1.ProtocolTCP
			}
			if got := npAllowed(c, src, dst, protocol, tc.port); got != tc.want {
				t.Errorf("%s -> %s %s/%d allowed = %v, want %v", tc.src, tc.dst, protocol, tc.port, got, tc.want)
			}
		})
	}
}

// TestNetworkPolicyEvaluatorRefusesInvalidPolicies: what the apiserver refuses must not be evaluated as if it ran.
func TestNetworkPolicyEvaluatorRefusesInvalidPolicies(t *testing.T) {
	for name, peer := range map[string]networkingv1.NetworkPolicyPeer{
		"empty peer":            {},
		"ipBlock and selector":  {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: &metav1.LabelSelector{}},
		"except outside":        {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"11.0.0.0/8"}}},
		"except equal":          {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.0.0.0/8"}}},
		"bad CIDR":              {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/33"}},
		"bad selector operator": {PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := npEvalCluster(t)
			if err := c.addPolicy(npPolicy("a", nil, nil, npFrom(peer), nil)); err == nil {
				t.Error("accepted")
			}
		})
	}
	c, _ := npEvalCluster(t)
	if err := c.addPolicy(npPolicy("a", nil, nil, []networkingv1.NetworkPolicyIngressRule{{
		Ports: npPorts(corev1.ProtocolTCP, intstr.FromInt32(90), ptr.To[int32](80)),
	}}, nil)); err == nil {
		t.Error("endPort below port accepted")
	}
}
