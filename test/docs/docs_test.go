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

// Package docs runs the commands the documents show users, README.md and every page of docs/, on local control
// planes and with the project's own binaries (kubectl, helm, kustomize, make, the manager). Every command of a fenced
// sh block runs, in order (README.md first, then docs/ by name), on the cluster its block's marker names
// (<!-- test: cluster=helm -->; the main cluster by default), unless the marker says why not
// (<!-- test: skip: <reason> -->). Every command shown inline in the prose is listed in this package's inline table,
// which says where it runs, what its output must show, or why it is not run; a command the documents show that the
// table does not know fails, and so does an entry no document shows. A command that exits non-zero fails; so does
// one whose output contradicts the text: the table printed after a block, the columns and rows the text names, the
// tables of manager flags, make targets and alerts, the example Tenant, wherever in the documents they live. The
// relative links between the documents must lead somewhere. The test lists what it ran and what it skipped, with the
// reason, in its output and in $DOCS_REPORT (make test prints it).
//
// There is no node: the test plays the kubelet. A tenant's back-end Deployment is reported available once the
// operator created it; the operator's own Deployment runs as the manager binary, a local process with the
// Deployment's ServiceAccount and arguments, and is reported available once that process is ready.
package docs

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// repoRoot is the repository's root: the documents are README.md and docs/ there.
var repoRoot string

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if repoRoot, err = localcluster.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if toolsDir != "" {
		_ = os.RemoveAll(toolsDir)
	}
	if managerCleanup != nil {
		managerCleanup()
	}
	os.Exit(code)
}

// Where a command runs: the main local cluster, another one a block's marker names, or none.
const (
	mainCluster = "main"
	noCluster   = ""
)

// Phases order a cluster's commands: the documents' order first, then what needs everything installed, then what
// replaces the installed operator (make run).
const (
	inOrder = iota
	afterInstall
	last
)

// step is one command to run, or to list as skipped.
type step struct {
	where   []string // file:line, every place the documents show it
	command string   // as the documents show it, on one line
	raw     string   // what the shell runs: the command with its placeholders filled in
	cluster string
	dir     string // the working directory, relative to the workspace (a copy of config/ and charts/)
	phase   int
	skip    string
	// setup are commands the text says come first (another block's), run before this one.
	setup []string
	// expect is the output the documents print after the command: it is run until it prints that (it must read).
	expect *block
	check  func(s *session, out string) error
	custom func(ctx context.Context, t *testing.T, s *session, st *step) (string, error)
}

// plan turns the documents into steps: the commands of the shell blocks and the inline commands, in document
// order, each inline command once.
func plan(docs []*document) ([]*step, []error) {
	var steps []*step
	var errs []error
	seen := map[string]*step{}
	for _, d := range docs {
		type item struct {
			line int
			b    *block
			sp   *span
		}
		var items []item
		for _, b := range d.blocks {
			items = append(items, item{line: b.line, b: b})
		}
		for i := range d.spans {
			items = append(items, item{line: d.spans[i].line, sp: &d.spans[i]})
		}
		sort.SliceStable(items, func(i, j int) bool { return items[i].line < items[j].line })
		for _, it := range items {
			if it.b != nil {
				s, err := blockSteps(it.b)
				steps, errs = append(steps, s...), append(errs, err...)
				continue
			}
			if !isCommand(it.sp.text) {
				continue
			}
			key := normalize(it.sp.text)
			if prev := seen[key]; prev != nil {
				prev.where = append(prev.where, it.sp.where())
				continue
			}
			h, ok := inline[key]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: `%s` is a command the documents show; add it to the inline table of test/docs "+
					"(where it runs and what it must print, or why it cannot run here)", it.sp.where(), key))
				continue
			}
			st := h
			st.where, st.command = []string{it.sp.where()}, key
			if st.skip == "" {
				raw, err := substitute(key)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", it.sp.where(), err))
				}
				st.raw = raw
			}
			seen[key] = &st
			steps = append(steps, &st)
		}
	}
	for key := range inline {
		if seen[key] == nil {
			errs = append(errs, fmt.Errorf("no document shows `%s` any more: remove it from the inline table of test/docs", key))
		}
	}
	return steps, errs
}

func blockSteps(b *block) ([]*step, []error) {
	if !b.shell() {
		return nil, nil
	}
	var steps []*step
	var errs []error
	cmds := b.commands()
	cluster := b.mark.cluster
	if cluster == "" {
		cluster = mainCluster
	}
	for i, c := range cmds {
		st := &step{where: []string{fmt.Sprintf("%s:%d", b.doc, c.line)}, command: normalize(c.raw), cluster: cluster, skip: b.mark.skip}
		if st.skip == "" {
			raw, err := substitute(c.raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", st.where[0], err))
			}
			st.raw = raw
		}
		if i == len(cmds)-1 && b.output != nil {
			if f := strings.Fields(st.command); len(f) < 2 || f[0] != "kubectl" || f[1] != "get" {
				errs = append(errs, fmt.Errorf("%s: an output block follows `%s`, which the test would run until it prints that: "+
					"only a kubectl get can be repeated", b.output.where(), st.command))
			}
			st.expect = b.output
		}
		steps = append(steps, st)
	}
	return steps, errs
}

// TestDocumentedCommandsKnown: every command the documents show is run or skipped with a reason, every placeholder
// has a value, and the inline table holds nothing stale. It needs no cluster.
func TestDocumentedCommandsKnown(t *testing.T) {
	docs, err := loadDocuments(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	steps, errs := plan(docs)
	for _, err := range errs {
		t.Error(err)
	}
	run := 0
	for _, st := range steps {
		if st.skip == "" {
			run++
		}
	}
	if run < 10 {
		t.Errorf("only %d documented commands would run", run)
	}
}

// TestDocumentedCommands runs them.
func TestDocumentedCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("needs local control planes")
	}
	docs, err := loadDocuments(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	steps, errs := plan(docs)
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	rep := &report{results: map[*step]string{}}
	clusters := map[string][]*step{}
	var names []string
	for _, st := range steps {
		if st.skip != "" {
			rep.set(st, "skipped: "+st.skip)
			t.Run(st.where[0]+" "+st.command, func(t *testing.T) { t.Skip(st.skip) })
			continue
		}
		if clusters[st.cluster] == nil {
			names = append(names, st.cluster)
		}
		clusters[st.cluster] = append(clusters[st.cluster], st)
	}
	t.Run("clusters", func(t *testing.T) {
		for _, name := range names {
			label := name
			if label == noCluster {
				label = "no cluster"
			}
			t.Run(label, func(t *testing.T) {
				t.Parallel()
				runCluster(t, name, clusters[name], rep)
			})
		}
	})
	text := rep.markdown(steps)
	t.Log("\n" + text)
	if path := os.Getenv("DOCS_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runCluster runs one cluster's commands in order. After a failure in the documents' order, the rest are listed as
// not run (they build on it); the later phases' commands stand alone, and a failure there stops nothing.
func runCluster(t *testing.T, name string, steps []*step, rep *report) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	for _, st := range steps {
		rep.set(st, "not run: the session did not start")
	}
	s := newSession(ctx, t, name)
	for _, st := range steps {
		s.setsImage = s.setsImage || strings.Contains(st.command, "<registry>")
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].phase < steps[j].phase })
	failed := false
	for _, st := range steps {
		if failed {
			rep.set(st, "not run: an earlier command of the documents' order failed on this cluster")
			continue
		}
		t.Run(st.where[0]+" "+st.command, func(t *testing.T) {
			start := time.Now()
			note, err := s.run(ctx, t, st)
			took := time.Since(start).Round(100 * time.Millisecond)
			if err != nil {
				failed = failed || st.phase == inOrder
				rep.set(st, fmt.Sprintf("FAILED (%s): %s", took, summary(err.Error())))
				t.Fatalf("%s: %v", st.command, err)
			}
			result := fmt.Sprintf("passed (%s)", took)
			if note != "" {
				result += "; " + note
			}
			rep.set(st, result)
			t.Log(result)
		})
	}
	s.finish(t)
}

// session is where one cluster's commands run.
type session struct {
	name      string
	dir       string // the session's files: the workspace, kubectl's and helm's caches
	workspace string // what relative paths in the commands name: a copy of the repository's config/ and charts/
	env       []string
	cluster   *localcluster.Cluster
	k8s       client.Client
	kubelet   *kubelet
	// setsImage says whether the session's commands name the operator's image (<registry>/tenant-operator:<tag>).
	setsImage bool
}

func newSession(ctx context.Context, t *testing.T, name string) *session {
	t.Helper()
	s := &session{name: name, dir: t.TempDir()}
	s.workspace = filepath.Join(s.dir, "workspace")
	for _, dir := range []string{"config", "charts"} {
		if err := copyDir(filepath.Join(repoRoot, dir), filepath.Join(s.workspace, dir)); err != nil {
			t.Fatal(err)
		}
	}
	// Commands without a cluster get a kubeconfig that does not exist: nothing reaches the user's own cluster.
	kubeconfig := filepath.Join(s.dir, "no-cluster.kubeconfig")
	if name != noCluster {
		binary := managerBinary(t)
		// The test plays the kubelet: without the deployment and replicaset controllers, the status it writes stays.
		cluster, err := localcluster.Start(ctx, localcluster.Options{Controllers: localcluster.ControllersWithout("deployment", "replicaset")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := cluster.Stop(); err != nil {
				t.Error(err)
			}
		})
		s.cluster, kubeconfig = cluster, cluster.KubeconfigPath
		if s.k8s, err = client.New(cluster.Config, client.Options{Scheme: clientgoscheme.Scheme}); err != nil {
			t.Fatal(err)
		}
		s.kubelet = startKubelet(ctx, cluster, s.k8s, binary)
		t.Cleanup(func() {
			s.kubelet.stop()
			if t.Failed() {
				s.kubelet.logs(t)
			}
		})
	}
	s.env = commandEnv(t, s.dir, kubeconfig)
	return s
}

// run runs a step and checks its output.
func (s *session) run(ctx context.Context, t *testing.T, st *step) (string, error) {
	if st.custom != nil {
		return st.custom(ctx, t, s, st)
	}
	for _, c := range st.setup {
		if _, _, err := s.command(ctx, "", c); err != nil {
			return "", fmt.Errorf("setup %s: %w", c, err)
		}
	}
	out, note, err := s.command(ctx, st.dir, st.raw)
	if len(st.setup) > 0 {
		note = strings.TrimPrefix(note+"; after "+strings.Join(st.setup, ", then "), "; ")
	}
	if err != nil {
		return note, err
	}
	if st.expect != nil {
		if out, err = s.until(ctx, st, out); err != nil {
			return note, err
		}
	}
	if st.check != nil {
		if err := st.check(s, out); err != nil {
			return note, fmt.Errorf("%w; the command printed:\n%s", err, out)
		}
	}
	return note, nil
}

// until runs a read again until it prints the table the documents show (the cluster converges), for two minutes.
func (s *session) until(ctx context.Context, st *step, out string) (string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := compareTables(st.expect.body, out)
		if err == nil {
			return out, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return out, fmt.Errorf("the output contradicts %s: %v\nthe document shows:\n%s\nthe command printed:\n%s",
				st.expect.where(), err, st.expect.body, out)
		}
		time.Sleep(time.Second)
		if out, _, err = s.command(ctx, st.dir, st.raw); err != nil {
			return out, err
		}
	}
}

// command runs a shell command in the workspace. The project's helm is built without the Kubernetes version helm's
// releases set at build time, so `helm template` assumes v1.20, older than the chart allows: such a command is run
// again with --kube-version, and the note says so.
func (s *session) command(ctx context.Context, dir, raw string) (out, note string, err error) {
	out, err = s.shell(ctx, dir, raw)
	if err != nil && strings.Contains(raw, "helm template") && !strings.Contains(raw, "--kube-version") &&
		strings.Contains(out, "incompatible with Kubernetes v1.20.0") {
		v, verr := kubeVersion()
		if verr != nil {
			return out, "", verr
		}
		note = "run with helm template --kube-version " + v + ": bin/helm is built without the default Kubernetes version " +
			"helm's releases carry (hack/build-tools.sh), so it assumed v1.20"
		out, err = s.shell(ctx, dir, strings.ReplaceAll(raw, "helm template", "helm template --kube-version "+v))
	}
	if err != nil {
		return out, note, fmt.Errorf("%v:\n%s", err, out)
	}
	return out, note, nil
}

func (s *session) shell(ctx context.Context, dir, raw string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	// bash with pipefail: a pipeline whose first command fails fails (the README's pipes feed kubectl).
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", raw)
	cmd.Dir = filepath.Join(s.workspace, dir)
	cmd.Env = s.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// finish checks what the whole session must have shown: the kubelet had no trouble, and where the commands name
// the operator's image (--set image.repository/image.tag; kustomize edit set image), the operator's Deployment
// runs it.
func (s *session) finish(t *testing.T) {
	t.Helper()
	if s.kubelet == nil {
		return
	}
	if err := s.kubelet.error(); err != nil {
		t.Errorf("playing the kubelet: %v", err)
	}
	if !s.setsImage || t.Failed() {
		return
	}
	if len(s.kubelet.operatorImages()) == 0 {
		t.Errorf("the commands name the operator's image, but no operator Deployment ran")
	}
	want, err := substitute("<registry>/tenant-operator:<tag>")
	if err != nil {
		t.Fatal(err)
	}
	for name, image := range s.kubelet.operatorImages() {
		if image != want {
			t.Errorf("the operator's Deployment %s runs image %s, not %s as the documents' commands set it", name, image, want)
		} else {
			t.Logf("the operator's Deployment %s runs %s, as the documents' commands set it", name, image)
		}
	}
}

var (
	toolsOnce sync.Once
	toolsDir  string
	toolsErr  error
)

// commandEnv is the environment of a documented command: the project's kubectl, helm and kustomize first on PATH,
// the session's kubeconfig, and caches of its own. What an enclosing make passes is dropped.
func commandEnv(t *testing.T, dir, kubeconfig string) []string {
	t.Helper()
	toolsOnce.Do(func() { toolsDir, toolsErr = linkTools() })
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if slices.Contains([]string{"PATH", "KUBECONFIG", "KUBECACHEDIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}, k) || strings.HasPrefix(k, "HELM_") {
			continue
		}
		env = append(env, kv)
	}
	helmHome := filepath.Join(dir, "helm")
	return append(env,
		"PATH="+toolsDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig,
		"KUBECACHEDIR="+filepath.Join(dir, "kube-cache"),
		"HELM_CACHE_HOME="+helmHome, "HELM_CONFIG_HOME="+helmHome, "HELM_DATA_HOME="+helmHome,
	)
}

// linkTools makes a folder of links to the project's kubectl, helm and kustomize, for PATH.
func linkTools() (string, error) {
	kubectl, err := localcluster.Kubectl()
	if err != nil {
		return "", err
	}
	helm, err := toolBinary("HELM_BINARY", "helm")
	if err != nil {
		return "", err
	}
	kustomize, err := toolBinary("KUSTOMIZE_BINARY", "kustomize")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "tenant-operator-docs-tools-")
	if err != nil {
		return "", err
	}
	for name, target := range map[string]string{"kubectl": kubectl, "helm": helm, "kustomize": kustomize} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// toolBinary is $<env> (make test sets it), else the newest bin/<name>-*/<name> make tools built.
func toolBinary(env, name string) (string, error) {
	if b := os.Getenv(env); b != "" {
		return b, nil
	}
	found, _ := filepath.Glob(filepath.Join(repoRoot, "bin", name+"-*", name))
	if len(found) == 0 {
		return "", fmt.Errorf("%s is not built: run 'make tools' or set %s", name, env)
	}
	return found[len(found)-1], nil
}

var (
	managerOnce    sync.Once
	managerPath    string
	managerCleanup func()
	managerErr     error
)

// managerBinary is $MANAGER_BINARY (make test builds bin/manager), or a build of the repository's main package.
func managerBinary(t *testing.T) string {
	t.Helper()
	managerOnce.Do(func() { managerPath, managerCleanup, managerErr = localcluster.ManagerBinary(repoRoot) })
	if managerErr != nil {
		t.Fatal(managerErr)
	}
	return managerPath
}

// kubeVersion is the local control plane's version, from the module that builds it.
func kubeVersion() (string, error) {
	return moduleVersion(filepath.Join(repoRoot, "hack", "tools", "k8s", "go.mod"), "k8s.io/kubernetes")
}

// moduleVersion reads the version a go.mod requires of a module.
func moduleVersion(goMod, module string) (string, error) {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == module {
				return f[i+1], nil
			}
		}
	}
	return "", fmt.Errorf("%s does not require %s", goMod, module)
}

// report collects each step's result.
type report struct {
	mu      sync.Mutex
	results map[*step]string
}

func (r *report) set(st *step, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results[st] = result
}

// markdown lists every documented command, in document order, with where it ran and what came of it.
func (r *report) markdown(steps []*step) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ran, skipped := 0, 0
	rows := make([]string, 0, len(steps))
	for _, st := range steps {
		result := r.results[st]
		switch {
		case strings.HasPrefix(result, "passed"), strings.HasPrefix(result, "FAILED"):
			ran++
		case strings.HasPrefix(result, "skipped"):
			skipped++
		}
		cluster := st.cluster
		switch {
		case st.skip != "":
			cluster = ""
		case cluster == noCluster:
			cluster = "none"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | `%s` | %s |", strings.Join(st.where, ", "), cluster,
			strings.ReplaceAll(st.command, "|", `\|`), strings.ReplaceAll(result, "|", `\|`)))
	}
	return fmt.Sprintf("**Documented commands** (test/docs): %d run, %d skipped\n\n| where | cluster | command | result |\n"+
		"| --- | --- | --- | --- |\n%s\n", ran, skipped, strings.Join(rows, "\n"))
}

// summary is an error on one line, shortened, for the report (the test's output has it whole).
func summary(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + " ..."
	}
	return s
}

func copyDir(src, dst string) error {
	return os.CopyFS(dst, os.DirFS(src))
}
