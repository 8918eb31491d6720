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
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
	"github.com/tenant-operator/tenant-operator/test/argocd"
)

// TestKustomizeInstall: config/default, built by kubectl's kustomize, is a complete install.
func TestKustomizeInstall(t *testing.T) {
	ctx := withTimeout(t, 5*time.Minute)
	kubectl, err := localcluster.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	manifests, err := runCommand(kubectl, "kustomize", filepath.Join(repoRoot, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	inst := install(ctx, t, manifests)
	if inst.deployment.Namespace != localcluster.OperatorNamespace {
		t.Errorf("config/default installs into %s", inst.deployment.Namespace)
	}
	inst.applySamples(ctx, t)
}

// TestHelmInstall: the chart with its default values (but the audit interval) is a complete install; on it, a Tenant
// managed the way Argo CD manages it stays untouched, the alerts' metrics exist and the alerts fire.
func TestHelmInstall(t *testing.T) {
	// An outer limit only: the install waits on conditions; a whole install under -race on 2 cores can take minutes.
	ctx := withTimeout(t, 6*time.Minute)
	// An audit interval of a minute: each tenant is first audited 30 to 60 seconds after its creation, so that the
	// audit's metric, which an alert uses, is exported within the test.
	// The apiserver's audit webhook feeds the operator's audit sink, as the sender the chart binds.
	inst := install(ctx, t, renderChart(t, "--set", "tenants.extraRoles={"+extraRole+"}", "--set", "manager.auditInterval=1m",
		"--set", "metrics.auditSink.enabled=true", "--set-json", `metrics.auditSink.senders=[{"kind":"User","name":"`+auditSender+`"}]`))
	if sa := inst.deployment.Spec.Template.Spec.ServiceAccountName; sa != releaseName {
		t.Errorf("the chart's operator runs as %s", sa)
	}
	inst.applySamples(ctx, t)
	// What a Prometheus would scrape, from here to the end of "alerts fire".
	scrapes := startScraping(ctx, t, inst)
	t.Run("GitOps", func(t *testing.T) { testGitOps(ctx, t, inst) })
	t.Run("alert metrics", func(t *testing.T) { testAlertMetrics(ctx, t, inst) })
	t.Run("alerts fire", func(t *testing.T) { testAlertsFire(ctx, t, inst, scrapes) })
	t.Run("audit sink refuses forgers", func(t *testing.T) { testAuditSinkRefusesForgers(ctx, t, inst) })
	t.Run("extra roles", func(t *testing.T) { testExtraRoles(ctx, t, inst) })
}

// auditSender is who the local apiserver's audit webhook authenticates as.
const auditSender = "tenant-operator-audit-sender"

// extraRole is the ClusterRole TestHelmInstall's operator allows in spec.extraRoles (tenants.extraRoles).
const extraRole = "certificates-edit"

// testExtraRoles: the operator, under the chart's RBAC, can bind a ClusterRole of tenants.extraRoles (the chart
// grants it bind on that role by name), so a Tenant that asks for it gets Ready with the binding in its namespace.
func testExtraRoles(ctx context.Context, t *testing.T, inst *installation) {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: extraRole},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: []string{"create", "get"}}},
	}
	if err := inst.k8s.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	argoCDApply(ctx, t, inst, "apiVersion: tenancy.tenant-operator.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: extras\nspec:\n"+
		"  owners: [{kind: Group, name: extras-admins}]\n  extraRoles: [{clusterRole: "+extraRole+", to: [Owners]}]\n")
	inst.waitReady(ctx, t, "extras")
	binding := &rbacv1.RoleBinding{}
	if err := inst.k8s.Get(ctx, client.ObjectKey{Namespace: "extras", Name: "tenant-extra-" + extraRole}, binding); err != nil ||
		binding.RoleRef.Name != extraRole || len(binding.Subjects) != 1 || binding.Subjects[0].Name != "extras-admins" {
		t.Errorf("the extra role's binding: %v %+v", err, binding)
	}
}

const gitopsTenant = `apiVersion: tenancy.tenant-operator.dev/v1alpha1
kind: Tenant
metadata:
  name: gitops
  labels:
    app.kubernetes.io/instance: platform-tenants
  annotations:
    argocd.argoproj.io/tracking-id: platform-tenants:tenancy.tenant-operator.dev/Tenant:/gitops
spec:
  displayName: GitOps Inc.
  owners:
    - kind: Group
      name: gitops-admins
  secrets:
    - name: db
      keys: [password]
  backend:
    image: registry.example.com/gitops/api:1.0.0
    replicas: 2
    port: 8080
`

// argoCDApply applies a manifest the way Argo CD's server-side sync does.
func argoCDApply(ctx context.Context, t *testing.T, inst *installation, manifest string) {
	t.Helper()
	if _, err := inst.cluster.Kubectl(ctx, []byte(manifest), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

func testGitOps(ctx context.Context, t *testing.T, inst *installation) {
	argoCDApply(ctx, t, inst, gitopsTenant)
	tenant := inst.waitReady(ctx, t, "gitops")
	script, err := argocd.LoadScript(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if h := liveHealth(t, script, tenant); h.Status != "Healthy" {
		t.Errorf("Argo CD health of the Ready tenant: %+v", h)
	}
	resourceVersion := tenant.ResourceVersion
	events := tenantEvents(ctx, t, inst, "gitops")
	if events["Created"] == 0 {
		t.Errorf("no Created event: %v", events)
	}
	unchanged := func(when string) {
		t.Helper()
		if err := inst.k8s.Get(ctx, client.ObjectKey{Name: "gitops"}, tenant); err != nil {
			t.Fatal(err)
		}
		if tenant.ResourceVersion != resourceVersion {
			t.Errorf("%s: the Tenant changed (resourceVersion %s -> %s); status %+v", when, resourceVersion, tenant.ResourceVersion, tenant.Status)
		}
		if got := tenantEvents(ctx, t, inst, "gitops"); fmt.Sprint(got) != fmt.Sprint(events) {
			t.Errorf("%s: Events %v, want %v", when, got, events)
		}
	}

	// Argo CD syncs again with the same manifest: nothing changes.
	argoCDApply(ctx, t, inst, gitopsTenant)
	unchanged("after the same manifest was applied again")
	// The spec has one manager, Argo CD.
	for _, mf := range tenant.ManagedFields {
		if mf.Subresource == "" && mf.Manager != "argocd-controller" && strings.Contains(mf.FieldsV1.String(), `"f:spec"`) {
			t.Errorf("%s wrote the Tenant's spec: %s", mf.Manager, mf.FieldsV1.String())
		}
	}
	// Argo CD's tracking marks stay on the Tenant: generated objects carrying them would be pruned by Argo CD, or
	// shown as out of sync.
	checkNoGitOpsMarks(t, managedObjects(ctx, t, inst, "gitops"))

	// A restarted operator re-reconciles every tenant and rewrites nothing: no status churn, no timestamps. API
	// timestamps have a resolution of one second: a rewrite within the second of the last one would not show.
	time.Sleep(time.Second)
	inst.restart(ctx, t)
	strangerReadsSecrets(ctx, t, inst)
	scraper, err := inst.cluster.MetricsReaderToken(ctx, "scraper", releaseName+"-metrics-reader")
	if err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "every tenant reconciled after the restart", func(ctx context.Context) (bool, error) {
		m, err := inst.operator.Scrape(ctx, scraper)
		if err != nil {
			return false, nil
		}
		var tenants tenancyv1alpha1.TenantList
		if err := inst.k8s.List(ctx, &tenants); err != nil {
			return false, err
		}
		return m.Sum("controller_runtime_reconcile_total", `controller="tenant"`) >= float64(len(tenants.Items)) &&
			m.Sum("workqueue_depth", `name="tenant"`) == 0 && m.Sum("controller_runtime_active_workers", `controller="tenant"`) == 0, nil
	})
	unchanged("after the operator restarted")

	// Drift is repaired and reported, and the Tenant still does not change.
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "gitops", Name: render.PolicyDefaultDeny}}
	if err := inst.k8s.Delete(ctx, np); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "drift corrected", func(ctx context.Context) (bool, error) {
		return tenantEvents(ctx, t, inst, "gitops")["DriftCorrected"] > events["DriftCorrected"], nil
	})
	events["DriftCorrected"]++
	unchanged("after a drift correction")
}

func checkNoGitOpsMarks(t *testing.T, objs []client.Object) {
	t.Helper()
	for _, obj := range objs {
		if _, ok := obj.GetAnnotations()["argocd.argoproj.io/tracking-id"]; ok {
			t.Errorf("%T %s carries Argo CD's tracking annotation", obj, obj.GetName())
		}
		if _, ok := obj.GetLabels()["app.kubernetes.io/instance"]; ok {
			t.Errorf("%T %s carries app.kubernetes.io/instance", obj, obj.GetName())
		}
		if d, ok := obj.(*appsv1.Deployment); ok {
			if _, ok := d.Spec.Template.Labels["app.kubernetes.io/instance"]; ok {
				t.Errorf("the back-end's pods carry app.kubernetes.io/instance")
			}
		}
	}
}

// managedObjects lists everything the operator created for a tenant.
func managedObjects(ctx context.Context, t *testing.T, inst *installation, tenant string) []client.Object {
	t.Helper()
	labels := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: tenant}
	var objs []client.Object
	for _, list := range []client.ObjectList{
		&corev1.NamespaceList{}, &networkingv1.NetworkPolicyList{}, &rbacv1.RoleBindingList{}, &rbacv1.ClusterRoleList{},
		&rbacv1.ClusterRoleBindingList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &corev1.SecretList{},
		&corev1.ServiceAccountList{}, &corev1.ServiceList{}, &appsv1.DeploymentList{}, &policyv1.PodDisruptionBudgetList{},
	} {
		if err := inst.k8s.List(ctx, list, labels); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			objs = append(objs, item.(client.Object))
		}
	}
	if len(objs) < 12 {
		t.Fatalf("found only %d objects of tenant %s", len(objs), tenant)
	}
	return objs
}

// tenantEvents counts the Events about a tenant by reason, series included.
func tenantEvents(ctx context.Context, t *testing.T, inst *installation, name string) map[string]int32 {
	t.Helper()
	var evs eventsv1.EventList
	if err := inst.k8s.List(ctx, &evs); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int32{}
	for _, e := range evs.Items {
		if e.Regarding.Kind == "Tenant" && e.Regarding.Name == name {
			n := int32(1)
			if e.Series != nil {
				n = e.Series.Count
			}
			counts[e.Reason] += n
		}
	}
	return counts
}

func liveHealth(t *testing.T, script string, tenant *tenancyv1alpha1.Tenant) argocd.Status {
	t.Helper()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tenant)
	if err != nil {
		t.Fatal(err)
	}
	h, err := argocd.Health(script, obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// waitAlertMetrics waits until the operator exports every metric the alerts use, with the failed tenant and the
// stranger's refusal (from the apiserver's audit webhook, under the tenant whose namespace it was in) counted.
func waitAlertMetrics(ctx context.Context, t *testing.T, inst *installation, scraper string, used map[string]bool) localcluster.Metrics {
	t.Helper()
	var m localcluster.Metrics
	var err error
	eventually(ctx, t, "the alerts' metrics exported", func(ctx context.Context) (bool, error) {
		if m, err = inst.operator.Scrape(ctx, scraper); err != nil {
			return false, nil
		}
		for name := range used {
			if !m.Has(name) {
				return false, nil
			}
		}
		// The stranger's refusal, from the apiserver's audit webhook, under the tenant whose namespace it was in.
		strangerCounted := m.Sum("tenant_operator_denied_requests_total", `tenant="globex"`, `user="stranger@example.com"`, `denied_by="rbac"`) == 1
		return strangerCounted && m.Sum("tenant_operator_tenant_phase", `tenant="taken"`, `phase="Failed"`) == 1, nil
	})
	return m
}

// strangerReadsSecrets: someone no Tenant names reads globex's Secrets: refused by RBAC, which the audit sink counts.
func strangerReadsSecrets(ctx context.Context, t *testing.T, inst *installation) {
	t.Helper()
	stranger := rest.CopyConfig(inst.cluster.Config)
	stranger.Impersonate = rest.ImpersonationConfig{UserName: "stranger@example.com", Groups: []string{"system:authenticated"}}
	strangers, err := client.New(stranger, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := strangers.List(ctx, &corev1.SecretList{}, client.InNamespace("globex-prod")); !apierrors.IsForbidden(err) {
		t.Fatalf("a stranger lists globex's Secrets: %v, want forbidden", err)
	}
}

// testAlertMetrics: every metric the chart's PrometheusRule uses is exported, with the values the alerts expect for
// a tenant that cannot be provisioned.
func testAlertMetrics(ctx context.Context, t *testing.T, inst *installation) {
	// A tenant whose namespace is someone else's: Failed, and Degraded for Argo CD.
	if _, err := inst.cluster.Kubectl(ctx, nil, "create", "namespace", "taken"); err != nil {
		t.Fatal(err)
	}
	argoCDApply(ctx, t, inst, "apiVersion: tenancy.tenant-operator.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: taken\nspec: {}\n")
	tenant := &tenancyv1alpha1.Tenant{}
	defer func() {
		if t.Failed() {
			t.Logf("tenant taken: %+v", tenant)
		}
	}()
	eventually(ctx, t, "tenant taken Failed", func(ctx context.Context) (bool, error) {
		err := inst.k8s.Get(ctx, client.ObjectKey{Name: "taken"}, tenant)
		return err == nil && tenant.Status.Phase == tenancyv1alpha1.TenantPhaseFailed, client.IgnoreNotFound(err)
	})
	script, err := argocd.LoadScript(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if h := liveHealth(t, script, tenant); h.Status != "Degraded" {
		t.Errorf("Argo CD health of the conflicting tenant: %+v", h)
	}

	// A tenant deleted with a retention period: its retained namespace has a retention end until it is erased.
	retained := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "retained"}, Spec: tenancyv1alpha1.TenantSpec{
		DeletionPolicy: tenancyv1alpha1.DeletionPolicyRetain,
		Retention:      &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: time.Hour}, AfterPeriod: tenancyv1alpha1.RetentionErase},
	}}
	if err := inst.k8s.Create(ctx, retained); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "tenant retained has its namespace", func(ctx context.Context) (bool, error) {
		err := inst.k8s.Get(ctx, client.ObjectKeyFromObject(retained), retained)
		return err == nil && meta.IsStatusConditionTrue(retained.Status.Conditions, tenancyv1alpha1.ConditionNamespaceReady), err
	})
	if err := inst.k8s.Delete(ctx, retained); err != nil {
		t.Fatal(err)
	}

	rules := find(decode(t, renderChart(t, "--set", "prometheusRule.enabled=true")), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules rendered", len(rules))
	}
	used := map[string]bool{}
	for _, name := range regexp.MustCompile(`tenant_operator_[a-z_]+`).FindAllString(fmt.Sprint(rules[0].Object["spec"]), -1) {
		used[name] = true
	}
	if len(used) < 4 {
		t.Fatalf("the alerts use only %v", used)
	}
	scraper, err := inst.cluster.MetricsReaderToken(ctx, "scraper", releaseName+"-metrics-reader")
	if err != nil {
		t.Fatal(err)
	}
	m := waitAlertMetrics(ctx, t, inst, scraper, used)
	if m.Sum("tenant_operator_reconcile_errors_total", `reason="NamespaceConflict"`) == 0 {
		t.Error("the namespace conflict was not counted as a reconcile error")
	}
	if end := m.Sum("tenant_operator_retention_end_timestamp_seconds", `retained_namespace="retained"`, `after_period="Erase"`); end < float64(time.Now().Add(50*time.Minute).Unix()) {
		t.Errorf("retention end of namespace retained = %v, want an hour after its deletion", end)
	}
	if _, err := inst.cluster.Kubectl(ctx, nil, "delete", "namespace", "retained", "--wait=false"); err != nil {
		t.Errorf("the admin deletes the retained namespace before its period is over: %v", err)
	}
	if expiry := m.Sum("tenant_operator_certificate_expiry_timestamp_seconds", `tenant="globex"`); expiry < float64(time.Now().Add(24*time.Hour).Unix()) {
		t.Errorf("globex's certificate expiry = %v", expiry)
	}
}
