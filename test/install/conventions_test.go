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

package install

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestFullValuesSetEveryValue: ci/full-values.yaml sets every value of values.yaml (down to the keys the schema
// lists), so that TestHelmLint and TestHelmTemplate render every value the chart has.
func TestFullValuesSetEveryValue(t *testing.T) {
	var defaults, full, schema map[string]any
	for path, into := range map[string]*map[string]any{
		"values.yaml": &defaults, "ci/full-values.yaml": &full, "values.schema.json": &schema,
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, chartDir, path))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var missing []string
	var walk func(prefix string, values, set, schema map[string]any)
	walk = func(prefix string, values, set, schema map[string]any) {
		properties, _ := schema["properties"].(map[string]any)
		for key, value := range values {
			path := prefix + key
			got, ok := set[key]
			if !ok {
				missing = append(missing, path)
				continue
			}
			sub, _ := properties[key].(map[string]any)
			valueMap, isMap := value.(map[string]any)
			setMap, _ := got.(map[string]any)
			// Objects the schema describes key by key are walked; free-form maps (labels, annotations) are values.
			if _, described := sub["properties"]; isMap && described {
				walk(path+".", valueMap, setMap, sub)
			}
		}
	}
	walk("", defaults, full, schema)
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("ci/full-values.yaml does not set %v", missing)
	}
}

// TestHelmChartConventions: the values a platform team expects of a chart (those of Capsule's and cert-manager's)
// do what they say, with ci/full-values.yaml.
func TestHelmChartConventions(t *testing.T) {
	full := filepath.Join(repoRoot, chartDir, "ci", "full-values.yaml")
	objs := decode(t, renderChart(t, "--values", full))
	d := operatorDeployment(t, objs)

	t.Run("names and image", func(t *testing.T) {
		if d.Name != "platform-tenancy" || d.Labels["app.kubernetes.io/name"] != "tenancy" {
			t.Errorf("fullnameOverride/nameOverride: Deployment %s labelled %v", d.Name, d.Labels)
		}
		if want := "registry.example.com/platform/tenant-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"; d.Spec.Template.Spec.Containers[0].Image != want {
			t.Errorf("image %s, want %s (by digest)", d.Spec.Template.Spec.Containers[0].Image, want)
		}
	})
	t.Run("pod", func(t *testing.T) { checkPodValues(t, d) })
	t.Run("manager flags and environment", func(t *testing.T) { checkManagerValues(t, d.Spec.Template.Spec.Containers[0]) })
	t.Run("service account", func(t *testing.T) {
		checkServiceAccount(t, objs, "tenancy-manager", true)
		if sa := d.Spec.Template.Spec.ServiceAccountName; sa != "tenancy-manager" {
			t.Errorf("the operator runs as %s", sa)
		}
		existing := decode(t, renderChart(t, "--set", "serviceAccount.create=false", "--set", "serviceAccount.name=platform-operator"))
		checkServiceAccount(t, existing, "platform-operator", false)
		if _, err := helm(t, "template", releaseName, chartDir, "--set", "serviceAccount.create=false"); err == nil ||
			!strings.Contains(err.Error(), "serviceAccount.name is required") {
			t.Errorf("serviceAccount.create=false without a name: %v", err)
		}
	})
	t.Run("ServiceMonitor", func(t *testing.T) { checkServiceMonitor(t, objs, d.Name) })
	t.Run("metrics TLS", func(t *testing.T) { checkMetricsTLS(t, objs, d) })
	t.Run("CRD annotations", func(t *testing.T) {
		for file, want := range map[string]map[string]string{
			full: {"argocd.argoproj.io/sync-options": "Prune=false,ServerSideApply=true", "example.com/owner": "platform"},
			"":   {"argocd.argoproj.io/sync-options": "Prune=false", "helm.sh/resource-policy": "keep"},
		} {
			crd := find(decode(t, renderChart(t, valuesArgs(file)...)), "CustomResourceDefinition")[0]
			for k, v := range want {
				if crd.GetAnnotations()[k] != v {
					t.Errorf("values %q: CRD annotation %s = %q, want %q", filepath.Base(file), k, crd.GetAnnotations()[k], v)
				}
			}
		}
	})
	t.Run("alerts", func(t *testing.T) { checkAlerts(t, objs) })
	t.Run("extra roles", func(t *testing.T) {
		if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--extra-roles=cert-manager-edit,servicemonitors-edit") {
			t.Errorf("no --extra-roles in %v", d.Spec.Template.Spec.Containers[0].Args)
		}
		var binds [][]string
		for _, r := range find(objs, "ClusterRole") {
			rules, _, _ := unstructured.NestedSlice(r.Object, "rules")
			for _, rule := range rules {
				verbs, _, _ := unstructured.NestedStringSlice(rule.(map[string]any), "verbs")
				names, _, _ := unstructured.NestedStringSlice(rule.(map[string]any), "resourceNames")
				if slices.Contains(verbs, "bind") {
					binds = append(binds, names)
				}
			}
		}
		// The manager role's bind on the three tenant roles, and the extra roles', each by name.
		if len(binds) != 2 || !slices.ContainsFunc(binds, func(n []string) bool {
			return slices.Equal(n, []string{"cert-manager-edit", "servicemonitors-edit"})
		}) {
			t.Errorf("bind rules %v", binds)
		}
	})
	t.Run("topologySpread from older charts", func(t *testing.T) {
		if d := operatorDeployment(t, decode(t, renderChart(t, "--set", "topologySpread.enabled=false"))); len(d.Spec.Template.Spec.TopologySpreadConstraints) != 0 {
			t.Error("topologySpread.enabled=false no longer turns spreading off")
		}
		if _, err := helm(t, "template", releaseName, chartDir, "--set", "topologySpread.topologyKey=topology.kubernetes.io/zone"); err == nil ||
			!strings.Contains(err.Error(), "replaced by topologySpreadConstraints") {
			t.Errorf("an old topologySpread.topologyKey was not refused: %v", err)
		}
	})
}

// checkPodValues: podSecurityContext, podLabels, priorityClassName, affinity and topologySpreadConstraints (each
// selecting the operator's pods) reach the pod template.
func checkPodValues(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template.Spec
	if pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser != 65532 {
		t.Errorf("podSecurityContext not applied: %+v", pod.SecurityContext)
	}
	if d.Spec.Template.Labels["example.com/cost-centre"] != "platform" {
		t.Errorf("podLabels not applied: %v", d.Spec.Template.Labels)
	}
	if pod.PriorityClassName != "system-cluster-critical" || pod.Affinity == nil || pod.Affinity.NodeAffinity == nil {
		t.Errorf("priorityClassName %q, affinity %+v", pod.PriorityClassName, pod.Affinity)
	}
	for _, c := range pod.TopologySpreadConstraints {
		if c.LabelSelector == nil || !maps.Equal(c.LabelSelector.MatchLabels, d.Spec.Selector.MatchLabels) {
			t.Errorf("spread constraint %s does not select the operator's pods: %+v", c.TopologyKey, c.LabelSelector)
		}
	}
	if len(pod.TopologySpreadConstraints) != 2 || pod.TopologySpreadConstraints[0].TopologyKey != "topology.kubernetes.io/zone" {
		t.Errorf("topologySpreadConstraints %+v", pod.TopologySpreadConstraints)
	}
}

// checkManagerValues: leaderElection, metrics.tls, the monitoring and DNS facts, extraArgs (last, so that they win)
// and extraEnv reach the manager.
func checkManagerValues(t *testing.T, manager corev1.Container) {
	t.Helper()
	args := strings.Join(manager.Args, " ")
	for _, want := range []string{"--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s",
		"--leader-elect-retry-period=3s", "--metrics-cert-dir=/etc/tenant-operator/metrics-tls",
		"--monitoring-namespaces=monitoring", "--monitoring-ports=metrics,9090",
		"--dns-pod-labels=app.kubernetes.io/name=node-local-dns,k8s-app=kube-dns"} {
		if !slices.Contains(manager.Args, want) {
			t.Errorf("no %s in %s", want, args)
		}
	}
	if manager.Args[len(manager.Args)-1] != "--enable-http2=false" {
		t.Errorf("extraArgs do not come last (so that they win): %s", args)
	}
	if !slices.ContainsFunc(manager.Env, func(e corev1.EnvVar) bool { return e.Name == "HTTPS_PROXY" }) {
		t.Errorf("extraEnv not applied: %+v", manager.Env)
	}
}

// checkServiceAccount: the operator's ServiceAccount is rendered (or not), every binding of the operator's roles
// names it, and so do the guardrails' exemptions: no binding or policy names another.
func checkServiceAccount(t *testing.T, objs []*unstructured.Unstructured, name string, created bool) {
	t.Helper()
	operatorAccounts := 0
	for _, sa := range find(objs, "ServiceAccount") {
		if !strings.HasSuffix(sa.GetName(), "-metrics-scraper") {
			operatorAccounts++
			if sa.GetName() != name {
				t.Errorf("ServiceAccount %s rendered, want %s", sa.GetName(), name)
			}
		}
	}
	if (operatorAccounts == 1) != created {
		t.Errorf("%d operator ServiceAccounts rendered, created=%v", operatorAccounts, created)
	}
	bindings := 0
	for _, b := range append(find(objs, "ClusterRoleBinding"), find(objs, "RoleBinding")...) {
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		for _, s := range subjects {
			s, _ := s.(map[string]any)
			if s["kind"] != "ServiceAccount" || s["namespace"] != releaseNamespace || strings.HasSuffix(fmt.Sprint(s["name"]), "-metrics-scraper") {
				continue
			}
			bindings++
			if s["name"] != name {
				t.Errorf("%s %s binds ServiceAccount %v, want %s", b.GetKind(), b.GetName(), s["name"], name)
			}
		}
	}
	if bindings < 3 {
		t.Errorf("%d bindings of the operator's ServiceAccount (manager, leader election, metrics auth)", bindings)
	}
	user := regexp.MustCompile(`system:serviceaccount:` + releaseNamespace + `:([a-z0-9.-]+)`)
	exemptions := 0
	for _, kind := range []string{"ValidatingAdmissionPolicy", "MutatingAdmissionPolicy"} {
		for _, p := range find(objs, kind) {
			spec, _ := json.Marshal(p.Object["spec"])
			for _, m := range user.FindAllStringSubmatch(string(spec), -1) {
				exemptions++
				if m[1] != name {
					t.Errorf("%s %s exempts %s, want %s", kind, p.GetName(), m[0], name)
				}
			}
		}
	}
	if exemptions == 0 {
		t.Error("no guardrail exempts the operator's ServiceAccount")
	}
}

// checkServiceMonitor: the ServiceMonitor selects the metrics Service (it did not: the Service lacked the component
// label) and authenticates with a token of the release's own scraper account, bound to the metrics-reader role (not
// the deprecated bearerTokenFile).
func checkServiceMonitor(t *testing.T, objs []*unstructured.Unstructured, fullname string) {
	t.Helper()
	sm, endpoint := serviceMonitorEndpoint(t, objs)
	if b, _ := json.Marshal(sm.Object); strings.Contains(string(b), "bearerTokenFile") {
		t.Error("the ServiceMonitor uses the deprecated bearerTokenFile")
	}
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	service := metricsService(t, objs, fullname)
	for k, v := range selector {
		if service.GetLabels()[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s; the metrics Service is labelled %v", k, v, service.GetLabels())
		}
	}
	tokenSecret, _, _ := unstructured.NestedString(endpoint, "authorization", "credentials", "name")
	var scraper string
	for _, s := range find(objs, "Secret") {
		if s.GetName() == tokenSecret && s.Object["type"] == string(corev1.SecretTypeServiceAccountToken) {
			scraper = s.GetAnnotations()[corev1.ServiceAccountNameKey]
		}
	}
	if scraper == "" {
		t.Fatalf("the ServiceMonitor's token Secret %q is not a ServiceAccount token the chart renders", tokenSecret)
	}
	for _, b := range find(objs, "ClusterRoleBinding") {
		role, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		for _, s := range subjects {
			if s, _ := s.(map[string]any); s["name"] == scraper && role == fullname+"-metrics-reader" {
				return
			}
		}
	}
	t.Errorf("the scraper account %q is not bound to the metrics-reader ClusterRole", scraper)
}

// checkMetricsTLS: the ServiceMonitor verifies, with its CA and for the Service's name, the serving certificate
// cert-manager issues into the Secret the Deployment mounts.
func checkMetricsTLS(t *testing.T, objs []*unstructured.Unstructured, d *appsv1.Deployment) {
	t.Helper()
	_, endpoint := serviceMonitorEndpoint(t, objs)
	caSecret, _, _ := unstructured.NestedString(endpoint, "tlsConfig", "ca", "secret", "name")
	serverName, _, _ := unstructured.NestedString(endpoint, "tlsConfig", "serverName")
	if want := metricsService(t, objs, d.Name).GetName() + "." + releaseNamespace + ".svc"; caSecret != "tenancy-metrics-tls" || serverName != want {
		t.Errorf("tlsConfig verifies with CA from %q for %q, want tenancy-metrics-tls for %s", caSecret, serverName, want)
	}
	if skip, _, _ := unstructured.NestedBool(endpoint, "tlsConfig", "insecureSkipVerify"); skip {
		t.Error("insecureSkipVerify with a serving certificate")
	}
	certificates := find(objs, "Certificate")
	if len(certificates) != 1 {
		t.Fatalf("%d cert-manager Certificates", len(certificates))
	}
	secretName, _, _ := unstructured.NestedString(certificates[0].Object, "spec", "secretName")
	dnsNames, _, _ := unstructured.NestedStringSlice(certificates[0].Object, "spec", "dnsNames")
	if secretName != caSecret || !slices.Contains(dnsNames, serverName) {
		t.Errorf("the Certificate writes %s for %v", secretName, dnsNames)
	}
	if !slices.ContainsFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
		return v.Secret != nil && v.Secret.SecretName == caSecret
	}) {
		t.Errorf("the Deployment does not mount %s", caSecret)
	}
}

func serviceMonitorEndpoint(t *testing.T, objs []*unstructured.Unstructured) (*unstructured.Unstructured, map[string]any) {
	t.Helper()
	monitors := find(objs, "ServiceMonitor")
	if len(monitors) != 1 {
		t.Fatalf("%d ServiceMonitors", len(monitors))
	}
	endpoints, _, _ := unstructured.NestedSlice(monitors[0].Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("%d ServiceMonitor endpoints", len(endpoints))
	}
	endpoint, _ := endpoints[0].(map[string]any)
	return monitors[0], endpoint
}

func metricsService(t *testing.T, objs []*unstructured.Unstructured, fullname string) *unstructured.Unstructured {
	t.Helper()
	for _, s := range find(objs, "Service") {
		if s.GetName() == fullname+"-metrics" {
			return s
		}
	}
	t.Fatal("no metrics Service")
	return nil
}

// checkAlerts: every alert has a runbook on the configured base with an anchor that docs/runbooks.md has; the
// operator's absence is watched on the job of its scrapes; the certificate alerts are relative to the lifetime.
func checkAlerts(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	runbooks, err := os.ReadFile(filepath.Join(repoRoot, "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for file, base := range map[string]string{
		"":                 "https://github.com/tenant-operator/tenant-operator/blob/main/docs/runbooks.md",
		"full-values.yaml": "https://wiki.example.com/runbooks/tenant-operator",
	} {
		rendered := objs
		if file == "" {
			rendered = decode(t, renderChart(t, "--set", "prometheusRule.enabled=true"))
		}
		rules := find(rendered, "PrometheusRule")
		if len(rules) != 1 {
			t.Fatalf("%d PrometheusRules", len(rules))
		}
		groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
		alerts := map[string]map[string]any{}
		for _, g := range groups {
			rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
			for _, r := range rs {
				r := r.(map[string]any)
				alerts[fmt.Sprint(r["alert"])] = r
			}
		}
		for name, r := range alerts {
			url, _, _ := unstructured.NestedString(r, "annotations", "runbook_url")
			anchor := strings.ToLower(name)
			if url != base+"#"+anchor {
				t.Errorf("%s: alert %s runbook_url %q, want %s#%s", file, name, url, base, anchor)
			}
			if !regexp.MustCompile(`(?m)^## ` + name + `$`).Match(runbooks) {
				t.Errorf("docs/runbooks.md has no section ## %s", name)
			}
		}
		job := `job="tenant-operator-metrics"`
		if file != "" {
			job = `job="tenancy-metrics"`
		}
		if expr := fmt.Sprint(alerts["TenantOperatorAbsent"]["expr"]); !strings.Contains(expr, job) || !strings.Contains(expr, `namespace="`+releaseNamespace+`"`) {
			t.Errorf("%s: TenantOperatorAbsent %q does not watch %s", file, expr, job)
		}
		for _, name := range []string{"TenantCertificateExpiring", "TenantCertificateRenewalOverdue"} {
			if expr := fmt.Sprint(alerts[name]["expr"]); !strings.Contains(expr, "tenant_operator_certificate_renewal_timestamp_seconds") {
				t.Errorf("%s: %s is not relative to the renewal time: %s", file, name, expr)
			}
		}
	}
}
