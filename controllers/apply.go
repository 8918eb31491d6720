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
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/slimcache"
	"github.com/tenant-operator/tenant-operator/controllers/ssa"
)

// change is what applying one desired object did.
type change int

const (
	changeNone     change = iota // already as desired, or the apply changed nothing
	changeCreated                // it did not exist
	changeUpdated                // it differed, and now is as desired
	changeRotated                // a generated secret got new values
	changePending                // created moments ago, not in the cache yet: left for the next pass
	changeConflict               // someone else's object holds the name: left untouched
)

// applied is one desired object and what applying it did.
type applied struct {
	render.Object
	change change
}

// applyResults records what the apply did: each object's change, and per area the first failure met (later ones
// add to the error only).
type applyResults struct {
	changes  []applied
	failures map[render.Area]render.Problem
	errs     []error
	// quotaCreated: this pass created the ResourceQuota. requeueSoon: an object created moments ago is not in the
	// cache yet, so this pass could not check it. conflicts: someone else's object holds a desired name.
	quotaCreated, requeueSoon, conflicts bool
}

func (r *applyResults) fail(a render.Area, p render.Problem, err error) {
	if r.failures == nil {
		r.failures = map[render.Area]render.Problem{}
	}
	if _, seen := r.failures[a]; !seen {
		r.failures[a] = p
	}
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

func (r applyResults) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d object(s) could not be applied: %w", len(r.errs), r.errs[0])
}

// apply applies every desired object that is not already as desired, after checking it is not someone else's. It
// carries on past a failure so that one bad object does not hold back the others; the results say what happened to
// each object and area.
func (r *TenantReconciler) apply(ctx context.Context, s *tenantScope) error {
	results := &s.results
	// What the spec asked for and the builders refused is the area's first failure: it needs the admin.
	for _, p := range s.desired.Refused {
		results.fail(p.Area, p.Problem, nil)
	}
	for _, d := range s.desired.Objects {
		c, err := r.applyOne(ctx, s, d)
		switch {
		case err != nil:
			results.fail(d.Area, render.Problem{Reason: tenancyv1alpha1.ReasonApplyFailed,
				Message: fmt.Sprintf("applying %s %s: %v", kindOf(d.Obj), d.Obj.GetName(), apierrors.ReasonForError(err))}, err)
			continue
		case c == changePending:
			results.requeueSoon = true
			continue
		case c == changeConflict:
			results.fail(d.Area, conflictProblem(d.Obj), nil)
			results.conflicts = true
			results.changes = append(results.changes, applied{Object: d, change: c})
			continue
		case c == changeCreated && kindOf(d.Obj) == "Namespace":
			// In a namespace this pass created, nothing but what the operator creates can exist yet (access is
			// granted last), so objects missing from the cache need no second look at the apiserver.
			s.namespaceCreated = true
		case c == changeCreated && kindOf(d.Obj) == "ResourceQuota":
			results.quotaCreated = true
		}
		// Generated values only: a shared Secret's copy comes from its original, and would cost memory per tenant.
		if secret, ok := d.Obj.(*corev1.Secret); ok && secret.Labels[render.LabelComponent] != render.ComponentShared {
			s.memo.secrets.remember(secret)
		}
		results.changes = append(results.changes, applied{Object: d, change: c})
	}
	return nil
}

// conflictProblem: someone else's object holds a desired object's name.
func conflictProblem(obj client.Object) render.Problem {
	return render.Problem{Reason: tenancyv1alpha1.ReasonObjectConflict, Message: fmt.Sprintf(
		"%s %s/%s exists and was not created by tenant-operator for this tenant; it was left untouched",
		kindOf(obj), obj.GetNamespace(), obj.GetName())}
}

// applyOne brings one desired object to its desired state, sending nothing when it already is.
func (r *TenantReconciler) applyOne(ctx context.Context, s *tenantScope, d render.Object) (change, error) {
	want, err := ssa.Request(d.Obj, r.Scheme())
	if err != nil {
		return changeNone, err
	}
	current, pending, err := r.current(ctx, s, d.Obj)
	switch {
	case err != nil:
		return changeNone, err
	case pending:
		return changePending, nil
	case current == nil:
		if err := fieldManager.Apply(ctx, r.Client, want); err != nil {
			return changeNone, err
		}
		s.memo.expectations.created(objectKey(d.Obj))
		return changeCreated, nil
	case !isManagedBy(current, s.tenant.Name):
		return changeConflict, nil
	}
	if slimcache.MarkedForeign(current) || fieldManager.HasForeignFields(current) {
		// Take them over first, so that the apply removes them (see ssa.FieldManager.HasForeignFields).
		if err := fieldManager.TakeOverForeignFields(ctx, r.APIReader, r.Client, current); err != nil {
			return changeNone, err
		}
	} else if same, err := upToDate(current, want); err != nil || same {
		return changeNone, err
	}
	if err := fieldManager.Apply(ctx, r.Client, want); err != nil {
		return changeNone, err
	}
	switch {
	case d.Rotated:
		return changeRotated, nil
	case want.GetResourceVersion() == current.GetResourceVersion():
		// The apply changed nothing after all (a value the apiserver normalises).
		return changeNone, nil
	case s.namespaceCreated:
		// Only the namespace this pass claimed exists here before its apply: the apply completes its creation.
		return changeCreated, nil
	}
	return changeUpdated, nil
}

// upToDate reports whether applying want would change nothing: the fields the operator owns in the stored object
// hold exactly what want sets. current comes from the cache, which recorded the owned fields' hash, or from the
// apiserver, with its managed fields.
func upToDate(current client.Object, want *unstructured.Unstructured) (bool, error) {
	owned := slimcache.CachedOwnedFieldsHash(current)
	if owned == "" {
		var err error
		if owned, err = fieldManager.OwnedFieldsHash(current); err != nil {
			return false, err
		}
	}
	desired, err := ssa.RequestHash(want)
	return owned == desired, err
}

// current reads the stored version of a desired object from the cache. The cache holds every object of the kinds
// cachedWhole, but only the operator's objects of other kinds: one of those missing from the cache is read from the
// apiserver, so that an object someone else created under the same name is seen and left alone, unless it lives in
// a namespace this pass created. pending says the operator created the object moments ago and the cache has not
// caught up.
func (r *TenantReconciler) current(ctx context.Context, s *tenantScope, desired client.Object) (obj client.Object, pending bool, err error) {
	obj, err = ssa.NewObjectLike(desired)
	if err != nil {
		return nil, false, err
	}
	key := client.ObjectKeyFromObject(desired)
	err = r.Get(ctx, key, obj)
	switch {
	case err == nil:
		s.memo.expectations.observed(objectKey(desired))
		return obj, false, nil
	case !apierrors.IsNotFound(err):
		return nil, false, err
	case s.memo.expectations.pending(objectKey(desired)):
		return nil, true, nil
	case cachedWhole(desired) || s.namespaceCreated:
		return nil, false, nil
	}
	if err := r.APIReader.Get(ctx, key, obj); err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	return obj, false, nil
}

// objectKey names an object by kind, namespace and name.
func objectKey(obj client.Object) string {
	return kindOf(obj) + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

// RenderNewTenant returns the server-side apply requests the operator sends for a tenant it sees for the first
// time, allowed in by the tenants allowedBy (see render.Observed), in the order it sends them. The benchmark applies
// them directly to measure the apiserver's own limit.
func RenderNewTenant(t *tenancyv1alpha1.Tenant, allowedBy []*tenancyv1alpha1.Tenant, cfg render.Config, ca *pki.CA, now time.Time, rand io.Reader) ([]*unstructured.Unstructured, error) {
	d, err := render.DesiredState(t, cfg, render.Observed{Secrets: map[string]*corev1.Secret{}, CA: ca, Now: now, Rand: rand, AllowedBy: allowedBy})
	if err != nil {
		return nil, err
	}
	scheme := NewScheme()
	out := make([]*unstructured.Unstructured, 0, len(d.Objects))
	for _, o := range d.Objects {
		u, err := ssa.Request(o.Obj, scheme)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
