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

package controllers

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// The envtest suite: the local control plane (etcd, kube-apiserver, kube-controller-manager) with the operator's
// controllers wired by SetupWithManager, the function main.go calls.
var (
	cluster *localcluster.Cluster
	k8s     client.Client
)

const testOperatorNamespace = "tenant-operator-system"

// testClock is the suite's injected clock: tests move it forward to make rotations and renewals due.
var testClock = &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testConfig() render.Config {
	cfg := render.DefaultConfig()
	cfg.OperatorNamespace = testOperatorNamespace
	cfg.ExtraRoles = []string{extraRoleAllowed}
	return cfg
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var err error
	cluster, err = localcluster.Start(ctx, localcluster.Options{
		CRDDirectoryPaths: []string{filepath.Join("..", "config", "crd", "bases")},
		Scheme:            NewScheme(),
		// Without a node no pod ever runs: the tests play the kubelet by writing the back-end Deployment's status,
		// which the deployment controller would overwrite.
		Controllers: localcluster.ControllersWithout("deployment", "replicaset"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting local cluster:", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping local cluster:", err)
		}
	}()

	if _, err := cluster.Kubectl(ctx, nil, "create", "namespace", testOperatorNamespace); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The tenant roles under the names kustomize gives them in config/default.
	roles, err := os.ReadFile(filepath.Join("..", "config", "rbac", "tenant_roles.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	roles = []byte(strings.ReplaceAll(string(roles), "  name: tenant-", "  name: tenant-operator-tenant-"))
	if err := cluster.ApplyManifests(ctx, roles); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The guardrail policies, as every cluster running the operator has them. The suite's operator and its tests act
	// as system:masters, which the policies exempt; test/security checks what they refuse.
	if _, err := cluster.Kubectl(ctx, nil, "apply", "--server-side", "-k", filepath.Join("..", "config", "policies")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := ctrl.NewManager(cluster.Config, ctrl.Options{
		Scheme:                 NewScheme(),
		Cache:                  CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating manager:", err)
		return 1
	}
	if err := SetupWithManager(mgr, Options{Config: testConfig(), MaxConcurrentReconciles: 2, Clock: testClock.Now,
		// One tenant moves to a changed class at once, the next an hour later on testClock: a test sees the pacing.
		ClassRolloutRate: 1.0 / 3600, ClassRolloutBurst: 1}); err != nil {
		fmt.Fprintln(os.Stderr, "setting up controllers:", err)
		return 1
	}
	// Tests assert through a direct client, not the manager's cache.
	if k8s, err = client.New(cluster.Config, client.Options{Scheme: NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		code = 1
	}
	return code
}

func needCluster(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane")
	}
	// An outer limit only: every wait inside is on a condition. Under -race on 2 cores with other suites running, a
	// test that passes can take a minute; a broken one fails here instead of hanging the run.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or ctx ends, failing the test with what was awaited.
func eventually(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
