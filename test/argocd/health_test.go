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

package argocd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// healthTests is Argo CD's health_test.yaml format: each input object and the health it must get.
type healthTests struct {
	Tests []struct {
		HealthStatus Status `json:"healthStatus"`
		InputPath    string `json:"inputPath"`
	} `json:"tests"`
}

func TestHealthCheck(t *testing.T) {
	root, err := localcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script, err := LoadScript(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(filepath.Join(root, filepath.FromSlash(ScriptPath)))
	raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases healthTests
	if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range cases.Tests {
		t.Run(strings.TrimSuffix(filepath.Base(tc.InputPath), ".yaml"), func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := yaml.Unmarshal(input, &obj); err != nil {
				t.Fatal(err)
			}
			got, err := Health(script, obj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.HealthStatus {
				t.Errorf("health = %+v, want %+v", got, tc.HealthStatus)
			}
			covered[got.Status] = true
		})
	}
	for _, status := range []string{"Healthy", "Progressing", "Degraded"} {
		if !covered[status] {
			t.Errorf("no test case gets %s", status)
		}
	}
}

// TestHealthCheckRejectsBadScripts shows Health reports what Argo CD would refuse, so a passing test means something.
func TestHealthCheckRejectsBadScripts(t *testing.T) {
	for name, script := range map[string]string{
		"syntax error":   "return {",
		"not a table":    `return "Healthy"`,
		"invalid status": `return {status = "Fine"}`,
		"endless loop":   "while true do end",
	} {
		if _, err := Health(script, map[string]any{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestComponentMergesTheCheckIntoArgoCDConfig builds config/argocd into an Argo CD install's argocd-cm, as docs/operations.md
// says to, and checks the key Argo CD reads holds the tested script.
func TestComponentMergesTheCheckIntoArgoCDConfig(t *testing.T) {
	kubectl, err := localcluster.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	root, err := localcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Argo CD's install.yaml leaves namespaces to the kustomization that installs it.
	write("argocd-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  url: https://argocd.example.com\n")
	component, err := filepath.Rel(dir, filepath.Join(root, "config", "argocd"))
	if err != nil {
		t.Fatal(err)
	}
	write("kustomization.yaml", "namespace: argocd\nresources: [argocd-cm.yaml]\ncomponents: ["+component+"]\n")
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v: %s", err, out)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatal(err)
	}
	script, err := LoadScript(root)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "argocd-cm" || cm.Namespace != "argocd" || cm.Data["url"] == "" {
		t.Errorf("argocd-cm lost its name or existing data: %s", out)
	}
	if got := cm.Data["resource.customizations.health.tenancy.tenant-operator.dev_Tenant"]; got != script {
		t.Errorf("argocd-cm does not hold the health check under Argo CD's key:\n%s", out)
	}
}
