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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// retainWith creates a tenant with retention (period, then) and deletes it, returning its retained namespace.
func retainWith(ctx context.Context, t *testing.T, name string, period time.Duration, then tenancyv1alpha1.RetentionAction,
	opts ...func(*tenancyv1alpha1.Tenant)) *corev1.Namespace {
	t.Helper()
	tenant := newTenant(name, append([]func(*tenancyv1alpha1.Tenant){func(t *tenancyv1alpha1.Tenant) {
		t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyRetain
		t.Spec.Retention = &tenancyv1alpha1.RetentionSpec{Period: metav1.Duration{Duration: period}, AfterPeriod: then}
	}}, opts...)...)
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionNamespaceReady, metav1.ConditionTrue, "")
	if err := k8s.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		t.Fatal(err)
	}
	r := render.RetentionOf(ns)
	if r == nil || r.AfterPeriod != then || r.Until.Sub(r.RetainedAt) != period {
		t.Fatalf("retained namespace records retention %+v, want %s then %s", r, period, then)
	}
	return ns
}

// pokeNamespace changes the namespace as an admin would, so that the operator looks at it again now (the test clock
// moved, but the requeue it asked for is on the real one).
func pokeNamespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"test.example.com/poke":%q}}}`, time.Now().Format(time.RFC3339Nano))
	if err := k8s.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// erasing reports whether the namespace is deleted or being deleted.
func erasing(ctx context.Context, name string) (bool, error) {
	ns := &corev1.Namespace{}
	err := k8s.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	return err == nil && !ns.DeletionTimestamp.IsZero(), err
}

// TestRetentionErase: a namespace retained with afterPeriod Erase is kept, data and all, until its period is over,
// then deleted (GDPR erasure), with an Event and the metric.
func TestRetentionErase(t *testing.T) {
	ctx := needCluster(t)
	erasedBefore := testutil.ToFloat64(retentionActions.WithLabelValues(retentionErased))
	ns := retainWith(ctx, t, "erased-later", 2*time.Hour, tenancyv1alpha1.RetentionErase)
	until := render.RetentionOf(ns).Until
	eventually(ctx, t, "the retention end exported", func(context.Context) (bool, error) {
		return testutil.CollectAndCount(retentionEnd) > 0 && testutil.ToFloat64(retentionEnd.WithLabelValues(ns.Name, "Erase")) == float64(until.Unix()), nil
	})

	// An hour before the end, a look at it erases nothing and comes back at the end.
	testClock.Advance(time.Hour)
	early := &RetentionReconciler{Client: k8s, APIReader: k8s, Clock: testClock.Now}
	res, err := early.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ns)})
	if err != nil || res.RequeueAfter != time.Hour {
		t.Errorf("an hour early: requeue after %s (err %v), want 1h", res.RequeueAfter, err)
	}
	if gone, err := erasing(ctx, ns.Name); err != nil || gone {
		t.Fatalf("erased an hour before its period was over (err %v)", err)
	}

	testClock.Advance(time.Hour)
	defer testClock.Advance(-2 * time.Hour)
	pokeNamespace(ctx, t, ns.Name)
	eventually(ctx, t, "namespace erased once its period is over", func(ctx context.Context) (bool, error) { return erasing(ctx, ns.Name) })
	if got := testutil.ToFloat64(retentionActions.WithLabelValues(retentionErased)); got < erasedBefore+1 {
		t.Errorf("erased counter %v, want at least %v", got, erasedBefore+1)
	}
	waitForEvent(ctx, t, "Namespace", ns.Name, "RetentionErased", "namespace erased")
}

// TestRetentionKeep: a namespace retained with afterPeriod Keep cannot be deleted, by a cluster admin either, until
// its period is over; then the hold is lifted and the namespace stays until the admin deletes it.
func TestRetentionKeep(t *testing.T) {
	ctx := needCluster(t)
	releasedBefore := testutil.ToFloat64(retentionActions.WithLabelValues(retentionReleased))
	ns := retainWith(ctx, t, "kept-long", time.Hour, tenancyv1alpha1.RetentionKeep)
	if ns.Labels[render.LabelRetentionHold] != "true" {
		t.Fatalf("kept namespace not held: labels %v", ns.Labels)
	}
	if err := k8s.Delete(ctx, ns); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "held for its retention period") {
		t.Fatalf("deleting a held namespace: %v, want Forbidden by retention-hold", err)
	}
	// The label alone holds nothing: anyone allowed to label namespaces could otherwise make one nobody may delete.
	posing := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "posing-held", Labels: map[string]string{render.LabelRetentionHold: "true"}}}
	if err := k8s.Create(ctx, posing); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, posing); err != nil {
		t.Errorf("deleting a namespace that is no tenant's but carries the hold label: %v", err)
	}

	testClock.Advance(time.Hour)
	defer testClock.Advance(-time.Hour)
	pokeNamespace(ctx, t, ns.Name)
	eventually(ctx, t, "hold lifted once the period is over", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Name: ns.Name}, ns)
		return err == nil && ns.Labels[render.LabelRetentionHold] == "", err
	})
	if !ns.DeletionTimestamp.IsZero() || ns.Annotations[render.AnnotationRetained] != "true" {
		t.Fatalf("kept namespace deleted or no longer retained: %v", ns.Annotations)
	}
	// At least this one: moving the clock may end other tests' holds too.
	if got := testutil.ToFloat64(retentionActions.WithLabelValues(retentionReleased)); got < releasedBefore+1 {
		t.Errorf("released counter %v, want at least %v", got, releasedBefore+1)
	}
	waitForEvent(ctx, t, "Namespace", ns.Name, "RetentionReleased", "it is kept, and may now be deleted")
	if err := k8s.Delete(ctx, ns); err != nil {
		t.Errorf("the admin deletes a released namespace: %v", err)
	}
}

// TestRetentionHoldSurvivesAdoption: a Tenant that takes a held namespace back keeps the hold: with deletionPolicy
// Delete it could otherwise erase at once what must be kept. Deleting it retains the namespace, still held; once the
// period is over the hold goes.
func TestRetentionHoldSurvivesAdoption(t *testing.T) {
	ctx := needCluster(t)
	ns := retainWith(ctx, t, "held-adopted", time.Hour, tenancyv1alpha1.RetentionKeep)
	again := newTenant(ns.Name, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.AdoptRetainedNamespace = true
		t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyDelete
	})
	createTenant(ctx, t, again)
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionNamespaceReady, metav1.ConditionTrue, "")
	eventually(ctx, t, "the namespace taken back", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ns), ns)
		return err == nil && ns.Annotations[render.AnnotationRetained] == "", err
	})
	if ns.Labels[render.LabelRetentionHold] != "true" || render.Hold(ns) == nil {
		t.Fatalf("the namespace taken back lost its hold: labels %v, annotations %v", ns.Labels, ns.Annotations)
	}
	if err := k8s.Delete(ctx, ns); !apierrors.IsForbidden(err) {
		t.Fatalf("deleting a held namespace taken back: %v, want Forbidden by retention-hold", err)
	}

	// Deleting the Tenant (deletionPolicy Delete) retains the namespace instead, held as before.
	if err := k8s.Delete(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil || !ns.DeletionTimestamp.IsZero() ||
		ns.Labels[render.LabelRetentionHold] != "true" || render.RetentionOf(ns) == nil || render.RetentionOf(ns).AfterPeriod != tenancyv1alpha1.RetentionKeep {
		t.Fatalf("the held namespace after its adopter's deletion: labels %v, annotations %v, err %v; want retained and held", ns.Labels, ns.Annotations, err)
	}
	waitForEvent(ctx, t, "Tenant", again.Name, "NamespaceHeld", "")

	testClock.Advance(time.Hour)
	defer testClock.Advance(-time.Hour)
	pokeNamespace(ctx, t, ns.Name)
	eventually(ctx, t, "hold lifted once the period is over", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ns), ns)
		return err == nil && ns.Labels[render.LabelRetentionHold] == "", err
	})
}

// waitForEvent waits for an Event on the object of this kind and name (recorded in default: Tenants and namespaces
// are cluster-scoped) with this reason and a note containing note.
func waitForEvent(ctx context.Context, t *testing.T, kind, name, reason, note string) {
	t.Helper()
	eventually(ctx, t, fmt.Sprintf("a %s event on %s %s", reason, kind, name), func(ctx context.Context) (bool, error) {
		var evs eventsv1.EventList
		if err := k8s.List(ctx, &evs, client.InNamespace("default")); err != nil {
			return false, err
		}
		return slices.ContainsFunc(evs.Items, func(e eventsv1.Event) bool {
			return e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == reason && strings.Contains(e.Note, note)
		}), nil
	})
}
