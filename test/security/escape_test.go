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

// Package security is the tenant-escape suite: with the operator running under its own ServiceAccount and the
// guardrail policies installed, two tenants' owners, members and viewers (by impersonation) try everything the
// multi-tenancy benchmarks (MTB) check, and more. Every attempt must be refused; every legitimate action must pass.
// The suite ends with a table that must read "0 escaped".
package security

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

var (
	cluster *localcluster.Cluster
	admin   client.Client
	ledger  = &results{}
)

// The cast: two tenants, their people, identified as the cluster's SSO would (users and groups).
const (
	alphaNS = "alpha"
	betaNS  = "beta"
	sandbox = "gvisor"
)

var (
	alphaOwner  = person{"alice@alpha.example", []string{"sso:alpha-admins"}}
	alphaMember = person{"amy@alpha.example", []string{"sso:alpha-devs"}}
	alphaViewer = person{"avery@alpha.example", nil}
	betaOwner   = person{"bob@beta.example", []string{"sso:beta-admins"}}
)

type person struct {
	name   string
	groups []string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code := run(m)
	table := ledger.table()
	fmt.Print(table)
	// go test shows a passing package's output only with -v: make test prints the report file instead.
	if path := os.Getenv("SECURITY_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "writing the security report:", err)
			code = 1
		}
	}
	if ledger.escaped() > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := localcluster.RepoRoot()
	if err != nil {
		return fail(err)
	}
	binary, cleanup, err := localcluster.ManagerBinary(root)
	if err != nil {
		return fail(err)
	}
	defer cleanup()
	if cluster, err = localcluster.Start(ctx, localcluster.Options{}); err != nil {
		return fail(err)
	}
	defer func() { _ = cluster.Stop() }()
	if err := cluster.InstallOperatorManifests(ctx, filepath.Join(root, "config", "default")); err != nil {
		return fail(err)
	}
	if _, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: binary}); err != nil {
		return fail(err)
	}
	if admin, err = client.New(cluster.Config, client.Options{Scheme: suiteScheme()}); err != nil {
		return fail(err)
	}
	if err := createTenants(ctx); err != nil {
		return fail(err)
	}
	if err := waitForGuardrails(ctx); err != nil {
		return fail(err)
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "security suite setup:", err)
	return 1
}

func createTenants(ctx context.Context) error {
	if err := admin.Create(ctx, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: sandbox}, Handler: "runsc"}); err != nil {
		return err
	}
	subject := func(p person) []tenancyv1alpha1.Subject {
		if len(p.groups) > 0 {
			return []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: p.groups[0]}}
		}
		return []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: p.name}}
	}
	alpha := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: alphaNS}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: subject(alphaOwner), Members: subject(alphaMember), Viewers: subject(alphaViewer),
		Quota: &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceRequestsCPU: qty("2"), corev1.ResourceRequestsMemory: qty("2Gi"),
			corev1.ResourceLimitsCPU: qty("4"), corev1.ResourceLimitsMemory: qty("4Gi"), corev1.ResourcePods: qty("10"),
		}},
		Backend: &tenancyv1alpha1.BackendSpec{Image: "registry.example/alpha/api:1", RuntimeClassName: ptrTo(sandbox)},
		Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
		Network: &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{betaNS}},
	}}
	beta := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: betaNS}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: subject(betaOwner), PreventDeletion: true, Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "api-key"}},
	}}
	for _, t := range []*tenancyv1alpha1.Tenant{alpha, beta} {
		if err := admin.Create(ctx, t); err != nil {
			return err
		}
	}
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, name := range []string{alphaNS, betaNS} {
			t := &tenancyv1alpha1.Tenant{}
			if err := admin.Get(ctx, client.ObjectKey{Name: name}, t); err != nil {
				return false, err
			}
			for _, c := range []string{tenancyv1alpha1.ConditionNamespaceReady, tenancyv1alpha1.ConditionNetworkIsolated,
				tenancyv1alpha1.ConditionAccessConfigured, tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ConditionSecretsReady} {
				if !meta.IsStatusConditionTrue(t.Status.Conditions, c) {
					return false, nil
				}
			}
		}
		return true, nil
	})
}

// waitForGuardrails waits until the apiserver enforces the guardrail policies (they take effect moments after they
// are created), probing with dry runs that create nothing, so that no attempt can slip through that window.
func waitForGuardrails(ctx context.Context) error {
	owner, err := client.New(impersonating(alphaOwner), client.Options{})
	if err != nil {
		return err
	}
	probes := []client.Object{
		alphaService("probe", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }),
		restrictedPod(alphaNS, "probe", func(p *corev1.Pod) { container(p).ImagePullPolicy = corev1.PullIfNotPresent }),
		restrictedPod(alphaNS, "probe", func(p *corev1.Pod) { p.Spec.RuntimeClassName = nil }),
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, probe := range probes {
			if !apierrors.IsForbidden(owner.Create(ctx, probe.DeepCopyObject().(client.Object), client.DryRunAll)) {
				return false, nil
			}
		}
		return true, nil
	})
}

// impersonating is the cluster admin's configuration acting as p, authenticated as the cluster's SSO would report p.
func impersonating(p person) *rest.Config {
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: p.name, Groups: append([]string{"system:authenticated"}, p.groups...)}
	return cfg
}

// as returns a client acting as p through impersonation by the cluster admin.
func as(t *testing.T, p person) client.Client {
	t.Helper()
	c, err := client.New(impersonating(p), client.Options{Scheme: suiteScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// suiteScheme is the operator's scheme plus the CRD types, which tenants try to list.
func suiteScheme() *runtime.Scheme {
	s := controllers.NewScheme()
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	return s
}

// results is the suite's ledger for the closing table.
type results struct {
	mu                             sync.Mutex
	attempts, blocked, legit, okay int
	escapes                        []string
}

func (r *results) escaped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.escapes)
}

func (r *results) table() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.Strings(r.escapes)
	var b strings.Builder
	b.WriteString("\n| tenant-escape suite | count |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| escape attempts tried | %d |\n| escape attempts blocked | %d |\n", r.attempts, r.blocked)
	fmt.Fprintf(&b, "| legitimate actions tried | %d |\n| legitimate actions allowed | %d |\n", r.legit, r.okay)
	fmt.Fprintf(&b, "\n%d escaped\n", len(r.escapes))
	for _, e := range r.escapes {
		fmt.Fprintf(&b, "  ESCAPED: %s\n", e)
	}
	return b.String()
}

// mustBlock runs an escape attempt and requires the apiserver to refuse it (Forbidden, or Invalid from a policy).
// Guardrail policies take effect moments after they are created, so a success is retried briefly before it counts.
func mustBlock(t *testing.T, attempt func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for {
		err = attempt(ctx)
		if err != nil || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	blocked := apierrors.IsForbidden(err) || apierrors.IsInvalid(err)
	ledger.mu.Lock()
	ledger.attempts++
	if blocked {
		ledger.blocked++
	} else {
		ledger.escapes = append(ledger.escapes, t.Name())
	}
	ledger.mu.Unlock()
	if !blocked {
		t.Errorf("ESCAPED: the attempt was not refused (err: %v)", err)
	}
}

// mustAllow runs a legitimate action and requires it to succeed.
func mustAllow(t *testing.T, action func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := action(ctx)
	ledger.mu.Lock()
	ledger.legit++
	if err == nil {
		ledger.okay++
	}
	ledger.mu.Unlock()
	if err != nil {
		t.Errorf("a legitimate action was refused: %v", err)
	}
}
