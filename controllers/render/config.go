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
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Config is the operator-wide configuration the cluster admin sets (flags of main.go, values of the chart). The pure
// builders take it as input beside the Tenant.
type Config struct {
	// OperatorNamespace is where the operator runs; no tenant may claim it.
	OperatorNamespace string
	// DefaultQuota is every tenant's ResourceQuota; spec.quota.hard overrides it key by key.
	DefaultQuota corev1.ResourceList
	// DefaultLimits is every tenant's LimitRange; spec.limits overrides each of its lists key by key.
	DefaultLimits tenancyv1alpha1.LimitsSpec
	// IngressNamespaces are the namespaces of the ingress controllers allowed to reach every back-end. No tenant may
	// claim them.
	IngressNamespaces []string
	// ReservedNamespaces are other shared namespaces (monitoring, logging) no tenant may claim.
	ReservedNamespaces []string
	// MonitoringNamespaces are the namespaces whose pods (the metrics scrapers) may reach every tenant pod on
	// MonitoringPorts: port numbers, or container port names. No tenant may claim them.
	MonitoringNamespaces []string
	MonitoringPorts      []intstr.IntOrString
	// ClusterCIDRs are the cluster's pod, service and node ranges, kept out of "internet" egress.
	ClusterCIDRs []string
	// DNSNamespace and DNSPodLabels select the cluster DNS pods tenants may query. No tenant may claim DNSNamespace.
	DNSNamespace string
	DNSPodLabels map[string]string
	// ClusterDomain is the cluster's DNS domain, for the back-end certificate's names.
	ClusterDomain string
	// CASecretName names the Secret in OperatorNamespace holding the CA that signs back-end certificates.
	CASecretName string
	// CertificateLifetime is how long back-end certificates are valid; they are renewed at two thirds of it.
	CertificateLifetime time.Duration
	// EncryptionKeyRotationPeriod adds a new data key to each tenant's key ring this often; 0 never.
	EncryptionKeyRotationPeriod time.Duration
	// ExtraRoles are the ClusterRoles Tenants may have bound in their namespace (spec.extraRoles). The operator
	// needs bind on each (the chart grants it, by name).
	ExtraRoles []string
}

// DefaultConfig is the configuration used when the admin sets nothing.
func DefaultConfig() Config {
	return Config{
		OperatorNamespace: "tenant-operator-system",
		// Every resource the multi-tenancy benchmark expects a tenant's quota to cover (MTB CC-FNS-1 and CC-FNS-2).
		DefaultQuota: corev1.ResourceList{
			corev1.ResourceRequestsCPU:              resource.MustParse("4"),
			corev1.ResourceRequestsMemory:           resource.MustParse("8Gi"),
			corev1.ResourceRequestsEphemeralStorage: resource.MustParse("20Gi"),
			corev1.ResourceLimitsCPU:                resource.MustParse("8"),
			corev1.ResourceLimitsMemory:             resource.MustParse("16Gi"),
			corev1.ResourceLimitsEphemeralStorage:   resource.MustParse("40Gi"),
			corev1.ResourcePods:                     resource.MustParse("50"),
			corev1.ResourceServices:                 resource.MustParse("10"),
			corev1.ResourceReplicationControllers:   resource.MustParse("10"),
			corev1.ResourceSecrets:                  resource.MustParse("50"),
			corev1.ResourceConfigMaps:               resource.MustParse("50"),
			corev1.ResourcePersistentVolumeClaims:   resource.MustParse("10"),
			corev1.ResourceRequestsStorage:          resource.MustParse("100Gi"),
			// The tenant's own quota is the only one; tenants cannot create quotas anyway.
			corev1.ResourceQuotas: resource.MustParse("1"),
			// Tenants may not create what the guardrails forbid anyway; a zero quota says so twice.
			corev1.ResourceServicesNodePorts:     resource.MustParse("0"),
			corev1.ResourceServicesLoadBalancers: resource.MustParse("0"),
		},
		// Every resource the quota bounds per pod has a default here: under a quota on ephemeral-storage, a pod that
		// sets none is admitted only because the LimitRange gives it one.
		DefaultLimits: tenancyv1alpha1.LimitsSpec{
			Default: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("500m"),
				corev1.ResourceMemory:           resource.MustParse("512Mi"),
				corev1.ResourceEphemeralStorage: resource.MustParse("1Gi"),
			},
			DefaultRequest: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("100m"),
				corev1.ResourceMemory:           resource.MustParse("128Mi"),
				corev1.ResourceEphemeralStorage: resource.MustParse("256Mi"),
			},
			Max: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("4"),
				corev1.ResourceMemory:           resource.MustParse("8Gi"),
				corev1.ResourceEphemeralStorage: resource.MustParse("8Gi"),
			},
		},
		IngressNamespaces:  []string{"ingress-nginx"},
		ReservedNamespaces: []string{"monitoring"},
		// The private ranges hold every usual pod, service and node CIDR.
		ClusterCIDRs:                []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
		DNSNamespace:                "kube-system",
		DNSPodLabels:                map[string]string{"k8s-app": "kube-dns"},
		MonitoringPorts:             []intstr.IntOrString{intstr.FromString("metrics")},
		ClusterDomain:               "cluster.local",
		CASecretName:                "tenant-operator-ca",
		CertificateLifetime:         90 * 24 * time.Hour,
		EncryptionKeyRotationPeriod: 90 * 24 * time.Hour,
	}
}

// Validate reports configuration the operator cannot work with.
func (c Config) Validate() error {
	if c.OperatorNamespace == "" {
		return fmt.Errorf("operator namespace must be set")
	}
	for _, cidr := range c.ClusterCIDRs {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return fmt.Errorf("cluster CIDR %q: %w", cidr, err)
		}
	}
	if c.CertificateLifetime < time.Hour {
		return fmt.Errorf("certificate lifetime %s is shorter than an hour", c.CertificateLifetime)
	}
	if c.CASecretName == "" || c.ClusterDomain == "" || c.DNSNamespace == "" {
		return fmt.Errorf("CA secret name, cluster domain and DNS namespace must be set")
	}
	if len(c.DNSPodLabels) == 0 {
		return fmt.Errorf("DNS pod labels must be set: without them every pod of the DNS namespace would be allowed")
	}
	if len(c.MonitoringNamespaces) > 0 && len(c.MonitoringPorts) == 0 {
		return fmt.Errorf("monitoring namespaces need monitoring ports: scrapers would reach every port")
	}
	for _, r := range c.ExtraRoles {
		// cluster-admin in a namespace is every verb on every resource there; admin and edit let a tenant impersonate
		// its ServiceAccounts and grow with every CRD installed (aggregate-to-edit); system: roles are the control
		// plane's.
		if slices.Contains([]string{"cluster-admin", "admin", "edit"}, r) || strings.HasPrefix(r, "system:") {
			return fmt.Errorf("extra role %q: cluster-admin, admin, edit and system: ClusterRoles cannot be given to tenants", r)
		}
	}
	return nil
}

// OverrideResourceList parses "cpu=4,memory=8Gi" over a copy of defaults, key by key (for flags: naming the one
// resource to change keeps every other bounded, as a Tenant's spec does over the result).
func OverrideResourceList(defaults corev1.ResourceList, s string) (corev1.ResourceList, error) {
	list := corev1.ResourceList{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		name, value, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not name=quantity", pair)
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		list[corev1.ResourceName(strings.TrimSpace(name))] = q
	}
	return overlay(defaults, list), nil
}

// ParsePorts parses "metrics,9090": TCP port numbers, or container port names (as a NetworkPolicy takes them).
func ParsePorts(s string) ([]intstr.IntOrString, error) {
	var ports []intstr.IntOrString
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if n, err := strconv.ParseInt(p, 10, 32); err == nil {
			if n < 1 || n > 65535 {
				return nil, fmt.Errorf("port %d is not between 1 and 65535", n)
			}
			ports = append(ports, intstr.FromInt32(int32(n)))
			continue
		}
		if errs := validation.IsValidPortName(p); len(errs) > 0 {
			return nil, fmt.Errorf("%q is neither a port number nor a port name: %s", p, strings.Join(errs, "; "))
		}
		ports = append(ports, intstr.FromString(p))
	}
	return ports, nil
}

// ParseLabels parses "k8s-app=kube-dns,tier=dns" into labels, each key and value a valid one.
func ParseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", pair)
		}
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
			return nil, fmt.Errorf("label %s=%s: %s", k, v, strings.Join(errs, "; "))
		}
		labels[k] = v
	}
	return labels, nil
}
