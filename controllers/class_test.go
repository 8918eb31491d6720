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
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// createClass creates a TenantClass and deletes it when the test ends, after the tenants naming it.
func createClass(ctx context.Context, t *testing.T, class *tenancyv1alpha1.TenantClass) {
	t.Helper()
	if err := k8s.Create(ctx, class); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var tenants tenancyv1alpha1.TenantList
		_ = k8s.List(ctx, &tenants)
		for i := range tenants.Items {
			if tenant := &tenants.Items[i]; tenant.Spec.ClassName == class.Name {
				_ = k8s.Delete(ctx, tenant)
				_ = waitGone(ctx, tenant)
			}
		}
		_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			err := k8s.Delete(ctx, class)
			return err == nil || apierrors.IsNotFound(err), nil
		})
		_ = waitGone(ctx, class)
	})
}

func classWithPods(name, pods, plan string) *tenancyv1alpha1.TenantClass {
	return &tenancyv1alpha1.TenantClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenancyv1alpha1.TenantClassSpec{
		Quota:             &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(pods)}},
		NamespaceMetadata: &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{"plan": tenancyv1alpha1.LabelValue(plan)}},
	}}
}

// quotaPods is the pods limit of a tenant namespace's quota, and its plan label ("" until they exist).
func quotaPodsAndPlan(ctx context.Context, ns string) (string, string, error) {
	q := &corev1.ResourceQuota{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.QuotaName}, q); err != nil {
		return "", "", client.IgnoreNotFound(err)
	}
	n := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
		return "", "", err
	}
	return q.Spec.Hard.Pods().String(), n.Labels["plan"], nil
}

func waitForClassStatus(ctx context.Context, t *testing.T, class *tenancyv1alpha1.TenantClass, tenants, updated int32, rolledOut metav1.ConditionStatus) {
	t.Helper()
	eventually(ctx, t, "class "+class.Name+" status", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(class), class); err != nil {
			return false, err
		}
		s := class.Status
		c := meta.FindStatusCondition(s.Conditions, tenancyv1alpha1.ConditionRolledOut)
		return s.ObservedGeneration == class.Generation && s.Tenants == tenants && s.UpdatedTenants == updated &&
			c != nil && c.Status == rolledOut, nil
	})
}

// TestTenantClassDefaultsAndOverrides: a Tenant gets its class's defaults, its own keys win, and the class's status
// counts its tenants; a class in use cannot be deleted.
func TestTenantClassDefaultsAndOverrides(t *testing.T) {
	ctx := needCluster(t)
	class := classWithPods("silver", "7", "silver")
	createClass(ctx, t, class)
	plain := newTenant("cls-plain", func(t *tenancyv1alpha1.Tenant) { t.Spec.ClassName = "silver" })
	own := newTenant("cls-own", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.ClassName = "silver"
		t.Spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("3")}}
	})
	createTenant(ctx, t, plain)
	createTenant(ctx, t, own)
	for tenant, want := range map[*tenancyv1alpha1.Tenant]string{plain: "7", own: "3"} {
		eventually(ctx, t, tenant.Name+" quota and plan", func(ctx context.Context) (bool, error) {
			pods, plan, err := quotaPodsAndPlan(ctx, tenant.Name)
			return pods == want && plan == "silver", err
		})
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
		if c := tenant.Status.Class; c == nil || c.Name != "silver" || c.Generation != class.Generation {
			t.Errorf("%s status.class = %+v", tenant.Name, c)
		}
	}
	waitForClassStatus(ctx, t, class, 2, 2, metav1.ConditionTrue)

	err := k8s.Delete(ctx, class)
	if err == nil || !strings.Contains(err.Error(), "give them another class") {
		t.Fatalf("deleting a class in use: %v, want refused by the tenant-class-in-use guardrail", err)
	}
}

// TestClassRolloutIsPaced: a change of a class reaches its tenants at the operator's rate (one at once, the next an
// hour later in this suite), and the class's status shows how far it got; a tenant not yet due keeps exactly what
// it had.
func TestClassRolloutIsPaced(t *testing.T) {
	ctx := needCluster(t)
	class := classWithPods("bronze", "4", "bronze")
	createClass(ctx, t, class)
	tenants := []*tenancyv1alpha1.Tenant{
		newTenant("cls-one", func(t *tenancyv1alpha1.Tenant) { t.Spec.ClassName = "bronze" }),
		newTenant("cls-two", func(t *tenancyv1alpha1.Tenant) { t.Spec.ClassName = "bronze" }),
	}
	for _, tenant := range tenants {
		createTenant(ctx, t, tenant)
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
	}
	waitForClassStatus(ctx, t, class, 2, 2, metav1.ConditionTrue)

	if err := k8s.Patch(ctx, class, client.RawPatch(types.MergePatchType,
		[]byte(`{"spec":{"quota":{"hard":{"pods":"6"}},"namespaceMetadata":{"labels":{"plan":"bronze-2"}}}}`))); err != nil {
		t.Fatal(err)
	}
	waitForClassStatus(ctx, t, class, 2, 1, metav1.ConditionFalse)
	var moved, waiting *tenancyv1alpha1.Tenant
	for _, tenant := range tenants {
		pods, plan, err := quotaPodsAndPlan(ctx, tenant.Name)
		switch {
		case err != nil:
			t.Fatal(err)
		case pods == "6" && plan == "bronze-2":
			moved = tenant
		case pods == "4" && plan == "bronze":
			waiting = tenant
		default:
			t.Fatalf("%s has quota pods %s and plan %s: half of a class generation", tenant.Name, pods, plan)
		}
	}
	if moved == nil || waiting == nil {
		t.Fatalf("moved %v, waiting %v: want one of each", moved, waiting)
	}
	if c := meta.FindStatusCondition(class.Status.Conditions, tenancyv1alpha1.ConditionRolledOut); c == nil || c.Reason != tenancyv1alpha1.ReasonRollingOut ||
		!strings.Contains(c.Message, "1 of 2") {
		t.Errorf("RolledOut condition %+v", c)
	}
	// Passes of the waiting tenant before its turn keep the generation it had.
	passes := tenantReconciles(t)
	if err := k8s.Patch(ctx, waiting, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"poke":"1"}}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "a pass of the waiting tenant", func(context.Context) (bool, error) { return tenantReconciles(t) > passes, nil })
	if pods, plan, err := quotaPodsAndPlan(ctx, waiting.Name); err != nil || pods != "4" || plan != "bronze" {
		t.Errorf("%s moved before its turn: pods %s plan %s (%v)", waiting.Name, pods, plan, err)
	}

	testClock.Advance(time.Hour)
	defer testClock.Advance(-time.Hour)
	if err := k8s.Patch(ctx, waiting, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"poke":"2"}}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, waiting.Name+" moved on its turn", func(ctx context.Context) (bool, error) {
		pods, plan, err := quotaPodsAndPlan(ctx, waiting.Name)
		return pods == "6" && plan == "bronze-2", err
	})
	waitForClassStatus(ctx, t, class, 2, 2, metav1.ConditionTrue)
}

// TestMissingClassChangesNothing: a Tenant naming a class that does not exist gets no namespace and says why; once
// the class exists it is provisioned with it. An existing tenant whose class goes missing keeps the class it has,
// and the rest of its spec still applies.
func TestMissingClassChangesNothing(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("cls-typo", func(t *tenancyv1alpha1.Tenant) { t.Spec.ClassName = "platinum" })
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonClassNotFound)
	if err := k8s.Get(ctx, client.ObjectKey{Name: tenant.Name}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace of a tenant whose class does not exist: %v", err)
	}
	createClass(ctx, t, classWithPods("platinum", "11", "platinum"))
	eventually(ctx, t, "provisioned once the class exists", func(ctx context.Context) (bool, error) {
		pods, plan, err := quotaPodsAndPlan(ctx, tenant.Name)
		return pods == "11" && plan == "platinum", err
	})

	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType,
		[]byte(`{"spec":{"className":"platinum-typo","namespaceMetadata":{"labels":{"team":"blue"}}}}`))); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionNamespaceReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonClassNotFound)
	eventually(ctx, t, "the rest of the spec applied, the class kept", func(ctx context.Context) (bool, error) {
		ns := &corev1.Namespace{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: tenant.Name}, ns); err != nil {
			return false, err
		}
		pods, plan, err := quotaPodsAndPlan(ctx, tenant.Name)
		return ns.Labels["team"] == "blue" && pods == "11" && plan == "platinum", err
	})
}

// TestDefaultClass: a Tenant naming no class gets the class marked default, and a class stops being anyone's once
// its tenants leave it, then may be deleted.
func TestDefaultClass(t *testing.T) {
	ctx := needCluster(t)
	class := classWithPods("standard", "9", "standard")
	class.Annotations = map[string]string{tenancyv1alpha1.AnnotationDefaultClass: "true"}
	createClass(ctx, t, class)
	tenant := newTenant("cls-default")
	createTenant(ctx, t, tenant)
	eventually(ctx, t, "the default class applied", func(ctx context.Context) (bool, error) {
		pods, plan, err := quotaPodsAndPlan(ctx, tenant.Name)
		return pods == "9" && plan == "standard", err
	})
	waitForClassStatus(ctx, t, class, 1, 1, metav1.ConditionTrue)

	if err := k8s.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	waitForClassStatus(ctx, t, class, 0, 0, metav1.ConditionTrue)
	if err := k8s.Delete(ctx, class); err != nil {
		t.Fatalf("deleting a class no tenant has: %v", err)
	}
	if err := waitGone(ctx, class); err != nil {
		t.Fatal(err)
	}
}

func TestRollsOut(t *testing.T) {
	gold := func(gen int64, pods string) *render.Class {
		c := &render.Class{Name: "gold", Generation: gen}
		c.Spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(pods)}}
		return c
	}
	silver := &render.Class{Name: "silver", Generation: 1}
	named := func(class string) *tenancyv1alpha1.Tenant {
		return newTenant("acme", func(t *tenancyv1alpha1.Tenant) { t.Spec.ClassName = class })
	}
	for _, tc := range []struct {
		name            string
		tenant          *tenancyv1alpha1.Tenant
		applied, target *render.Class
		hasNamespace    bool
		want            bool
	}{
		{"a new tenant gets its class at once", named("gold"), nil, gold(2, "5"), false, false},
		{"a new tenant gets the default class at once", named(""), nil, gold(2, "5"), false, false},
		{"the class's spec changed", named("gold"), gold(1, "5"), gold(2, "6"), true, true},
		{"the class changed and changed back: nothing to roll", named("gold"), gold(1, "5"), gold(3, "5"), true, false},
		{"the admin named another class", named("silver"), gold(1, "5"), silver, true, false},
		{"the admin named a class for a tenant of none", named("gold"), nil, gold(1, "5"), true, false},
		{"another class became the default", named(""), gold(1, "5"), silver, true, true},
		{"the default class is no longer marked", named(""), gold(1, "5"), nil, true, true},
		{"the first default class, for tenants there before it", named(""), nil, gold(1, "5"), true, true},
		{"no class before or now", named(""), nil, nil, true, false},
	} {
		if got := rollsOut(tc.tenant, tc.applied, tc.hasNamespace, tc.target); got != tc.want {
			t.Errorf("%s: rollsOut = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDefaultClassIsTheNewestMarked(t *testing.T) {
	at := func(name string, minute int, marked bool) tenancyv1alpha1.TenantClass {
		c := tenancyv1alpha1.TenantClass{ObjectMeta: metav1.ObjectMeta{Name: name,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC))}}
		if marked {
			c.Annotations = map[string]string{tenancyv1alpha1.AnnotationDefaultClass: "true"}
		}
		return c
	}
	for _, tc := range []struct {
		classes []tenancyv1alpha1.TenantClass
		want    string
	}{
		{nil, ""},
		{[]tenancyv1alpha1.TenantClass{at("a", 1, false)}, ""},
		{[]tenancyv1alpha1.TenantClass{at("a", 1, true), at("b", 2, false)}, "a"},
		{[]tenancyv1alpha1.TenantClass{at("a", 1, true), at("b", 2, true)}, "b"},
		{[]tenancyv1alpha1.TenantClass{at("b", 2, true), at("a", 2, true)}, "a"},
	} {
		got := ""
		if c := DefaultClass(tc.classes); c != nil {
			got = c.Name
		}
		if got != tc.want {
			t.Errorf("DefaultClass(%d classes) = %q, want %q", len(tc.classes), got, tc.want)
		}
	}
}

func TestClassStatusCountsTheRollout(t *testing.T) {
	class := &tenancyv1alpha1.TenantClass{ObjectMeta: metav1.ObjectMeta{Name: "gold", Generation: 3}}
	on := func(name string, gen int64) tenancyv1alpha1.Tenant {
		return tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: tenancyv1alpha1.TenantStatus{Class: &tenancyv1alpha1.AppliedClass{Name: "gold", Generation: gen}}}
	}
	s := ClassStatus(class, []tenancyv1alpha1.Tenant{on("a", 3), on("b", 2), {ObjectMeta: metav1.ObjectMeta{Name: "new"}}})
	c := meta.FindStatusCondition(s.Conditions, tenancyv1alpha1.ConditionRolledOut)
	if s.Tenants != 3 || s.UpdatedTenants != 1 || s.ObservedGeneration != 3 || c == nil || c.Status != metav1.ConditionFalse ||
		c.Reason != tenancyv1alpha1.ReasonRollingOut || c.Message != "1 of 3 tenants have generation 3" {
		t.Errorf("status %+v", s)
	}
	s = ClassStatus(class, []tenancyv1alpha1.Tenant{on("a", 3)})
	if c := meta.FindStatusCondition(s.Conditions, tenancyv1alpha1.ConditionRolledOut); c.Status != metav1.ConditionTrue || s.UpdatedTenants != 1 {
		t.Errorf("status %+v", s)
	}
}

// TestClassChangePrunes: what a class no longer gives its tenants (here an extra role) is taken from them when the
// change reaches them.
func TestClassChangePrunes(t *testing.T) {
	ctx := needCluster(t)
	class := &tenancyv1alpha1.TenantClass{ObjectMeta: metav1.ObjectMeta{Name: "copper"}, Spec: tenancyv1alpha1.TenantClassSpec{
		ExtraRoles: []tenancyv1alpha1.ExtraRole{{ClusterRole: extraRoleAllowed, To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}}},
	}}
	createClass(ctx, t, class)
	tenant := newTenant("cls-role", func(t *tenancyv1alpha1.Tenant) { t.Spec.ClassName = "copper" })
	createTenant(ctx, t, tenant)
	bound := func(ctx context.Context) (bool, error) {
		var bindings rbacv1.RoleBindingList
		if err := k8s.List(ctx, &bindings, client.InNamespace(tenant.Name)); err != nil {
			return false, err
		}
		for _, b := range bindings.Items {
			if b.RoleRef.Name == extraRoleAllowed {
				return true, nil
			}
		}
		return false, nil
	}
	eventually(ctx, t, "the class's extra role bound", bound)

	if err := k8s.Patch(ctx, class, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"extraRoles":null}}`))); err != nil {
		t.Fatal(err)
	}
	// Its turn in the roll-out may be hours away on the suite's clock: the roll-out test before left the limiter
	// owing tokens.
	testClock.Advance(24 * time.Hour)
	defer testClock.Advance(-24 * time.Hour)
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"poke":"1"}}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the extra role the class no longer gives unbound", func(ctx context.Context) (bool, error) {
		b, err := bound(ctx)
		return !b, err
	})
}
