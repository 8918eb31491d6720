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
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/ssa/ssatest"
)

// checkOwnedHashes compares the owned-fields hash with client-go's Extract on every object of a tenant, as stored (with
// their managed fields), and returns how many it compared.
func checkOwnedHashes(ctx context.Context, t *testing.T, c client.Client, tenant *tenancyv1alpha1.Tenant) int {
	t.Helper()
	var objects []client.Object
	for _, k := range managedKinds {
		opts := []client.ListOption{client.MatchingLabels{render.LabelTenant: tenant.Name}}
		if k.namespaced {
			opts = append(opts, client.InNamespace(render.TenantNamespace(tenant)))
		}
		list := k.list()
		if err := c.List(ctx, list, opts...); err != nil {
			t.Fatal(err)
		}
		objs, err := items(list)
		if err != nil {
			t.Fatal(err)
		}
		objects = append(objects, objs...)
	}
	// The kinds every tenant has, whatever its spec: each must have been compared.
	seen := map[string]bool{}
	for _, obj := range objects {
		seen[kindOf(obj)] = true
	}
	for _, kind := range []string{"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "Secret"} {
		if !seen[kind] {
			t.Fatalf("no %s of tenant %s to compare", kind, tenant.Name)
		}
	}
	for _, obj := range objects {
		want, err := ssatest.ExtractedOwnedFieldsHash(obj, FieldOwner)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fieldManager.OwnedFieldsHash(obj)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			content, _ := fieldManager.OwnedContent(obj)
			t.Errorf("%T %s: owned-fields hash %s, Extract gives %s; owned content %v", obj, obj.GetName(), got, want, content)
		}
	}
	return len(objects)
}
