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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// operatorUser is the operator's identity in config/default: the audit log records its requests only.
var operatorUser = "system:serviceaccount:" + localcluster.OperatorNamespace + ":" + localcluster.OperatorServiceAccount

var auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["` + operatorUser + `"]
  - level: None
`

// startCluster starts a local control plane as the tests do, less the deployment and replicaset controllers: with
// no node, back-end pods never run, and their availability is left out of the measurement. config/default is
// installed (RBAC, guardrail policies), so both phases pay the same admission costs.
func startCluster(ctx context.Context, root string) (*localcluster.Cluster, error) {
	cluster, err := localcluster.Start(ctx, localcluster.Options{
		Controllers: localcluster.ControllersWithout("deployment", "replicaset"), AuditPolicy: auditPolicy,
	})
	if err != nil {
		return nil, err
	}
	if err := cluster.InstallOperatorManifests(ctx, filepath.Join(root, "config", "default")); err != nil {
		return nil, errorsJoin(err, cluster.Stop())
	}
	return cluster, nil
}

func errorsJoin(a, b error) error {
	if b == nil {
		return a
	}
	return fmt.Errorf("%w; %v", a, b)
}

// operatorClient is a client with the operator's identity and client settings.
func operatorClient(ctx context.Context, cluster *localcluster.Cluster, o options) (client.Client, error) {
	cfg, err := cluster.ServiceAccountConfig(ctx, localcluster.OperatorNamespace, localcluster.OperatorServiceAccount)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	return client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
}

// benchClient is the benchmark's own admin client, fast enough never to be what is measured.
func benchClient(cluster *localcluster.Cluster) (client.Client, error) {
	cfg := rest.CopyConfig(cluster.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	return client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
}

// tenantName is the i-th tenant's name.
func tenantName(i int) string { return fmt.Sprintf("t%04d", i) }

// benchTenant is a typical tenant: owners, a quota, two generated secrets, a back-end with 2 replicas, and traffic
// allowed from one other tenant.
func benchTenant(i, n int) *tenancyv1alpha1.Tenant {
	name := tenantName(i)
	return &tenancyv1alpha1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenancyv1alpha1.TenantSpec{
			DisplayName: "Tenant " + strconv.Itoa(i),
			Owners:      []tenancyv1alpha1.Subject{{Kind: "Group", Name: name + "-admins"}},
			Quota: &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{
				"requests.cpu": resource.MustParse("2"), "requests.memory": resource.MustParse("4Gi"),
				"limits.cpu": resource.MustParse("4"), "limits.memory": resource.MustParse("8Gi"), "pods": resource.MustParse("20"),
			}},
			Network: &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{tenantName((i + 1) % n)}},
			Backend: &tenancyv1alpha1.BackendSpec{Image: "registry.example.com/app:1.0.0", Replicas: ptrTo(int32(2)), Port: ptrTo(int32(8080))},
			Secrets: []tenancyv1alpha1.GeneratedSecret{
				{Name: "db-credentials", Keys: []string{"username", "password"}},
				{Name: "api-key", Keys: []string{"key"}},
			},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// processMemory reads a process's resident set and its peak (high-water mark), in bytes.
func processMemory(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			peak = kb * 1024
		}
	}
	return rss, peak, nil
}
