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

// Command bench measures the operator on the local control plane: provisioning throughput against the apiserver's
// own limit, API cost per tenant, steady-state writes, memory, and drift repair. It prints a markdown table and
// writes the same figures as JSON. Figures are ratios and counts measured in one run: absolute times on a shared
// machine are noise, and no test asserts them.
//
//	go run ./test/bench -n 200 (make bench)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

type options struct {
	n                int
	qps              float64
	burst            int
	workers          int
	idle             time.Duration
	driftTenants     int
	nodeTenants      int
	databaseTenants  int
	jsonPath, mdPath string
	manager          string
	goMemLimit       string
	raw              bool
	reportOnly       bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 200, "number of tenants")
	flag.Float64Var(&o.qps, "kube-api-qps", 50, "the operator's client QPS (and the raw client's)")
	flag.IntVar(&o.burst, "kube-api-burst", 100, "the operator's client burst (and the raw client's)")
	flag.IntVar(&o.workers, "max-concurrent-reconciles", 4, "the operator's workers (and the raw client's)")
	flag.DurationVar(&o.idle, "idle", 5*time.Minute, "how long to watch the idle operator for writes")
	flag.IntVar(&o.driftTenants, "drift-tenants", 50, "tenants whose default-deny NetworkPolicy is deleted at once")
	flag.IntVar(&o.databaseTenants, "database-tenants", 200, "tenants of each database model provisioned against a real PostgreSQL server (0: none; TEST_DATABASE=skip skips too)")
	flag.IntVar(&o.nodeTenants, "node-tenants", 20, "tenants provisioned to Ready on a cluster with a node, back-ends running (0: none; TEST_NODE=skip skips too)")
	flag.StringVar(&o.jsonPath, "json", "bin/bench.json", "where to write the figures as JSON")
	flag.StringVar(&o.mdPath, "markdown", "bin/bench.md", "where to write the markdown table")
	flag.StringVar(&o.manager, "manager", "bin/manager", "the operator binary")
	flag.StringVar(&o.goMemLimit, "gomemlimit", "", "GOMEMLIMIT for the operator, as the chart's container memory limit would set it (empty: none)")
	flag.BoolVar(&o.raw, "raw", true, "measure the raw limit (false: operator figures only, no ratio)")
	flag.BoolVar(&o.reportOnly, "report-only", false, "exit 0 even when a target is not met (only report)")
	flag.Parse()

	// The benchmark's own informer logs nothing worth reading here.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	md := r.markdown()
	fmt.Print(md)
	if err := os.MkdirAll(filepath.Dir(o.jsonPath), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil { //nolint:gosec // a report, not a secret
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(o.mdPath, []byte(md), 0o644); err != nil { //nolint:gosec // a report, not a secret
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if unmet := r.unmet(); len(unmet) > 0 {
		fmt.Fprintf(os.Stderr, "bench: targets not met: %s\n", strings.Join(unmet, "; "))
		if !o.reportOnly {
			os.Exit(2)
		}
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// run measures everything, in two local clusters started the same way: one for the raw limit, one for the
// operator, so that neither phase pays for the other's data.
func run(ctx context.Context, o options) (*report, error) {
	r := newReport(o)
	root, err := localcluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(o.manager) {
		o.manager = filepath.Join(root, o.manager)
	}
	if o.raw {
		logf("raw: applying the objects of %d tenants directly", o.n)
		if err := measureRaw(ctx, root, o, r); err != nil {
			return nil, fmt.Errorf("raw phase: %w", err)
		}
	} else {
		// The first of N tenants: alone, a tenant would allow itself in, which renders no policy.
		rendered, err := renderTenants(1, o.n)
		if err != nil {
			return nil, err
		}
		r.Raw.ObjectsPerTenant = float64(len(rendered[0]))
	}
	logf("operator: %d tenants", o.n)
	if err := measureOperator(ctx, root, o, r); err != nil {
		return nil, fmt.Errorf("operator phase: %w", err)
	}
	if err := measureNode(ctx, root, o, r); err != nil {
		return nil, fmt.Errorf("node phase: %w", err)
	}
	if err := measureDatabase(ctx, root, o, r); err != nil {
		return nil, fmt.Errorf("database phase: %w", err)
	}
	return r, nil
}
