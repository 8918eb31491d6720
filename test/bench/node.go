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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/wait"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// measureNode provisions o.nodeTenants typical tenants on a cluster with a node, where their back-ends really run
// (the example back-end's image, two replicas each), and times them from creation to provisioned (every condition
// but BackendReady, as the main phase measures) and to Ready, back-ends available. The node is one machine of 2
// cores: the figures say what a tenant's pods add, not what a cluster would take.
func measureNode(ctx context.Context, root string, o options, r *report) error {
	if os.Getenv("TEST_NODE") == "skip" {
		r.Node.Skipped = "TEST_NODE=skip"
	} else if missing := localcluster.NodeRequirements(); missing != "" {
		r.Node.Skipped = missing
	}
	if r.Node.Skipped != "" || o.nodeTenants == 0 {
		logf("node: skipped (%s)", orNone(r.Node.Skipped))
		return nil
	}
	cluster, err := localcluster.Start(ctx, localcluster.Options{Node: true})
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()
	if err := cluster.InstallOperatorManifests(ctx, filepath.Join(root, "config", "default")); err != nil {
		return err
	}
	b := &bench{o: o, cluster: cluster, binary: o.manager}
	if b.k8s, err = benchClient(cluster); err != nil {
		return err
	}
	if err := b.startOperator(ctx); err != nil {
		return err
	}
	if err := b.watchTenants(ctx); err != nil {
		return err
	}
	_, image, err := cluster.Node.PushFixture(ctx, "backend")
	if err != nil {
		return err
	}
	logf("node: %d tenants, their back-ends running", o.nodeTenants)
	start := time.Now()
	if err := parallel(ctx, o.nodeTenants, o.workers, func(ctx context.Context, i int) error {
		return b.k8s.Create(ctx, nodeTenant(i, o.nodeTenants, image))
	}); err != nil {
		return err
	}
	r.Node.Tenants, r.Node.Pods = o.nodeTenants, 2*o.nodeTenants
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
		if done, failed := b.provisioned(); failed != "" {
			return false, fmt.Errorf("tenant %s failed", failed)
		} else if done == o.nodeTenants && r.Node.ProvisionedSeconds == 0 {
			r.Node.ProvisionedSeconds = time.Since(start).Seconds()
		}
		return b.ready() == o.nodeTenants, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the tenants on the node to be Ready: %w", err)
	}
	r.Node.ReadySeconds = time.Since(start).Seconds()
	return nil
}

// nodeTenant is benchTenant with the example back-end, small enough that two replicas of twenty tenants fit on one
// node of 2 cores.
func nodeTenant(i, n int, image string) *tenancyv1alpha1.Tenant {
	t := benchTenant(i, n)
	t.Spec.Backend.Image, t.Spec.Backend.Args = image, []string{"-addr", ":8080"}
	t.Spec.Backend.Resources = &corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}
	return t
}

// ready counts the Tenants that are Ready for their current spec.
func (b *bench) ready() int {
	var list tenancyv1alpha1.TenantList
	if err := b.tenants.List(context.Background(), &list); err != nil {
		return 0
	}
	n := 0
	for _, t := range list.Items {
		if t.Status.ObservedGeneration == t.Generation && meta.IsStatusConditionTrue(t.Status.Conditions, tenancyv1alpha1.ConditionReady) {
			n++
		}
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "-node-tenants=0"
	}
	return s
}
