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
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// valueFiles are the chart's default values (none) and every file under ci/, as chart-testing uses them.
func valueFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, chartDir, "ci", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no value files under %s/ci: %v", chartDir, err)
	}
	return append([]string{""}, files...)
}

func valuesArgs(file string) []string {
	if file == "" {
		return nil
	}
	return []string{"--values", file}
}

func TestHelmLint(t *testing.T) {
	for _, f := range valueFiles(t) {
		t.Run("values="+filepath.Base(f), func(t *testing.T) {
			if out, err := helm(t, append([]string{"lint", "--strict", chartDir}, valuesArgs(f)...)...); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}

// TestHelmTemplate renders the chart with each value file and checks what an admin relies on.
func TestHelmTemplate(t *testing.T) {
	want := map[string]struct {
		replicas                     int32
		crd, pdb, spread, monitoring bool
		goGC                         string
		// imagePullPolicy is the kind of the imagePullPolicy guardrail, "" for none.
		imagePullPolicy string
		// priorityClasses is the priority-class policy's list of allowed PriorityClasses.
		priorityClasses string
	}{
		"": {replicas: 2, crd: true, pdb: true, spread: true, imagePullPolicy: "MutatingAdmissionPolicy", priorityClasses: "[]"},
		"full-values.yaml": {replicas: 3, crd: true, pdb: true, spread: true, monitoring: true, goGC: "50",
			priorityClasses: `["tenant-high","tenant-low"]`},
		"minimal-values.yaml": {replicas: 1, imagePullPolicy: "ValidatingAdmissionPolicy", priorityClasses: "[]"},
	}
	for _, f := range valueFiles(t) {
		w, ok := want[filepath.Base(f)]
		if f == "" {
			w, ok = want[""]
		}
		if !ok {
			t.Errorf("no expectations for %s: add them here", f)
			continue
		}
		t.Run("values="+filepath.Base(f), func(t *testing.T) {
			objs := decode(t, renderChart(t, valuesArgs(f)...))
			d := operatorDeployment(t, objs)
			if *d.Spec.Replicas != w.replicas {
				t.Errorf("replicas = %d, want %d", *d.Spec.Replicas, w.replicas)
			}
			checkHardened(t, d.Spec.Template.Spec)
			goGC := ""
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.Name == "GOGC" {
					goGC = e.Value
				}
			}
			if goGC != w.goGC {
				t.Errorf("GOGC = %q, want %q", goGC, w.goGC)
			}
			if got := len(d.Spec.Template.Spec.TopologySpreadConstraints) > 0; got != w.spread {
				t.Errorf("topology spread = %v, want %v", got, w.spread)
			}
			for kind, present := range map[string]bool{
				"CustomResourceDefinition": w.crd, "PodDisruptionBudget": w.pdb,
				"ServiceMonitor": w.monitoring, "PrometheusRule": w.monitoring,
			} {
				if got := len(find(objs, kind)) > 0; got != present {
					t.Errorf("%s rendered = %v, want %v", kind, got, present)
				}
			}
			gotKind := ""
			for _, kind := range []string{"ValidatingAdmissionPolicy", "MutatingAdmissionPolicy"} {
				if hasPolicy(objs, kind, "tenant-operator-image-pull-policy") {
					gotKind += kind
				}
			}
			if gotKind != w.imagePullPolicy {
				t.Errorf("imagePullPolicy guardrail = %q, want %q", gotKind, w.imagePullPolicy)
			}
			checkAllowedPriorityClasses(t, objs, w.priorityClasses)
			for _, o := range objs {
				if namespaced(o) && o.GetNamespace() != releaseNamespace {
					t.Errorf("%s %s is in namespace %q, not the release's", o.GetKind(), o.GetName(), o.GetNamespace())
				}
			}
			if w.crd {
				annotations := find(objs, "CustomResourceDefinition")[0].GetAnnotations()
				if keep := annotations["helm.sh/resource-policy"] == "keep"; keep != (filepath.Base(f) != "full-values.yaml") {
					t.Errorf("CRD resource policy annotation: %v", annotations)
				}
			}
		})
	}
}

// checkHardened: the operator's pod runs under the restricted profile with probes and resources.
func checkHardened(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", spec.SecurityContext)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil ||
			!*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("container %s security context %+v", c.Name, sc)
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Errorf("container %s has no liveness or readiness probe", c.Name)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("container %s has no memory request or limit", c.Name)
		}
	}
}

// checkAllowedPriorityClasses: the priority-class policy allows the PriorityClasses the values list, as a CEL list.
func checkAllowedPriorityClasses(t *testing.T, objs []*unstructured.Unstructured, want string) {
	t.Helper()
	for _, p := range find(objs, "ValidatingAdmissionPolicy") {
		if p.GetName() != "tenant-operator-priority-class" {
			continue
		}
		variables, _, _ := unstructured.NestedSlice(p.Object, "spec", "variables")
		for _, v := range variables {
			if v, _ := v.(map[string]any); v["name"] == "allowedPriorityClasses" {
				if v["expression"] != want {
					t.Errorf("allowedPriorityClasses = %v, want %s", v["expression"], want)
				}
				return
			}
		}
	}
	t.Error("no priority-class policy with allowedPriorityClasses rendered")
}

func hasPolicy(objs []*unstructured.Unstructured, kind, name string) bool {
	for _, o := range find(objs, kind) {
		if o.GetName() == name {
			return true
		}
	}
	return false
}

func namespaced(o *unstructured.Unstructured) bool {
	switch o.GetKind() {
	case "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "Namespace":
		return false
	}
	return true
}

// TestHelmValuesAreValidated: values.schema.json refuses mistakes before anything reaches the cluster.
func TestHelmValuesAreValidated(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"replicaCount=0", "/replicaCount"},
		{"manager.kubeApiQPS=10", "kubeApiQPS"},
		{"tenants.certificateLifetime=90days", "/tenants/certificateLifetime"},
		{"tenants.defaultQuota.cpu=lots", "/tenants/defaultQuota/cpu"},
		{"image.pullPolicy=Sometimes", "/image/pullPolicy"},
		{"metrics.port=80", "/metrics/port"},
		// Both reach the guardrails' CEL expressions, as the operator's ServiceAccount, inside a string literal.
		{"fullnameOverride=x' || true || '", "/fullnameOverride"},
		{"serviceAccount.name=op'", "/serviceAccount/name"},
		{"image.digest=latest", "/image/digest"},
		{"extraArgs[0]=oops", "/extraArgs/0"},
		{"tenants.extraRoles[0]=cluster-admin", "/tenants/extraRoles/0"},
		{"tenants.extraRoles[0]=system:node", "/tenants/extraRoles/0"},
		{"tenants.extraRoles[0]=edit", "/tenants/extraRoles/0"},
		{"serviceAccount.name=default", "/serviceAccount/name"},
		{"prometheusRule.operatorJob=a\"b", "/prometheusRule/operatorJob"},
		{"tenants.monitoringPorts[0]=not a port", "/tenants/monitoringPorts/0"},
	} {
		t.Run(tc.set, func(t *testing.T) {
			out, err := helm(t, "template", releaseName, chartDir, "--set", tc.set)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template --set %s: error %v, want one naming %s\n%s", tc.set, err, tc.want, out)
			}
		})
	}
	t.Run("cert-manager needs an issuer", func(t *testing.T) {
		_, err := helm(t, "template", releaseName, chartDir, "--set", "metrics.tls.secretName=metrics-tls", "--set", "metrics.tls.certManager.enabled=true")
		if err == nil || !strings.Contains(err.Error(), "issuerRef.name is required") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("ServiceMonitor binding needs a namespace", func(t *testing.T) {
		_, err := helm(t, "template", releaseName, chartDir, "--set", "metrics.serviceMonitor.enabled=true",
			"--set", "metrics.serviceMonitor.prometheusServiceAccount.name=prometheus")
		if err == nil || !strings.Contains(err.Error(), "prometheusServiceAccount.namespace is required") {
			t.Errorf("error %v", err)
		}
	})
}
