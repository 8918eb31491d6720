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

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// bench is the operator phase's state.
type bench struct {
	o        options
	cluster  *localcluster.Cluster
	operator *localcluster.Operator
	binary   string
	k8s      client.Client
	tenants  cache.Cache
	audit    auditLog
	token    string
	peak     int64
}

func measureOperator(ctx context.Context, root string, o options, r *report) error {
	cluster, err := startCluster(ctx, root)
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()
	b := &bench{o: o, cluster: cluster, binary: o.manager, audit: auditLog{cluster.AuditLogPath}}
	if b.k8s, err = benchClient(cluster); err != nil {
		return err
	}
	if err := b.start(ctx); err != nil {
		return err
	}
	if err := b.provision(ctx, r); err != nil {
		return err
	}
	if err := b.restart(ctx, r); err != nil {
		return err
	}
	if err := b.idle(ctx, r); err != nil {
		return err
	}
	if err := b.drift(ctx, r); err != nil {
		return err
	}
	_, peak, _ := processMemory(b.operator.Pid())
	r.Memory.PeakRSSMiB = mib(max(b.peak, peak))
	return nil
}

// start runs the operator, gets a token to scrape its metrics, and starts watching the Tenants.
func (b *bench) start(ctx context.Context) error {
	if err := b.startOperator(ctx); err != nil {
		return err
	}
	var err error
	if b.token, err = b.cluster.MetricsReaderToken(ctx, "bench-scraper", "tenant-operator-metrics-reader"); err != nil {
		return err
	}
	return b.watchTenants(ctx)
}

func (b *bench) startOperator(ctx context.Context) error {
	var env []string
	// BENCH_OPERATOR_ENV adds to the operator's environment: GOGC=50, GODEBUG=memprofilerate=4096 for exact heap
	// profiles with BENCH_PPROF.
	env = append(env, strings.Fields(os.Getenv("BENCH_OPERATOR_ENV"))...)
	if b.o.goMemLimit != "" {
		env = append(env, "GOMEMLIMIT="+b.o.goMemLimit)
	}
	op, err := b.cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: b.binary, Env: env, Args: []string{
		"--kube-api-qps=" + strconv.FormatFloat(b.o.qps, 'f', -1, 64),
		"--kube-api-burst=" + strconv.Itoa(b.o.burst),
		"--max-concurrent-reconciles=" + strconv.Itoa(b.o.workers),
		"--pprof-bind-address=" + os.Getenv("BENCH_PPROF"),
	}})
	b.operator = op
	return err
}

// provision creates N tenants at once and waits until every one has every object applied.
func (b *bench) provision(ctx context.Context, r *report) error {
	var (
		mu       sync.Mutex
		quarterN int64
	)
	sampling, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() {
		_ = wait.PollUntilContextCancel(sampling, 500*time.Millisecond, true, func(context.Context) (bool, error) {
			if done, _ := b.provisioned(); done >= b.o.n/4 {
				rss, _, _ := processMemory(b.operator.Pid())
				mu.Lock()
				if quarterN == 0 {
					quarterN = rss
				}
				mu.Unlock()
				saveProfiles(filepath.Dir(b.o.jsonPath), "quarter")
				return true, nil
			}
			return false, nil
		})
	}()
	from := b.audit.offset()
	start := time.Now()
	if err := parallel(ctx, b.o.n, 8, func(ctx context.Context, i int) error {
		return b.k8s.Create(ctx, benchTenant(i, b.o.n))
	}); err != nil {
		return err
	}
	lastLog := time.Now()
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		done, failed := b.provisioned()
		if failed != "" {
			return false, fmt.Errorf("tenant %s failed", failed)
		}
		if time.Since(lastLog) > 10*time.Second {
			logf("operator: %d of %d tenants provisioned", done, b.o.n)
			lastLog = time.Now()
		}
		return done == b.o.n, nil
	}); err != nil {
		return err
	}
	r.Provisioning.Seconds = time.Since(start).Seconds()
	if r.Raw.Seconds > 0 {
		r.Provisioning.RatioToRaw = r.Provisioning.Seconds / r.Raw.Seconds
	}
	logf("operator: %d tenants provisioned in %.1fs", b.o.n, r.Provisioning.Seconds)
	// Let the last status updates and informer events settle before counting.
	if err := b.waitIdle(ctx, 0); err != nil {
		return err
	}
	byVerb, err := b.audit.requests(from, b.audit.offset())
	if err != nil {
		return err
	}
	r.API.ByVerb = byVerb
	r.API.PerTenant, r.API.Fixed = perTenant(byVerb, b.o.n)
	r.API.ObjectsPerTenant = r.Raw.ObjectsPerTenant
	stopSampling()
	mu.Lock()
	r.Memory.RSSQuarterMiB = mib(quarterN)
	mu.Unlock()
	rss, _, err := processMemory(b.operator.Pid())
	if err != nil {
		return err
	}
	r.Memory.RSSMiB = mib(rss)
	m, err := b.operator.Scrape(ctx, b.token)
	if err != nil {
		return err
	}
	r.Memory.HeapMiB = mib(int64(m.Sum("go_memstats_heap_alloc_bytes")))
	b.debugMemory("provisioned", m)
	saveProfiles(filepath.Dir(b.o.jsonPath), "provisioned")
	return nil
}

// debugMemory logs the operator's memory figures (BENCH_DEBUG), from its /proc status and its metrics m.
func (b *bench) debugMemory(when string, m localcluster.Metrics) {
	if !debugResources {
		return
	}
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.operator.Pid())); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "Rss") || strings.HasPrefix(line, "Vm") {
				logf("debug %s: %s", when, line)
			}
		}
	}
	for _, line := range strings.Split(string(m), "\n") {
		if strings.HasPrefix(line, "go_memstats_") || strings.HasPrefix(line, "process_") || strings.HasPrefix(line, "go_goroutines") {
			logf("debug %s: %s", when, line)
		}
	}
}

// saveProfiles keeps the operator's heap profiles in dir when BENCH_PPROF names its pprof address.
func saveProfiles(dir, when string) {
	addr := os.Getenv("BENCH_PPROF")
	if addr == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		logf("profiles: %v", err)
		return
	}
	for name, path := range map[string]string{"heap": "/debug/pprof/heap?gc=1", "allocs": "/debug/pprof/allocs"} {
		resp, err := http.Get("http://" + addr + path) //nolint:gosec,noctx // a local profiling aid
		if err != nil {
			logf("profile %s: %v", name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err := os.WriteFile(filepath.Join(dir, "bench-"+when+"-"+name+".pprof"), b, 0o600); err != nil {
			logf("profile %s: %v", name, err)
		}
	}
}

// provisioned counts the tenants whose status, for their current spec, has every condition True but BackendReady
// (no pod runs without a node), and names one that failed, if any.
func (b *bench) provisioned() (done int, failed string) {
	var list tenancyv1alpha1.TenantList
	if err := b.tenants.List(context.Background(), &list); err != nil {
		return 0, ""
	}
	for _, t := range list.Items {
		if t.Status.Phase == tenancyv1alpha1.TenantPhaseFailed {
			return done, t.Name
		}
		if t.Status.ObservedGeneration != t.Generation || len(t.Status.Conditions) < 7 {
			continue
		}
		ok := true
		for _, c := range t.Status.Conditions {
			if c.Type != tenancyv1alpha1.ConditionBackendReady && c.Type != tenancyv1alpha1.ConditionReady && c.Status != metav1.ConditionTrue {
				ok = false
			}
		}
		if ok {
			done++
		}
	}
	return done, ""
}

// watchTenants keeps the benchmark's view of Tenants in an informer: polling a list of a thousand Tenants would
// load the apiserver more than the operator does.
func (b *bench) watchTenants(ctx context.Context) error {
	c, err := cache.New(b.cluster.Config, cache.Options{Scheme: controllers.NewScheme(),
		ByObject: map[client.Object]cache.ByObject{&tenancyv1alpha1.Tenant{}: {}}})
	if err != nil {
		return err
	}
	if _, err := c.GetInformer(ctx, &tenancyv1alpha1.Tenant{}); err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("tenant informer did not sync")
	}
	b.tenants = c
	return nil
}

// restart stops the operator and starts it again with every tenant in place: it must re-reconcile them all and
// rewrite nothing.
func (b *bench) restart(ctx context.Context, r *report) error {
	before, err := b.resourceVersions(ctx)
	if err != nil {
		return err
	}
	_, peak, _ := processMemory(b.operator.Pid())
	b.peak = max(b.peak, peak)
	if err := b.operator.Stop(); err != nil {
		return err
	}
	from := b.audit.offset()
	start := time.Now()
	if err := b.startOperator(ctx); err != nil {
		return err
	}
	if err := b.waitIdle(ctx, b.o.n); err != nil {
		return err
	}
	r.Restart.Seconds = time.Since(start).Seconds()
	after, err := b.resourceVersions(ctx)
	if err != nil {
		return err
	}
	r.Restart.Objects = len(before)
	r.Restart.Rewritten = changed(before, after)
	byVerb, err := b.audit.requests(from, b.audit.offset())
	if err != nil {
		return err
	}
	r.Restart.ByVerb = byVerb
	r.Restart.Writes = writes(byVerb)
	rss, _, err := processMemory(b.operator.Pid())
	if err != nil {
		return err
	}
	r.Memory.RSSAfterRestartMiB = mib(rss)
	m, err := b.operator.Scrape(ctx, b.token)
	if err != nil {
		return err
	}
	r.Memory.HeapAfterRestartMiB = mib(int64(m.Sum("go_memstats_heap_alloc_bytes")))
	b.debugMemory("restart", m)
	saveProfiles(filepath.Dir(b.o.jsonPath), "restart")
	logf("restart: %d of %d objects rewritten, %d writes", r.Restart.Rewritten, r.Restart.Objects, r.Restart.Writes)
	return nil
}

// idle leaves the operator alone and counts what it writes.
func (b *bench) idle(ctx context.Context, r *report) error {
	logf("idle: watching the operator for %s", b.o.idle)
	before, err := b.resourceVersions(ctx)
	if err != nil {
		return err
	}
	from := b.audit.offset()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(b.o.idle):
	}
	byVerb, err := b.audit.requests(from, b.audit.offset())
	if err != nil {
		return err
	}
	after, err := b.resourceVersions(ctx)
	if err != nil {
		return err
	}
	r.Idle.Seconds = b.o.idle.Seconds()
	r.Idle.ByVerb = byVerb
	r.Idle.Writes = writes(byVerb)
	r.Idle.Rewritten = changed(before, after)
	r.Idle.RewrittenKinds = countStrings(changedKinds(before, after))
	return nil
}

// drift deletes the default-deny NetworkPolicy of many tenants at once and counts what repairing them costs.
func (b *bench) drift(ctx context.Context, r *report) error {
	n := min(b.o.driftTenants, b.o.n)
	m, err := b.operator.Scrape(ctx, b.token)
	if err != nil {
		return err
	}
	reconcilesBefore := m.Sum("controller_runtime_reconcile_total", `controller="tenant"`)
	from := b.audit.offset()
	start := time.Now()
	if err := parallel(ctx, n, 8, func(ctx context.Context, i int) error {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName(i), Name: render.PolicyDefaultDeny}}
		return b.k8s.Delete(ctx, np)
	}); err != nil {
		return err
	}
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for i := range n {
			err := b.k8s.Get(ctx, client.ObjectKey{Namespace: tenantName(i), Name: render.PolicyDefaultDeny}, &networkingv1.NetworkPolicy{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	r.Drift.Seconds = time.Since(start).Seconds()
	if err := b.waitIdle(ctx, 0); err != nil {
		return err
	}
	if m, err = b.operator.Scrape(ctx, b.token); err != nil {
		return err
	}
	r.Drift.Tenants = n
	r.Drift.Reconciles = int(m.Sum("controller_runtime_reconcile_total", `controller="tenant"`) - reconcilesBefore)
	byVerb, err := b.audit.requests(from, b.audit.offset())
	if err != nil {
		return err
	}
	r.Drift.ByVerb = byVerb
	r.Drift.Requests, _ = perTenant(byVerb, 1)
	logf("drift: %d policies restored in %.1fs, %d reconciles", n, r.Drift.Seconds, r.Drift.Reconciles)
	return nil
}

// waitIdle waits until the operator has reconciled at least min tenants since it started and has nothing queued
// or in progress, twice in a row a second apart.
func (b *bench) waitIdle(ctx context.Context, minReconciles int) error {
	quiet := 0
	return wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		m, err := b.operator.Scrape(ctx, b.token)
		if err != nil {
			return false, nil
		}
		busy := m.Sum("workqueue_depth", `name="tenant"`) > 0 || m.Sum("controller_runtime_active_workers", `controller="tenant"`) > 0 ||
			m.Sum("controller_runtime_reconcile_total", `controller="tenant"`) < float64(minReconciles)
		if busy {
			quiet = 0
			return false, nil
		}
		quiet++
		return quiet >= 2, nil
	})
}

// resourceVersions maps every managed object and every Tenant to its resourceVersion.
func (b *bench) resourceVersions(ctx context.Context) (map[string]string, error) {
	rvs := map[string]string{}
	for _, list := range []client.ObjectList{
		&tenancyv1alpha1.TenantList{}, &corev1.NamespaceList{}, &networkingv1.NetworkPolicyList{}, &rbacv1.RoleBindingList{},
		&rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{},
		&corev1.SecretList{}, &corev1.ServiceAccountList{}, &corev1.ServiceList{}, &appsv1.DeploymentList{},
		&policyv1.PodDisruptionBudgetList{},
	} {
		var opts []client.ListOption
		if _, isTenant := list.(*tenancyv1alpha1.TenantList); !isTenant {
			opts = append(opts, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue})
		}
		if err := b.k8s.List(ctx, list, opts...); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			o := item.(client.Object)
			rvs[fmt.Sprintf("%T/%s/%s", o, o.GetNamespace(), o.GetName())] = o.GetResourceVersion()
		}
	}
	return rvs, nil
}

func changed(before, after map[string]string) int {
	return len(changedKinds(before, after))
}

// changedKinds lists the type of every object whose resourceVersion moved, to tell who changed it.
func changedKinds(before, after map[string]string) []string {
	var kinds []string
	for k, rv := range after {
		if before[k] != rv {
			kinds = append(kinds, strings.SplitN(k, "/", 2)[0])
		}
	}
	sort.Strings(kinds)
	return kinds
}

func countStrings(in []string) map[string]int {
	out := map[string]int{}
	for _, s := range in {
		out[s]++
	}
	return out
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
