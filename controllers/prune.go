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
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// prune deletes what is no longer desired. What is desired only shrinks when the spec changes, the tenants allowing
// this one in, the class generation it has or the shared objects available to it: pruning once per change (and once after a start) spares every other pass a listing of nine
// kinds. A failure is reported with the status, and the next pass prunes again.
func (r *TenantReconciler) prune(ctx context.Context, s *tenantScope) error {
	t := s.tenant
	key := pruneKey(t, s.observed.AllowedBy, s.observed.Class, s.observed.Shared)
	if s.memo.prunedFor == key {
		return nil
	}
	err := r.pruneUndesired(ctx, s)
	// A spec change may have removed owners: what they granted ends with their ownership. Checked with every prune
	// (after a start too, and again after a failed pass), but not for a tenant never provisioned, whose namespace
	// nobody could grant anything in yet.
	if t.Status.ObservedGeneration != 0 {
		err = errors.Join(err, r.revokeGrantsOfFormerOwners(ctx, s))
	}
	// An object created moments ago that the cache has not shown yet escaped the listing; once the cache shows it
	// (its event brings a pass), the next prune deletes it if it is still not desired.
	if err == nil && !s.memo.expectations.anyPendingBut(desiredKeys(s.desired)) {
		s.memo.prunedFor = key
	}
	s.pruneErr = err
	return nil
}

// pruneKey identifies what the desired objects' names depend on: the spec, the tenants allowing this one in, with
// their back-ends' ports, the class generation, and which shared objects' originals are there.
func pruneKey(t *tenancyv1alpha1.Tenant, allowedBy []*tenancyv1alpha1.Tenant, class *render.Class, shared map[string]client.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", t.Generation)
	if class != nil {
		fmt.Fprintf(&b, " class %s", classKey(class))
	}
	for _, key := range slices.Sorted(maps.Keys(shared)) {
		fmt.Fprintf(&b, " %s", key)
	}
	for _, other := range allowedBy {
		fmt.Fprintf(&b, "/%s:%d", other.Name, render.BackendPort(other.Spec.Backend))
	}
	return b.String()
}

// desiredKeys are the object keys of what is desired.
func desiredKeys(d *render.Desired) map[string]bool {
	keys := make(map[string]bool, len(d.Objects))
	for _, o := range d.Objects {
		keys[objectKey(o.Obj)] = true
	}
	return keys
}

// pruneUndesired deletes the tenant's objects that are no longer desired (a secret removed from the spec, the
// back-end removed, an allowed tenant removed). Only objects carrying this tenant's labels are candidates.
func (r *TenantReconciler) pruneUndesired(ctx context.Context, s *tenantScope) error {
	keep := desiredKeys(s.desired)
	var errs []error
	for _, kind := range managedKinds {
		if !kind.prunable {
			continue
		}
		// Read-only: the listed objects are only compared and deleted.
		opts := []client.ListOption{client.MatchingLabels(render.ManagedLabels(s.tenant)), client.UnsafeDisableDeepCopy}
		if kind.namespaced {
			opts = append(opts, client.InNamespace(render.TenantNamespace(s.tenant)))
		}
		list := kind.list()
		if err := r.List(ctx, list, opts...); err != nil {
			errs = append(errs, err)
			continue
		}
		objs, err := items(list)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, obj := range objs {
			key := objectKey(obj)
			s.memo.expectations.observed(key) // listed: the cache shows it
			if keep[key] {
				continue
			}
			if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				errs = append(errs, err)
				continue
			}
			s.pruned = append(s.pruned, obj)
		}
	}
	return errors.Join(errs...)
}
