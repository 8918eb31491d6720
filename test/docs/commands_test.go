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

package docs

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// Reasons shared by several commands.
const (
	ciRuns       = "CI runs it (.ci/run: make verify lint test)"
	rewritesTree = "rewrites generated files in the checkout; make verify (CI) fails when they are not current"
	makeTestPart = "a part of make test, which runs this test"
	mention      = "names a subcommand in passing, not a command to run as shown"
)

// inline says what the test does with each command the documents (README.md, docs/) show inline (in a sentence or a
// table), keyed by the command as shown (placeholders included), whichever document shows it. Commands of fenced
// blocks are not listed here: they run unless their block's marker says why not.
var inline = map[string]step{
	// README, A Tenant; docs/api.md, Status.
	"kubectl get tenant globex":   {cluster: mainCluster, phase: afterInstall, check: checkGetTenant},
	"kubectl explain tenant.spec": {cluster: mainCluster, phase: afterInstall, check: checkExplain},
	"kubectl get tenants":         {cluster: mainCluster, phase: afterInstall, check: checkTenantColumns},
	"kubectl get tenants -o wide": {cluster: mainCluster, phase: afterInstall, check: checkWideTenantColumns},
	// docs/api.md, Tenant classes: the samples' class "standard", which acme names.
	"kubectl get tenantclasses": {cluster: mainCluster, phase: afterInstall, check: checkTenantClasses},
	"kubectl auth can-i --list": {skip: "what it lists depends on who runs it: test/security checks what tenant users may do"},
	// docs/guardrails.md, Encryption at rest on a real cluster: re-stores every Secret; harmless on the local cluster
	// (which encrypts).
	"kubectl get secrets --all-namespaces -o json | kubectl replace -f -": {cluster: mainCluster, phase: afterInstall, check: checkSecretsReplaced},
	// Two commands (README), the table of targets (docs/development.md), and what else names a make target or the
	// manager's help (docs/: development, performance, operations, guardrails).
	"make help":                      {custom: makeHelp},
	"make run":                       {cluster: mainCluster, phase: last, custom: makeRun},
	"DEMO_EXIT=1 make demo":          {skip: "starts a cluster of its own (about a minute); what it automates (config/default, the operator under its ServiceAccount, config/samples to Ready) runs here through the README's own commands"},
	"make demo":                      {skip: "runs until Ctrl-C; DEMO_EXIT=1 make demo is its non-interactive form"},
	"make test":                      {skip: "runs this test, and every other tier"},
	"make test TEST_NODE=skip":       {skip: "make test without its node tier; make test runs this test"},
	"make test TEST_DATABASE=skip":   {skip: "make test without its database tier; make test runs this test"},
	"make node":                      {skip: "make test runs it before this test (it builds the node and installs its packages)"},
	"make tools":                     {skip: "builds every tool; make test built the ones these commands use (kubectl, helm, kustomize)"},
	"make manifests generate":        {skip: rewritesTree},
	"make verify":                    {skip: rewritesTree},
	"make lint":                      {skip: ciRuns},
	"make vulncheck":                 {skip: ciRuns},
	"make verify lint test":          {skip: ciRuns},
	"make bench":                     {skip: "takes 8 minutes or more"},
	"BENCH_N=1000 make bench":        {skip: "takes half an hour or more"},
	"make bench BENCH_ARGS=-idle=1m": {skip: "takes 5 minutes or more"},
	"make test-unit":                 {skip: makeTestPart},
	"make test-security":             {skip: makeTestPart},
	"make test-isolation":            {skip: makeTestPart},
	"make test-database":             {skip: makeTestPart},
	"make postgres":                  {skip: "make test runs it before this test (it installs PostgreSQL when missing)"},
	"go mod tidy":                    {skip: mention + " (make verify runs go mod tidy -diff)"},
	"kubectl scale":                  {skip: mention + " (what a tenant might try; test/security tries it)"},
	"kubectl set image":              {skip: mention + " (what a tenant might try; test/security tries it)"},
	"helm lint":                      {skip: mention + " (make lint runs helm lint on the chart)"},
	"helm upgrade":                   {skip: mention + " (test/install upgrades the chart)"},
	"helm uninstall":                 {skip: mention + " (no release named)"},
	"bin/manager --help":             {custom: managerHelp},
	"make docker-build IMG=<registry>/tenant-operator:<tag>": {custom: makeDockerBuild},
	// Install with Helm (README) and Upgrades and the CRD (docs/operations.md): the CRD on its own, what GitOps tools
	// apply, the removal of the CRD.
	"kubectl apply --server-side -k config/crd": {cluster: mainCluster, phase: afterInstall,
		check: contains("customresourcedefinition.apiextensions.k8s.io/tenants.tenancy.tenant-operator.dev serverside-applied")},
	// The GitOps install renders the chart instead of installing it: a cluster of its own, where the namespace is
	// made first as the Helm block makes it.
	"helm template tenant-operator charts/tenant-operator -n tenant-operator-system | kubectl apply --server-side -f -": {
		cluster: "gitops", check: checkServerSideApplied, setup: []string{
			"kubectl create namespace tenant-operator-system",
			"kubectl label namespace tenant-operator-system pod-security.kubernetes.io/enforce=restricted",
		}},
	"kubectl delete crd tenants.tenancy.tenant-operator.dev": {cluster: "helm", phase: afterInstall,
		check: contains(`customresourcedefinition.apiextensions.k8s.io "tenants.tenancy.tenant-operator.dev" deleted`)},
	// Install with kustomize (README): the image step, in config/manager, before the block that applies config/default.
	"kustomize edit set image controller=<registry>/tenant-operator:<tag>": {cluster: mainCluster, dir: "config/manager", check: checkImageSet},
	"helm template tenant-operator charts/tenant-operator -n tenant-operator-system --set prometheusRule.enabled=true --show-only templates/prometheusrule.yaml": {
		check: checkPrometheusRule},
	// docs/guardrails.md, Access audit; README.
	"make plugin": {skip: "builds bin/kubectl-tenant: test/security's TestAccessAuditPlugin builds the same package and runs it through kubectl"},
	"kubectl tenant audit <tenant>": {skip: "needs the plugin on the PATH and a tenant whose people act: test/security's " +
		"TestAccessAuditPlugin runs it through kubectl, table and -o json, and checks what it reports"},
	// docs/operations.md, Observability; docs/runbooks.md.
	"kubectl get events -n default --field-selector involvedObject.kind=Namespace": {skip: "the Events of retained namespaces whose " +
		"retention ends: none on this cluster, where no period ends; the envtest TestRetentionErase and TestRetentionKeep read them"},
	"kubectl get tenant <tenant> -o jsonpath='{.status.conditions[?(@.type==\"Compliant\")].message}'": {cluster: mainCluster,
		phase: afterInstall, check: contains("PCI-DSS SecretRotation met: 2 secret(s) rotate at least every 2160h")},
	"kubectl get events -n default --field-selector involvedObject.kind=Tenant,involvedObject.name=<tenant>": {
		cluster: mainCluster, phase: afterInstall, check: checkEvents},
}

func contains(want string) func(*session, string) error {
	return func(_ *session, out string) error {
		if !strings.Contains(out, want) {
			return fmt.Errorf("the output does not say %q", want)
		}
		return nil
	}
}

// checkGetTenant: owners read their tenant with kubectl get tenant globex; the Tenant is there.
func checkGetTenant(_ *session, out string) error {
	header, rows := parseTable(out)
	if len(rows) != 1 || len(header) == 0 || header[0] != "NAME" || rows[0][0] != "globex" {
		return fmt.Errorf("want one row, globex")
	}
	return nil
}

// checkTenantColumns: "kubectl get tenants shows Namespace, Phase, Ready, Backend (ready/desired) and Age."
func checkTenantColumns(_ *session, out string) error {
	header, rows := parseTable(out)
	if want := []string{"NAME", "NAMESPACE", "PHASE", "READY", "BACKEND", "AGE"}; !slices.Equal(header, want) {
		return fmt.Errorf("columns %v, the documents name %v", header, want)
	}
	for _, r := range rows {
		if r[4] != "" && !regexp.MustCompile(`^\d+/\d+$`).MatchString(r[4]) {
			return fmt.Errorf("BACKEND %q of %s is not ready/desired", r[4], r[0])
		}
	}
	return nil
}

// checkTenantClasses: "kubectl get tenantclasses shows how far a roll-out got": the sample class counts its tenant,
// updated.
func checkTenantClasses(_ *session, out string) error {
	header, rows := parseTable(out)
	if want := []string{"NAME", "DEFAULT", "TENANTS", "UPDATED", "ROLLED-OUT", "AGE"}; !slices.Equal(header, want) {
		return fmt.Errorf("columns %v, want %v", header, want)
	}
	for _, r := range rows {
		if r[0] == "standard" {
			if r[2] != "1" || r[3] != "1" || r[4] != "True" {
				return fmt.Errorf("class standard: %v, want 1 tenant (acme), updated, rolled out", r)
			}
			return nil
		}
	}
	return fmt.Errorf("no class standard (config/samples) in %v", rows)
}

// checkWideTenantColumns: "kubectl get tenants -o wide adds the TenantClass applied and the Ready condition's reason
// and message: Ready for a Ready tenant, else the reason of the first area that failed, or of the first not ready
// yet."
func checkWideTenantColumns(_ *session, out string) error {
	header, rows := parseTable(out)
	if want := []string{"NAME", "NAMESPACE", "PHASE", "READY", "BACKEND", "CLASS", "REASON", "MESSAGE", "AGE"}; !slices.Equal(header, want) {
		return fmt.Errorf("columns %v, the documents name %v", header, want)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no tenants listed")
	}
	for _, r := range rows {
		if r[3] == "" || r[3] == "<none>" {
			continue // no status yet
		}
		if (r[3] == "True") != (r[6] == tenancyv1alpha1.ReasonReady) || r[6] == "" || r[6] == "<none>" {
			return fmt.Errorf("tenant %s: READY %s with REASON %q", r[0], r[3], r[6])
		}
	}
	return nil
}

// checkExplain: every field of the documents' Tenant examples (the README's) is a field kubectl explain documents,
// and every field it lists has a description ("every field is documented for kubectl explain tenant.spec").
func checkExplain(_ *session, out string) error {
	fieldRe := regexp.MustCompile(`^  ([A-Za-z0-9]+)\t<`)
	fields := map[string]bool{}
	lines := strings.Split(out, "\n")
	var undocumented []string
	for i, l := range lines {
		m := fieldRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		fields[m[1]] = true
		documented := false
		for _, next := range lines[i+1:] {
			if fieldRe.MatchString(next) {
				break
			}
			if strings.HasPrefix(next, "    ") && strings.TrimSpace(next) != "" {
				documented = true
				break
			}
		}
		if !documented {
			undocumented = append(undocumented, m[1])
		}
	}
	if len(undocumented) > 0 {
		return fmt.Errorf("fields without a description: %v", undocumented)
	}
	examples, err := exampleTenants()
	if err != nil {
		return err
	}
	for _, ex := range examples {
		for name := range ex.spec {
			if !fields[name] {
				return fmt.Errorf("the Tenant of %s sets spec.%s, which kubectl explain does not list", ex.where, name)
			}
		}
	}
	return nil
}

// exampleTenantKind finds a Tenant's kind line, not a TenantClass's.
var exampleTenantKind = regexp.MustCompile(`(?m)^kind: Tenant(\s|$)`)

// exampleTenant is the spec of a Tenant a document shows, and where.
type exampleTenant struct {
	where string
	spec  map[string]any
}

// exampleTenants are the specs of the documents' example Tenants (the yaml blocks of kind Tenant: the README's A
// Tenant, and any docs/ page shows), wherever they live; the documents must show one.
func exampleTenants() ([]exampleTenant, error) {
	docs, err := loadDocuments(repoRoot)
	if err != nil {
		return nil, err
	}
	var out []exampleTenant
	for _, d := range docs {
		for _, b := range d.blocks {
			if b.info != "yaml" || !exampleTenantKind.MatchString(b.body) {
				continue
			}
			var obj struct {
				Spec map[string]any `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(b.body), &obj); err != nil {
				return nil, fmt.Errorf("%s: %w", b.where(), err)
			}
			if len(obj.Spec) == 0 {
				return nil, fmt.Errorf("%s: a Tenant without a spec", b.where())
			}
			out = append(out, exampleTenant{where: b.where(), spec: obj.Spec})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no document (README.md, docs/) shows a Tenant")
	}
	return out, nil
}

// checkSecretsReplaced: every Secret was stored again, and the command did nothing else.
func checkSecretsReplaced(_ *session, out string) error {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !regexp.MustCompile(`^secret/\S+ replaced$`).MatchString(l) {
			return fmt.Errorf("unexpected line %q", l)
		}
	}
	if len(lines) < 4 {
		return fmt.Errorf("only %d Secrets replaced, with the samples' tenants in place", len(lines))
	}
	return nil
}

func checkServerSideApplied(_ *session, out string) error {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !strings.HasSuffix(l, " serverside-applied") {
			return fmt.Errorf("unexpected line %q", l)
		}
	}
	if len(lines) < 10 {
		return fmt.Errorf("only %d objects applied", len(lines))
	}
	return nil
}

// checkEvents: the Events command lists the tenant's Events, and only them, its Created Event among them.
func checkEvents(_ *session, out string) error {
	header, rows := parseTable(out)
	reason, object := slices.Index(header, "REASON"), slices.Index(header, "OBJECT")
	if reason < 0 || object < 0 {
		return fmt.Errorf("no REASON and OBJECT columns")
	}
	created := false
	for _, r := range rows {
		if r[object] != "tenant/globex" {
			return fmt.Errorf("an Event about %s", r[object])
		}
		created = created || r[reason] == "Created"
	}
	if !created {
		return fmt.Errorf("no Created Event for tenant globex")
	}
	return nil
}

// checkImageSet: kustomize edit set image wrote the image into config/manager/kustomization.yaml.
func checkImageSet(s *session, _ string) error {
	data, err := os.ReadFile(filepath.Join(s.workspace, "config", "manager", "kustomization.yaml"))
	if err != nil {
		return err
	}
	var k struct {
		Images []struct{ Name, NewName, NewTag string } `json:"images"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return err
	}
	want, _ := substitute("<registry>/tenant-operator:<tag>")
	for _, img := range k.Images {
		if img.Name == "controller" && img.NewName+":"+img.NewTag == want {
			return nil
		}
	}
	return fmt.Errorf("config/manager/kustomization.yaml does not set image controller to %s:\n%s", want, data)
}

// checkPrometheusRule: the chart's rule holds every alert of the documents' alerts table (docs/operations.md,
// Observability; wherever a table headed | alert | lives).
func checkPrometheusRule(_ *session, out string) error {
	if !strings.Contains(out, "kind: PrometheusRule") {
		return fmt.Errorf("no PrometheusRule rendered")
	}
	alerts, where, err := documentTable("| alert |")
	if err != nil {
		return err
	}
	if len(alerts) < 4 {
		return fmt.Errorf("the documents' alert tables (%v) list %v", where, alerts)
	}
	for _, a := range alerts {
		if !strings.Contains(out, "alert: "+a.text) {
			return fmt.Errorf("the alert %s of %s is not in the rule", a.text, a.doc)
		}
	}
	return nil
}

// makeEnv is a session's environment for make, as a user's shell has it.
func makeEnv(s *session) []string {
	return append(slices.Clone(s.env), "MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=")
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// makeHelp: make help lists every target the Makefile documents, and every target of the documents' table of
// targets (docs/development.md; wherever a table headed | target | lives).
func makeHelp(ctx context.Context, _ *testing.T, s *session, _ *step) (string, error) {
	cmd := exec.CommandContext(ctx, "make", "help")
	cmd.Dir, cmd.Env = repoRoot, makeEnv(s)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v:\n%s", err, out)
	}
	listed := map[string]bool{}
	for _, l := range strings.Split(ansi.ReplaceAllString(string(out), ""), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			listed[f[0]] = true
		}
	}
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		return "", err
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^([a-zA-Z_0-9-]+):.*?## `).FindAllStringSubmatch(string(makefile), -1) {
		want = append(want, m[1])
	}
	cells, where, err := documentTable("| target |")
	if err != nil {
		return "", err
	}
	if len(where) == 0 {
		return "", fmt.Errorf("no document (README.md, docs/) shows a table of make targets (| target |)")
	}
	for _, cell := range cells {
		for _, sp := range codeSpans(cell.doc, 0, cell.text) {
			want = append(want, strings.Fields(strings.TrimPrefix(sp.text, "make "))...)
		}
	}
	for _, target := range want {
		if !listed[target] {
			return "", fmt.Errorf("make help does not list %s:\n%s", target, out)
		}
	}
	return fmt.Sprintf("lists all %d documented targets (the Makefile's, and the table of %s)", len(want), strings.Join(where, ", ")), nil
}

// makeDockerBuild: without a Docker engine, the target is checked dry: make -n shows the docker build it would
// run, with the image named, from the repository as the build context. Whether that context builds the manager is
// test/dockerfile's check (make docker-build-dry).
func makeDockerBuild(ctx context.Context, _ *testing.T, s *session, st *step) (string, error) {
	args := append([]string{"-n"}, strings.Fields(st.raw)[1:]...)
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Dir, cmd.Env = repoRoot, makeEnv(s)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v:\n%s", err, out)
	}
	image := strings.TrimPrefix(strings.Fields(st.raw)[2], "IMG=")
	got := strings.TrimSpace(string(out))
	if !strings.HasPrefix(got, "docker build ") || !strings.HasSuffix(got, " -t "+image+" .") {
		return "", fmt.Errorf("make -n docker-build: %q, want a docker build of . tagged %s", got, image)
	}
	return "dry (no Docker engine): make -n shows `" + got + "`; test/dockerfile builds that context", nil
}

// managerHelp: bin/manager --help lists every flag of the documents' table of manager flags (docs/operations.md,
// The manager; wherever a table headed | flag | lives).
func managerHelp(ctx context.Context, t *testing.T, _ *session, _ *step) (string, error) {
	out, err := exec.CommandContext(ctx, managerBinary(t), "--help").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v:\n%s", err, out)
	}
	cells, where, err := documentTable("| flag |")
	if err != nil {
		return "", err
	}
	var flags []string
	documented := map[string]string{}
	for _, cell := range cells {
		for _, f := range regexp.MustCompile(`--[a-z0-9-]+`).FindAllString(cell.text, -1) {
			flags, documented[f] = append(flags, f), cell.doc
		}
	}
	if len(flags) < 10 {
		return "", fmt.Errorf("the documents' tables of flags (%v) name only %v", where, flags)
	}
	for _, f := range flags {
		if !strings.Contains(string(out), "  -"+strings.TrimPrefix(f, "--")+" ") &&
			!strings.Contains(string(out), "  -"+strings.TrimPrefix(f, "--")+"\n") {
			return "", fmt.Errorf("bin/manager --help does not list %s, which %s documents", f, documented[f])
		}
	}
	return fmt.Sprintf("lists all %d flags of the table of %s", len(flags), strings.Join(where, ", ")), nil
}

// makeRun: make run against the main cluster's kubeconfig, in place of the Deployment's operator: it becomes ready
// and provisions a Tenant; then it is stopped. The prerequisites manifests and generate are not remade (-o): they
// rewrite generated files in the checkout, and make verify checks those are current.
func makeRun(ctx context.Context, t *testing.T, s *session, _ *step) (string, error) {
	s.kubelet.stopOperators()
	port, err := localcluster.FreePort()
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(s.dir, "make-run.log")
	start := time.Now()
	p, err := s.cluster.StartProcess("make run", "make", logPath, makeEnv(s), "-C", repoRoot, "-o", "manifests", "-o", "generate",
		"run", "RUN_ARGS=--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return "", err
	}
	defer func() { _ = p.Stop() }()
	logs := func() string { data, _ := os.ReadFile(logPath); return tail(string(data), 30) }
	// go run compiles the manager first: on a cold build cache, minutes.
	ready := false
	for deadline := time.Now().Add(5 * time.Minute); !ready && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		select {
		case <-p.Exited():
			return "", fmt.Errorf("make run exited before it was ready:\n%s", logs())
		case <-ctx.Done():
			return "", ctx.Err()
		default:
		}
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
	}
	if !ready {
		return "", fmt.Errorf("make run not ready after 5 minutes:\n%s", logs())
	}
	tookReady := time.Since(start).Round(time.Second)
	tenant := "apiVersion: tenancy.tenant-operator.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: make-run\nspec: {}\n"
	if _, err := s.cluster.Kubectl(ctx, []byte(tenant), "apply", "--server-side", "-f", "-"); err != nil {
		return "", err
	}
	if _, err := s.cluster.Kubectl(ctx, nil, "wait", "--for=condition=Ready", "--timeout=90s", "tenant/make-run"); err != nil {
		return "", fmt.Errorf("%w\nmake run's log:\n%s", err, logs())
	}
	if err := p.Stop(); err != nil {
		return "", err
	}
	t.Logf("make run's log:\n%s", logs())
	return fmt.Sprintf("ready after %s on the cluster's kubeconfig, provisioned a Tenant, stopped", tookReady), nil
}

// parseTable reads kubectl's table output: columns start where the header's words do (a header word may hold one
// space: LAST SEEN), cells are what lies under them.
func parseTable(out string) (header []string, rows [][]string) {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	var starts []int
	h := lines[0]
	for i := range h {
		if h[i] != ' ' && (i == 0 || i >= 2 && h[i-1] == ' ' && h[i-2] == ' ') {
			starts = append(starts, i)
		}
	}
	cells := func(l string) []string {
		var out []string
		for j, st := range starts {
			end := len(l)
			if j+1 < len(starts) {
				end = min(starts[j+1], len(l))
			}
			if st >= len(l) {
				out = append(out, "")
				continue
			}
			out = append(out, strings.TrimSpace(l[st:end]))
		}
		return out
	}
	header = cells(h)
	for _, l := range lines[1:] {
		rows = append(rows, cells(l))
	}
	return header, rows
}

// timeColumns change from run to run.
var timeColumns = []string{"AGE", "LAST SEEN"}

// compareTables compares kubectl's output with the table a document shows: the same columns, the same rows in the
// same order, the same cells but in time columns.
func compareTables(want, got string) error {
	wh, wrows := parseTable(want)
	gh, grows := parseTable(got)
	if !slices.Equal(wh, gh) {
		return fmt.Errorf("columns %v, the document shows %v", gh, wh)
	}
	if len(wrows) != len(grows) {
		return fmt.Errorf("%d rows, the document shows %d", len(grows), len(wrows))
	}
	for i := range wrows {
		for j, col := range wh {
			if !slices.Contains(timeColumns, col) && wrows[i][j] != grows[i][j] {
				return fmt.Errorf("row %d, %s: %q, the document shows %q", i+1, col, grows[i][j], wrows[i][j])
			}
		}
	}
	return nil
}

func TestParseTable(t *testing.T) {
	const want = "NAME       NAMESPACE     PHASE   READY   BACKEND   AGE\n" +
		"acme       acme          Ready   True              20s\n" +
		"globex     globex-prod   Ready   True    2/2       20s\n"
	got := "NAME     NAMESPACE     PHASE   READY   BACKEND   AGE\n" +
		"acme     acme          Ready   True              3m12s\n" +
		"globex   globex-prod   Ready   True    2/2       3m12s\n"
	if err := compareTables(want, got); err != nil {
		t.Error(err)
	}
	pending := strings.Replace(got, "globex   globex-prod   Ready   True    2/2", "globex   globex-prod   Provisioning   False   0/2", 1)
	if err := compareTables(want, pending); err == nil {
		t.Error("a Provisioning tenant matched the README's Ready one")
	}
	header, rows := parseTable("LAST SEEN   TYPE     REASON    OBJECT          MESSAGE\n42s         Normal   Created   tenant/globex   Created 1 ClusterRole\n")
	if !slices.Equal(header, []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}) || rows[0][3] != "tenant/globex" || rows[0][4] != "Created 1 ClusterRole" {
		t.Errorf("events table: %v %v", header, rows)
	}
	if rows[0][0] != "42s" {
		t.Errorf("LAST SEEN: %q", rows[0][0])
	}
}

// TestKustomizeIsKubectls: the kustomize CLI the README's image step runs is the version kubectl embeds, which
// builds config/default: the edit and the build agree on the kustomization's format.
func TestKustomizeIsKubectls(t *testing.T) {
	mod := "sigs.k8s.io/kustomize/kustomize/v5"
	cli, err := moduleVersion(filepath.Join(repoRoot, "hack", "tools", "kustomize", "go.mod"), mod)
	if err != nil {
		t.Fatal(err)
	}
	kubectl, err := moduleVersion(filepath.Join(repoRoot, "hack", "tools", "k8s", "go.mod"), mod)
	if err != nil {
		t.Fatal(err)
	}
	if cli != kubectl {
		t.Errorf("hack/tools/kustomize builds kustomize %s, kubectl embeds %s: go get %s@%s there", cli, kubectl, mod, kubectl)
	}
}
