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
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// TestHelmUpgradeUpgradesTheCRD runs real helm install, upgrade and uninstall: an upgrade brings the CRD's new
// fields (Helm never upgrades a chart's crds/ directory, so ours are templates), and uninstalling keeps the CRD and
// with it every Tenant.
func TestHelmUpgradeUpgradesTheCRD(t *testing.T) {
	ctx := withTimeout(t, 6*time.Minute) // an outer limit: every step waits on a condition
	cluster, k8s, release := helmCluster(ctx, t, localcluster.Options{WithoutControllerManager: true})
	crdHas := func(field string) bool {
		t.Helper()
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: "tenants.tenancy.tenant-operator.dev"}, crd); err != nil {
			t.Fatal(err)
		}
		_, ok := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties[field]
		return ok
	}

	release("install", releaseName, previousChart(t), "--create-namespace")
	if crdHas("preventDeletion") {
		t.Fatal("the previous chart's CRD already has spec.preventDeletion")
	}
	release("upgrade", releaseName, chartDir)
	if !crdHas("preventDeletion") {
		t.Fatal("helm upgrade did not upgrade the CRD: spec.preventDeletion is missing")
	}
	if _, err := cluster.Kubectl(ctx, []byte("apiVersion: tenancy.tenant-operator.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: keeper\nspec:\n  preventDeletion: true\n"),
		"apply", "--server-side", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	release("uninstall", releaseName)
	if !crdHas("preventDeletion") {
		t.Fatal("the CRD changed on uninstall")
	}
	tenant := &tenancyv1alpha1.Tenant{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "keeper"}, tenant); err != nil || !tenant.Spec.PreventDeletion {
		t.Errorf("the Tenant did not survive helm uninstall intact: %v %+v", err, tenant.Spec)
	}
}

// TestHelmUpgradeFromTheReleasedChart: an upgrade from the chart as released (test/fixtures/charts) to the chart of
// the checkout, with its default values, keeps every Tenant as it was (same object, generation, spec and metadata,
// read through the new CRD's schema, which would prune a field it lost) and upgrades the CRD and the operator's
// Deployment in place (a changed selector, which is immutable, would fail it); the tenant roles, aggregated since,
// get their rules back from the control plane.
func TestHelmUpgradeFromTheReleasedChart(t *testing.T) {
	released, err := filepath.Glob(filepath.Join(repoRoot, "test", "fixtures", "charts", "tenant-operator-*.tgz"))
	if err != nil || len(released) == 0 {
		t.Fatalf("no released chart under test/fixtures/charts: %v", err)
	}
	ctx := withTimeout(t, 6*time.Minute)
	cluster, k8s, release := helmCluster(ctx, t, localcluster.Options{})
	tenants := func() map[string]string {
		t.Helper()
		var list tenancyv1alpha1.TenantList
		if err := k8s.List(ctx, &list); err != nil {
			t.Fatal(err)
		}
		kept := map[string]string{}
		for _, tn := range list.Items {
			spec, _ := json.Marshal(tn.Spec)
			kept[tn.Name] = fmt.Sprintf("uid=%s generation=%d labels=%v annotations=%v spec=%s", tn.UID, tn.Generation, tn.Labels, tn.Annotations, spec)
		}
		return kept
	}

	for _, chart := range released {
		t.Run(filepath.Base(chart), func(t *testing.T) {
			release("install", releaseName, chart, "--create-namespace")
			// The samples as that release had them: today's use fields its CRD does not know.
			samples := strings.TrimSuffix(chart, ".tgz")
			samples = filepath.Join(filepath.Dir(chart), "samples-"+strings.TrimPrefix(filepath.Base(samples), "tenant-operator-")+".yaml")
			if _, err := cluster.Kubectl(ctx, nil, "apply", "--server-side", "-f", samples); err != nil {
				t.Fatal(err)
			}
			before := tenants()
			if len(before) < 3 {
				t.Fatalf("%d sample Tenants", len(before))
			}
			release("upgrade", releaseName, chartDir)
			if after := tenants(); !reflect.DeepEqual(after, before) {
				t.Errorf("the upgrade changed Tenants:\nbefore %v\nafter  %v", before, after)
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := k8s.Get(ctx, client.ObjectKey{Name: "tenants.tenancy.tenant-operator.dev"}, crd); err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(crd.Spec.Versions[0].AdditionalPrinterColumns, func(c apiextensionsv1.CustomResourceColumnDefinition) bool {
				return c.Name == "Reason"
			}) {
				t.Error("the upgrade did not upgrade the CRD (no Reason column)")
			}
			if err := cluster.WaitForAggregatedRoles(ctx); err != nil {
				t.Error(err)
			}
			admin := &rbacv1.ClusterRole{}
			if err := k8s.Get(ctx, client.ObjectKey{Name: "tenant-operator-tenant-admin"}, admin); err != nil || admin.AggregationRule == nil || len(admin.Rules) < 5 {
				t.Errorf("the tenant-admin role after the upgrade: %v, aggregated %v, %d rules", err, admin.AggregationRule != nil, len(admin.Rules))
			}
			release("uninstall", releaseName)
			if err := k8s.DeleteAllOf(ctx, &tenancyv1alpha1.Tenant{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// helmCluster starts a local control plane for helm to install into, and returns it, a client, and a function
// running helm against it in the release namespace (failing the test when helm fails).
func helmCluster(ctx context.Context, t *testing.T, opts localcluster.Options) (*localcluster.Cluster, client.Client, func(args ...string)) {
	t.Helper()
	cluster, err := localcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	k8s, err := client.New(cluster.Config, client.Options{Scheme: scheme()})
	if err != nil {
		t.Fatal(err)
	}
	release := func(args ...string) {
		t.Helper()
		if out, err := helm(t, append(args, "--namespace", releaseNamespace, "--kubeconfig", cluster.KubeconfigPath)...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	return cluster, k8s, release
}

// previousChart is a copy of the chart as an earlier release would have it: its CRD without spec.preventDeletion.
func previousChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tenant-operator")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot, chartDir))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "templates", "crds.yaml")
	crds, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	dropIndent := -1
	for _, line := range strings.Split(string(crds), "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if dropIndent >= 0 && indent > dropIndent {
			continue
		}
		dropIndent = -1
		if strings.TrimSpace(line) == "preventDeletion:" {
			dropIndent = indent
			continue
		}
		kept = append(kept, line)
	}
	if len(kept) == len(strings.Split(string(crds), "\n")) {
		t.Fatal("spec.preventDeletion not found in the chart's CRD")
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
