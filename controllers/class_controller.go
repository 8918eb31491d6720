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
	"math"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// indexClass indexes Tenants by the classes they are of: the one they name, or indexDefaultClass for none, and the
// one their status says they have (a tenant moving away from a class, or given the default).
const (
	indexClass        = "tenancy.tenant-operator.dev/class"
	indexDefaultClass = "<default>"
)

func tenantClassKeys(t *tenancyv1alpha1.Tenant) []string {
	keys := []string{indexDefaultClass}
	if t.Spec.ClassName != "" {
		keys[0] = t.Spec.ClassName
	}
	if c := t.Status.Class; c != nil && c.Name != keys[0] {
		keys = append(keys, c.Name)
	}
	return keys
}

// TenantClassReconciler reports each TenantClass's roll-out and keeps a class in use from being deleted: the
// deletion waits (a finalizer) until no tenant has the class, and the class-in-use guardrail refuses it outright
// while its status counts tenants.
type TenantClassReconciler struct {
	client.Client
	Recorder eventRecorder
}

// Reconcile counts the tenants of a class and how many have its current generation.
func (r *TenantClassReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	class := &tenancyv1alpha1.TenantClass{}
	if err := r.Get(ctx, req.NamespacedName, class); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	tenants, err := r.tenantsOf(ctx, class)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !class.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, class, tenants)
	}
	if !controllerutil.ContainsFinalizer(class, Finalizer) {
		patch := client.MergeFrom(class.DeepCopy())
		controllerutil.AddFinalizer(class, Finalizer)
		if err := r.Patch(ctx, class, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, r.writeStatus(ctx, class, ClassStatus(class, tenants))
}

// reconcileDelete lets a class go once no tenant has it.
func (r *TenantClassReconciler) reconcileDelete(ctx context.Context, class *tenancyv1alpha1.TenantClass, tenants []tenancyv1alpha1.Tenant) error {
	if len(tenants) > 0 {
		if err := r.writeStatus(ctx, class, ClassStatus(class, tenants)); err != nil {
			return err
		}
		if r.Recorder != nil {
			r.Recorder.Eventf(class, nil, corev1.EventTypeWarning, "ClassInUse", "Delete",
				"TenantClass %s is deleted once no Tenant has it: %s", class.Name, tenantNames(tenants))
		}
		return nil // a tenant leaving the class brings the next pass
	}
	if !controllerutil.ContainsFinalizer(class, Finalizer) {
		return nil
	}
	patch := client.MergeFrom(class.DeepCopy())
	controllerutil.RemoveFinalizer(class, Finalizer)
	return r.Patch(ctx, class, patch)
}

// tenantsOf are the Tenants of the class, by name: those naming it, those its status says have it, and, for the
// default class, those naming none.
func (r *TenantClassReconciler) tenantsOf(ctx context.Context, class *tenancyv1alpha1.TenantClass) ([]tenancyv1alpha1.Tenant, error) {
	var of tenancyv1alpha1.TenantList
	if err := r.List(ctx, &of, client.MatchingFields{indexClass: class.Name}); err != nil {
		return nil, err
	}
	tenants := of.Items
	var classes tenancyv1alpha1.TenantClassList
	if err := r.List(ctx, &classes); err != nil {
		return nil, err
	}
	if def := DefaultClass(classes.Items); def != nil && def.Name == class.Name {
		var unnamed tenancyv1alpha1.TenantList
		if err := r.List(ctx, &unnamed, client.MatchingFields{indexClass: indexDefaultClass}); err != nil {
			return nil, err
		}
		tenants = append(tenants, unnamed.Items...)
	}
	slices.SortFunc(tenants, func(a, b tenancyv1alpha1.Tenant) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(tenants, func(a, b tenancyv1alpha1.Tenant) bool { return a.Name == b.Name }), nil
}

// ClassStatus is the class's status given its tenants: how many, how many have its current generation, and whether
// that is all of them.
func ClassStatus(class *tenancyv1alpha1.TenantClass, tenants []tenancyv1alpha1.Tenant) tenancyv1alpha1.TenantClassStatus {
	s := tenancyv1alpha1.TenantClassStatus{
		ObservedGeneration: class.Generation, Tenants: int32(min(len(tenants), math.MaxInt32)), //nolint:gosec // bounded
		Conditions: slices.Clone(class.Status.Conditions),
	}
	for _, t := range tenants {
		if c := t.Status.Class; c != nil && c.Name == class.Name && c.Generation == class.Generation {
			s.UpdatedTenants++
		}
	}
	rolledOut := metav1.Condition{Type: tenancyv1alpha1.ConditionRolledOut, Status: metav1.ConditionTrue,
		Reason: tenancyv1alpha1.ReasonRolledOut, ObservedGeneration: class.Generation,
		Message: fmt.Sprintf("Every tenant of the class (%d) has generation %d", s.Tenants, class.Generation)}
	if s.UpdatedTenants < s.Tenants {
		rolledOut.Status, rolledOut.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonRollingOut
		rolledOut.Message = fmt.Sprintf("%d of %d tenants have generation %d", s.UpdatedTenants, s.Tenants, class.Generation)
	}
	meta.SetStatusCondition(&s.Conditions, rolledOut)
	return s
}

func (r *TenantClassReconciler) writeStatus(ctx context.Context, class *tenancyv1alpha1.TenantClass, st tenancyv1alpha1.TenantClassStatus) error {
	if equality.Semantic.DeepEqual(class.Status, st) {
		return nil
	}
	patch := client.MergeFrom(class.DeepCopy())
	class.Status = st
	return r.Status().Patch(ctx, class, patch)
}

// tenantNames lists the first tenants by name, and how many more there are.
func tenantNames(tenants []tenancyv1alpha1.Tenant) string {
	const shown = 5
	names := make([]string, 0, shown)
	for i := 0; i < len(tenants) && i < shown; i++ {
		names = append(names, tenants[i].Name)
	}
	out := strings.Join(names, ", ")
	if more := len(tenants) - shown; more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}

// SetupWithManager watches the classes and the tenants that count towards them.
func (r *TenantClassReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&tenancyv1alpha1.TenantClass{}).
		Watches(&tenancyv1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(r.classesOfTenant), builder.WithPredicates(classMembershipChanges())).
		Named("tenantclass").
		Complete(r)
}

// classMembershipChanges are the changes of a Tenant its classes' statuses depend on: the class it names, the class
// generation it has, its deletion. The rest of its status changes often and counts for nothing here.
func classMembershipChanges() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, okBefore := e.ObjectOld.(*tenancyv1alpha1.Tenant)
		after, okAfter := e.ObjectNew.(*tenancyv1alpha1.Tenant)
		return !okBefore || !okAfter || before.Spec.ClassName != after.Spec.ClassName ||
			!equality.Semantic.DeepEqual(before.Status.Class, after.Status.Class) ||
			before.DeletionTimestamp.IsZero() != after.DeletionTimestamp.IsZero()
	}}
}

// classesOfTenant are the classes a tenant counts towards: the one it names or has, and the default for a tenant
// naming none.
func (r *TenantClassReconciler) classesOfTenant(ctx context.Context, obj client.Object) []reconcile.Request {
	t, ok := obj.(*tenancyv1alpha1.Tenant)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, key := range tenantClassKeys(t) {
		if key != indexDefaultClass {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: key}})
			continue
		}
		var classes tenancyv1alpha1.TenantClassList
		if err := r.List(ctx, &classes); err == nil {
			if def := DefaultClass(classes.Items); def != nil {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: def.Name}})
			}
		}
	}
	return out
}

// enqueueTenantsOfClass maps a TenantClass to the Tenants it may concern: those indexed under it, and, when it is
// the default class, those naming none.
func (r *TenantReconciler) enqueueTenantsOfClass() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		out := r.tenantsIndexed(ctx, indexClass, obj.GetName())
		if obj.GetAnnotations()[tenancyv1alpha1.AnnotationDefaultClass] == markedTrue {
			out = append(out, r.tenantsIndexed(ctx, indexClass, indexDefaultClass)...)
		}
		return out
	})
}

// tenantsIndexed are the requests for the Tenants whose index field holds value; none when the cache cannot say.
func (r *TenantReconciler) tenantsIndexed(ctx context.Context, field, value string) []reconcile.Request {
	var tenants tenancyv1alpha1.TenantList
	if err := r.List(ctx, &tenants, client.MatchingFields{field: value}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(tenants.Items))
	for _, t := range tenants.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: t.Name}})
	}
	return out
}
