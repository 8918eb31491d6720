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
	"crypto/rand"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// measureRaw applies the objects the operator would create for N new tenants (rendered by its own pure functions,
// in its order) straight to a fresh cluster, with the operator's identity, client settings and concurrency: the
// fastest the operator could possibly go.
func measureRaw(ctx context.Context, root string, o options, r *report) error {
	cluster, err := startCluster(ctx, root)
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()
	c, err := operatorClient(ctx, cluster, o)
	if err != nil {
		return err
	}
	rendered, err := renderTenants(o.n, o.n)
	if err != nil {
		return err
	}
	for _, objs := range rendered {
		r.Raw.Objects += len(objs)
	}
	start := time.Now()
	err = parallel(ctx, o.n, o.workers, func(ctx context.Context, i int) error {
		for _, u := range rendered[i] {
			if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(controllers.FieldOwner), client.ForceOwnership); err != nil {
				return err
			}
		}
		return nil
	})
	r.Raw.Seconds = time.Since(start).Seconds()
	r.Raw.ObjectsPerTenant = float64(r.Raw.Objects) / float64(o.n)
	logf("raw: %d objects in %.1fs", r.Raw.Objects, r.Raw.Seconds)
	return err
}

// renderTenants renders the objects of the first count of n new bench tenants (each allows the next one in) with
// the operator's own functions, in its order.
func renderTenants(count, n int) ([][]*unstructured.Unstructured, error) {
	cfg := render.DefaultConfig()
	ca, err := pki.NewCA(cfg.ClusterDomain, time.Now(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rendered := make([][]*unstructured.Unstructured, count)
	for i := range count {
		// Tenant i-1 allows tenant i in: tenant i has egress to its back-end.
		allowedBy := []*tenancyv1alpha1.Tenant{benchTenant((i+n-1)%n, n)}
		if rendered[i], err = controllers.RenderNewTenant(benchTenant(i, n), allowedBy, cfg, ca, time.Now(), rand.Reader); err != nil {
			return nil, err
		}
	}
	return rendered, nil
}
