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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// firedAlert is what hack/tools/alerteval reports of an alert that fired.
type firedAlert struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	ActiveAt    time.Time         `json:"activeAt"`
	FiredAt     time.Time         `json:"firedAt"`
}

type alertScrape struct {
	Time   time.Time         `json:"time"`
	Target map[string]string `json:"target"`
	Text   string            `json:"text"`
}

// hankUser is globex's owner in config/samples.
const hankUser = "hank@globex.example"

// scrapeEvery is how often the test scrapes the operator and the apiserver; alertInterval is the evaluation's
// scrape and rule interval, Prometheus's usual 30 s.
const (
	scrapeEvery   = 10 * time.Second
	alertInterval = 30 * time.Second
)

// runScrapes is what a Prometheus would have scraped of the run: the operator's metrics and the apiserver's, from
// just after the install to the end of the alerts test, every scrapeEvery.
type runScrapes struct {
	objs    []*unstructured.Unstructured // the chart rendered with its PrometheusRule and ServiceMonitor
	token   string
	targets map[string]map[string]string
	scrape  map[string]func(context.Context) (string, error)

	mu      sync.Mutex
	scrapes []alertScrape
	cancel  context.CancelFunc
	done    chan struct{}
}

// startScraping scrapes both targets once, then in the background until stop. The operator's endpoint is scraped at
// its fixed address (the audit sink's port), so restarts of the operator are scraped as Prometheus would: a gap, and
// counters starting again.
func startScraping(ctx context.Context, t *testing.T, inst *installation) *runScrapes {
	t.Helper()
	r := &runScrapes{objs: decode(t, renderChart(t, "--set", "prometheusRule.enabled=true", "--set", "metrics.auditSink.enabled=true",
		"--set", "metrics.serviceMonitor.enabled=true")), done: make(chan struct{})}
	var err error
	if r.token, err = inst.cluster.MetricsReaderToken(ctx, "alert-scraper", releaseName+"-metrics-reader"); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(inst.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	operator := &localcluster.Operator{MetricsURL: inst.operator.MetricsURL}
	r.targets = map[string]map[string]string{
		"operator":  {"job": serviceMonitorJob(t, r.objs), "namespace": inst.deployment.Namespace, "instance": "operator:8443"},
		"apiserver": {"job": "apiserver", "namespace": "default", "instance": "apiserver:6443"},
	}
	r.scrape = map[string]func(context.Context) (string, error){
		"operator": func(ctx context.Context) (string, error) {
			m, err := operator.Scrape(ctx, r.token)
			return string(m), err
		},
		"apiserver": func(ctx context.Context) (string, error) {
			raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
			return string(raw), err
		},
	}
	r.scrapeAll(ctx)
	ctx, r.cancel = context.WithCancel(ctx)
	go func() {
		defer close(r.done)
		ticker := time.NewTicker(scrapeEvery)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				r.scrapeAll(ctx)
			}
		}
	}()
	t.Cleanup(func() { r.stop(context.Background()) })
	return r
}

// scrapeAll scrapes each target; one that does not answer (the operator restarting) is left out, as a failed
// scrape is.
func (r *runScrapes) scrapeAll(ctx context.Context) {
	for name, scrape := range r.scrape {
		text, err := scrape(ctx)
		if err != nil {
			continue
		}
		r.mu.Lock()
		r.scrapes = append(r.scrapes, alertScrape{Time: time.Now(), Target: r.targets[name], Text: text})
		r.mu.Unlock()
	}
}

// stop ends the background scrapes, scrapes once more, and returns every scrape.
func (r *runScrapes) stop(ctx context.Context) []alertScrape {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
		r.scrapeAll(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.scrapes)
}

// serviceMonitorJob is the job label the Prometheus Operator gives the scrapes of the chart's ServiceMonitor: the
// name of the Service its selector selects in its namespace (the chart sets no jobLabel).
func serviceMonitorJob(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	monitors := find(objs, "ServiceMonitor")
	if len(monitors) != 1 {
		t.Fatalf("%d ServiceMonitors rendered", len(monitors))
	}
	if label, _, _ := unstructured.NestedString(monitors[0].Object, "spec", "jobLabel"); label != "" {
		t.Fatalf("the ServiceMonitor names its job by label %s", label)
	}
	selector, _, _ := unstructured.NestedStringMap(monitors[0].Object, "spec", "selector", "matchLabels")
	var selected []string
	for _, svc := range find(objs, "Service") {
		if svc.GetNamespace() != monitors[0].GetNamespace() || len(selector) == 0 {
			continue
		}
		matches := true
		for k, v := range selector {
			matches = matches && svc.GetLabels()[k] == v
		}
		if matches {
			selected = append(selected, svc.GetName())
		}
	}
	if len(selected) != 1 {
		t.Fatalf("the ServiceMonitor's selector %v selects Services %v, want one", selector, selected)
	}
	return selected[0]
}

// testAlertsFire: the chart's PrometheusRule, as rendered with its default thresholds, evaluated by Prometheus's rule
// engine (hack/tools/alerteval) over what this run's operator and apiserver served at their metrics endpoints since
// the install, fires exactly the alerts the run earned: the tenant that cannot get its namespace is not ready, a
// tenant owner's escape attempts trip the guardrail's alert, and, from the apiserver's audit events the operator
// receives (--audit-sink), the per-user alert names him for those and for reaching into another tenant, though he
// was never refused before (a new series counts in full). The run's last values stand past the longest for: of the
// rules, so every alert the run earned fires; TenantOperatorAbsent stays quiet, which proves its job label is the
// one the ServiceMonitor's scrapes get. The fired alerts go to $ALERTS_REPORT, the run docs/operations.md shows.
func testAlertsFire(ctx context.Context, t *testing.T, inst *installation, scrapes *runScrapes) {
	alerteval := toolBinary(t, "alerteval", "ALERTEVAL_BINARY")
	ruleFile, hold := writeRuleFile(t, scrapes.objs)
	provokeRefusals(ctx, t, inst, scrapes.token)
	all := scrapes.stop(ctx)
	last := lastOperatorScrape(t, all)

	result := evaluateAlerts(ctx, t, alerteval, ruleFile, hold, all)
	got := make([]string, 0, len(result.Alerts))
	for _, a := range result.Alerts {
		got = append(got, a.Name+" "+alertKey(a))
	}
	slices.Sort(got)
	want := []string{
		"TenantGuardrailDenials policy=tenant-operator-service-exposure",
		"TenantNotReady tenant=taken",
		"TenantUserDenied denied_by=rbac,tenant=initech,user=" + hankUser,
		"TenantUserDenied denied_by=tenant-operator-service-exposure,tenant=globex,user=" + hankUser,
	}
	// The run's audits and compliance, as the operator reported them at the end: their alerts fire once their
	// for: is over, and only for those tenants.
	for _, tenant := range []string{"acme", "globex", "initech", "initrode"} {
		if last.Sum("tenant_operator_audit_findings", `tenant="`+tenant+`"`) > 0 {
			want = append(want, "TenantAuditFindings tenant="+tenant)
		}
		if last.Sum("tenant_operator_tenant_condition", `tenant="`+tenant+`"`, `condition="Compliant"`, `status="False"`) > 0 {
			want = append(want, "TenantNotCompliant tenant="+tenant)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the alerts that fired: %q, want %q\n%+v", got, want, result.Alerts)
	}
	for _, a := range result.Alerts {
		if a.Annotations["summary"] == "" || !strings.Contains(a.Annotations["runbook_url"], "#"+strings.ToLower(a.Name)) {
			t.Errorf("%s fired without its summary or runbook: %v", a.Name, a.Annotations)
		}
	}
	if path := os.Getenv("ALERTS_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(alertsReport(result.From, hold, result.Alerts)), 0o600); err != nil {
			t.Error(err)
		}
	}
}

// lastOperatorScrape is the operator's metrics at the end of the run.
func lastOperatorScrape(t *testing.T, scrapes []alertScrape) localcluster.Metrics {
	t.Helper()
	for i := len(scrapes) - 1; i >= 0; i-- {
		if scrapes[i].Target["job"] != "apiserver" {
			return localcluster.Metrics(scrapes[i].Text)
		}
	}
	t.Fatal("the operator was never scraped")
	return ""
}

// writeRuleFile writes the rendered PrometheusRule's groups as a Prometheus rule file, and returns how long the
// run's last values must stand for every rule's for: to be over: the longest, and two intervals.
func writeRuleFile(t *testing.T, objs []*unstructured.Unstructured) (string, time.Duration) {
	t.Helper()
	rules := find(objs, "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules rendered", len(rules))
	}
	hold := time.Duration(0)
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rs {
			if f, ok := r.(map[string]any)["for"].(string); ok {
				d, err := time.ParseDuration(f)
				if err != nil {
					t.Fatalf("for: %s: %v", f, err)
				}
				hold = max(hold, d)
			}
		}
	}
	ruleFile := filepath.Join(t.TempDir(), "rules.yaml")
	spec, err := yaml.Marshal(rules[0].Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ruleFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	return ruleFile, hold + 2*alertInterval
}

// provokeRefusals: globex's owner, never refused before, tries to expose the tenant on a LoadBalancer, more often
// than the guardrail's threshold, and to read initech's Secrets, more often than the per-user one; the operator
// counts what the apiserver's audit webhook reports, a batch a second.
func provokeRefusals(ctx context.Context, t *testing.T, inst *installation, token string) {
	t.Helper()
	owner := rest.CopyConfig(inst.cluster.Config)
	owner.Impersonate = rest.ImpersonationConfig{UserName: hankUser, Groups: []string{"system:authenticated"}}
	hank, err := client.New(owner, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 13 {
		lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("exposed-%d", i), Namespace: "globex-prod"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}}}
		if err := hank.Create(ctx, lb); !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
			t.Fatalf("globex's owner creates a LoadBalancer Service: %v, want refused by the guardrail", err)
		}
	}
	for range 7 {
		if err := hank.List(ctx, &corev1.SecretList{}, client.InNamespace("initech")); !apierrors.IsForbidden(err) {
			t.Fatalf("globex's owner lists initech's Secrets: %v, want forbidden", err)
		}
	}
	eventually(ctx, t, "the operator counted hank's refusals", func(ctx context.Context) (bool, error) {
		m, err := inst.operator.Scrape(ctx, token)
		return err == nil && deniedRequests(m, "globex", "tenant-operator-service-exposure") >= 13 && deniedRequests(m, "initech", "rbac") >= 7, nil
	})
}

// deniedRequests is hank's refusals in a tenant by a refuser, as the operator counted them.
func deniedRequests(m localcluster.Metrics, tenant, deniedBy string) float64 {
	return m.Sum("tenant_operator_denied_requests_total", `tenant="`+tenant+`"`, `user="`+hankUser+`"`, `denied_by="`+deniedBy+`"`)
}

type alertsResult struct {
	From   time.Time    `json:"from"`
	Alerts []firedAlert `json:"alerts"`
}

// evaluateAlerts runs alerteval over the scrapes, every alertInterval, the last values standing for hold.
func evaluateAlerts(ctx context.Context, t *testing.T, alerteval, ruleFile string, hold time.Duration, scrapes []alertScrape) alertsResult {
	t.Helper()
	input, err := json.Marshal(map[string]any{"rules": ruleFile, "interval": alertInterval.String(), "hold": hold.String(), "scrapes": scrapes})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, alerteval)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("alerteval: %v: %s", err, stderr.String())
	}
	var result alertsResult
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("alerteval's output: %v: %s", err, out)
	}
	return result
}

// alertKey is the labels that tell one alert of a rule from another (all but its name and severity), sorted.
func alertKey(a firedAlert) string {
	var labels []string
	for k, v := range a.Labels {
		if k != "alertname" && k != "severity" {
			labels = append(labels, k+"="+v)
		}
	}
	slices.Sort(labels)
	return strings.Join(labels, ",")
}

// alertsReport is the Markdown table of the alerts that fired, timed from the run's first scrape.
func alertsReport(from time.Time, hold time.Duration, alerts []firedAlert) string {
	var b strings.Builder
	b.WriteString("# Alerts fired by a real run\n\n")
	fmt.Fprintf(&b, "The chart's PrometheusRule (default thresholds) evaluated by Prometheus's rule engine over the metrics the "+
		"operator and the apiserver served in TestHelmInstall, their last values standing for %s.\n\n", hold)
	b.WriteString("| alert | labels | pending after | firing after | summary |\n| --- | --- | --- | --- | --- |\n")
	for _, a := range alerts {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", a.Name, strings.ReplaceAll(alertKey(a), ",", ", "),
			a.ActiveAt.Sub(from).Round(time.Second), a.FiredAt.Sub(from).Round(time.Second), a.Annotations["summary"])
	}
	return b.String()
}

// testAuditSinkRefusesForgers: only the audit sender the chart binds may post audit events. A scraper's token (any
// ServiceAccount's, a tenant's included) is refused, as is no token, so nobody can make up refusals to frame a user
// or drown an attack in noise.
func testAuditSinkRefusesForgers(ctx context.Context, t *testing.T, inst *installation) {
	forger, err := inst.cluster.MetricsReaderToken(ctx, "forger", releaseName+"-metrics-reader")
	if err != nil {
		t.Fatal(err)
	}
	forged := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"stage":"ResponseComplete","user":{"username":"` +
		hankUser + `"},"objectRef":{"namespace":"globex-prod","resource":"secrets"},"annotations":{"authorization.k8s.io/decision":"forbid"}}]}`
	for name, token := range map[string]string{"a metrics reader": forger, "nobody": ""} {
		code, _, err := inst.operator.MetricsRequest(ctx, http.MethodPost, "/audit-events", token, strings.NewReader(forged))
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusForbidden && code != http.StatusUnauthorized {
			t.Errorf("%s posts audit events: %d, want 401 or 403", name, code)
		}
	}
	m, err := inst.operator.Scrape(ctx, forger)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Sum("tenant_operator_denied_requests_total", `tenant="globex"`, `denied_by="rbac"`, `user="`+hankUser+`"`); n != 0 {
		t.Errorf("forged refusals were counted: %v", n)
	}
}
