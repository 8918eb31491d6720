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
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// TestOverrideResourceList: a flag naming one resource changes that one and keeps the rest of the built-in default,
// so --default-quota=requests.cpu=8 does not silently drop the quota's other keys.
func TestOverrideResourceList(t *testing.T) {
	defaults := corev1.ResourceList{corev1.ResourcePods: mustQty("50"), corev1.ResourceRequestsCPU: mustQty("4")}
	for _, tc := range []struct {
		name, flag string
		want       corev1.ResourceList
		wantErr    bool
	}{
		{"empty keeps the defaults", "", defaults, false},
		{"one key overridden", "requests.cpu=8", corev1.ResourceList{corev1.ResourcePods: mustQty("50"), corev1.ResourceRequestsCPU: mustQty("8")}, false},
		{"a key added, spaces trimmed", " count/jobs.batch = 5 ,", corev1.ResourceList{corev1.ResourcePods: mustQty("50"), corev1.ResourceRequestsCPU: mustQty("4"), "count/jobs.batch": mustQty("5")}, false},
		{"not name=quantity", "pods", nil, true},
		{"not a quantity", "pods=many", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OverrideResourceList(defaults, tc.flag)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if cpu := defaults[corev1.ResourceRequestsCPU]; cpu.Cmp(mustQty("4")) != 0 || len(defaults) != 2 {
		t.Errorf("the defaults were changed: %v", defaults)
	}
}

func TestParsePortsAndLabels(t *testing.T) {
	ports, err := ParsePorts("metrics, 9090,,http-metrics")
	if err != nil || len(ports) != 3 || ports[0].StrVal != "metrics" || ports[1].IntVal != 9090 || ports[2].StrVal != "http-metrics" {
		t.Errorf("ParsePorts = %v, %v", ports, err)
	}
	for _, bad := range []string{"0", "65536", "not a name", "metrics-port-too-long"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("ParsePorts(%q) accepted", bad)
		}
	}
	labels, err := ParseLabels("k8s-app=kube-dns, dns.operator.openshift.io/daemonset-dns=default")
	if err != nil || len(labels) != 2 || labels["dns.operator.openshift.io/daemonset-dns"] != "default" {
		t.Errorf("ParseLabels = %v, %v", labels, err)
	}
	for _, bad := range []string{"k8s-app", "k8s app=dns", "k=a b"} {
		if _, err := ParseLabels(bad); err == nil {
			t.Errorf("ParseLabels(%q) accepted", bad)
		}
	}
}

// TestMonitoringPolicy: with monitoring namespaces configured, their pods may reach every pod of the tenant on the
// monitoring ports only; without, no such policy exists. A monitoring namespace is never a tenant's to claim (see
// controllers' reservedNamespace).
func TestMonitoringPolicy(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	find := func(cfg Config) *networkingv1.NetworkPolicy {
		for _, p := range desiredNetworkPolicies(tenant, cfg, nil) {
			if p.Name == PolicyMonitoring {
				return p
			}
		}
		return nil
	}
	if p := find(DefaultConfig()); p != nil {
		t.Errorf("a monitoring policy without monitoring namespaces: %+v", p.Spec)
	}
	cfg := DefaultConfig()
	cfg.MonitoringNamespaces = []string{"monitoring", "observability"}
	cfg.MonitoringPorts = []intstr.IntOrString{intstr.FromString("metrics"), intstr.FromInt32(9090)}
	p := find(cfg)
	if p == nil {
		t.Fatal("no allow-monitoring policy")
	}
	if len(p.Spec.PodSelector.MatchLabels)+len(p.Spec.PodSelector.MatchExpressions) != 0 || len(p.Spec.Egress) != 0 ||
		len(p.Spec.PolicyTypes) != 1 || p.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("the policy must select every pod, for ingress only: %+v", p.Spec)
	}
	rule := p.Spec.Ingress[0]
	if sel := rule.From[0].NamespaceSelector; sel == nil || rule.From[0].PodSelector != nil ||
		!reflect.DeepEqual(sel.MatchExpressions[0].Values, []string{"monitoring", "observability"}) {
		t.Errorf("from %+v", rule.From)
	}
	if len(rule.Ports) != 2 || rule.Ports[0].Port.StrVal != "metrics" || rule.Ports[1].Port.IntVal != 9090 {
		t.Errorf("ports %+v", rule.Ports)
	}
	cfg.MonitoringPorts = nil
	if err := cfg.Validate(); err == nil {
		t.Error("monitoring namespaces without ports accepted: scrapers would reach every port")
	}
}

// TestExtraRolesThatGiveTooMuchAreRefused: roles that would give a tenant its namespace whole, or the control
// plane's powers, cannot be allowed.
func TestExtraRolesThatGiveTooMuchAreRefused(t *testing.T) {
	for role, ok := range map[string]bool{
		"cert-manager-edit": true, "monitoring:servicemonitors-edit": true,
		"cluster-admin": false, "admin": false, "edit": false, "system:node": false,
	} {
		cfg := DefaultConfig()
		cfg.ExtraRoles = []string{role}
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("extra role %s: %v", role, err)
		}
	}
}
