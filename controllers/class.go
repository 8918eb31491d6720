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
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// resolveClass decides which generation of its TenantClass the tenant is rendered with: the class's current one,
// unless a change of the class is rolling out and the tenant's turn has not come, in which case it keeps the
// generation its namespace records, and comes back when its turn comes. A class that does not exist stops the pass
// for a tenant without a namespace yet (nothing is created); a tenant that has one keeps the class generation it
// has, everything else of it (its people, its suspension, rotations) still applied, and says the class is missing.
func (r *TenantReconciler) resolveClass(ctx context.Context, s *tenantScope) error {
	t := s.tenant
	class, err := r.classOf(ctx, t)
	if err != nil {
		return err
	}
	applied, hasNamespace, err := r.appliedClass(ctx, t)
	if err != nil {
		return err
	}
	if class == nil && t.Spec.ClassName != "" {
		p := &render.Problem{Reason: tenancyv1alpha1.ReasonClassNotFound, Message: fmt.Sprintf(
			"TenantClass %s does not exist; nothing was created or changed", t.Spec.ClassName)}
		if !hasNamespace {
			s.classProblem = p
			return nil
		}
		// The class it has, whichever: falling back to the operator's defaults could loosen as well as tighten.
		p.Message = fmt.Sprintf("TenantClass %s does not exist; the tenant keeps the class it has", t.Spec.ClassName)
		s.class, s.classMissing = applied, p
		return nil
	}
	var target *render.Class
	if class != nil {
		target = render.ClassOf(class)
	}
	s.class = target
	if !rollsOut(t, applied, hasNamespace, target) {
		s.memo.classTurn.release(r.Clock())
		return nil
	}
	if r.ClassRollout == nil {
		return nil // unpaced
	}
	now := r.Clock()
	to := classKey(target)
	if s.memo.classTurn.to != to {
		// A place in the roll-out's queue: tenants come back one by one at the limiter's rate, not all at every tick.
		// A class changed again before the tenant's turn gives its place back and takes a new one.
		s.memo.classTurn.release(now)
		res := r.ClassRollout.ReserveN(now, 1)
		s.memo.classTurn = classTurn{to: to, at: now.Add(res.DelayFrom(now)), reservation: res}
	}
	if at := s.memo.classTurn.at; now.Before(at) {
		s.class, s.classRetry = applied, at.Sub(now)
	}
	// Once due, the turn is kept until the namespace shows the new generation: a pass that reads a cache not caught
	// up yet must not render the old one again.
	return nil
}

// rollsOut tells whether moving the tenant from the class generation applied to its namespace to target is part of
// a class's roll-out, and so waits its turn. A new tenant gets its class at once, and so does one whose admin named
// another class: only changes the tenant's own spec does not ask for (a class's spec, which class is the default,
// the first default class of existing tenants) are paced.
func rollsOut(t *tenancyv1alpha1.Tenant, applied *render.Class, hasNamespace bool, target *render.Class) bool {
	switch {
	case !hasNamespace:
		return false
	case applied == nil:
		return target != nil && t.Spec.ClassName == ""
	case target != nil && applied.Name == target.Name:
		return !equality.Semantic.DeepEqual(applied.Spec, target.Spec)
	default:
		return t.Spec.ClassName == "" || t.Spec.ClassName == applied.Name
	}
}

// classTurn is a tenant's turn in a class roll-out: when it may move to the class generation to, and the limiter's
// reservation that holds its place.
type classTurn struct {
	to          string
	at          time.Time
	reservation *rate.Reservation
}

// release ends the turn, giving back a place not used yet.
func (c *classTurn) release(now time.Time) {
	if c.reservation != nil && now.Before(c.at) {
		c.reservation.CancelAt(now)
	}
	*c = classTurn{}
}

func classKey(c *render.Class) string {
	if c == nil {
		return "-"
	}
	return fmt.Sprintf("%s/%d", c.Name, c.Generation)
}

// classOf is the TenantClass the tenant names, or else the default class; nil when there is none.
func (r *TenantReconciler) classOf(ctx context.Context, t *tenancyv1alpha1.Tenant) (*tenancyv1alpha1.TenantClass, error) {
	if name := t.Spec.ClassName; name != "" {
		class := &tenancyv1alpha1.TenantClass{}
		if err := r.Get(ctx, client.ObjectKey{Name: name}, class); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		return class, nil
	}
	var classes tenancyv1alpha1.TenantClassList
	if err := r.List(ctx, &classes); err != nil {
		return nil, err
	}
	return DefaultClass(classes.Items), nil
}

// DefaultClass is the class marked as the default (tenancy.tenant-operator.dev/is-default-class=true); of several,
// the newest, then the first by name, as Kubernetes picks among default StorageClasses. nil when none is marked. A
// class being deleted is no one's default any more.
func DefaultClass(classes []tenancyv1alpha1.TenantClass) *tenancyv1alpha1.TenantClass {
	var out *tenancyv1alpha1.TenantClass
	for i := range classes {
		c := &classes[i]
		if c.Annotations[tenancyv1alpha1.AnnotationDefaultClass] != markedTrue || !c.DeletionTimestamp.IsZero() {
			continue
		}
		if out == nil || c.CreationTimestamp.After(out.CreationTimestamp.Time) ||
			c.CreationTimestamp.Equal(&out.CreationTimestamp) && c.Name < out.Name {
			out = c
		}
	}
	return out
}

const markedTrue = "true"

// appliedClass is the class generation the tenant's namespace records, nil for none; hasNamespace says whether the
// tenant has its namespace (one that is not the tenant's counts as none).
func (r *TenantReconciler) appliedClass(ctx context.Context, t *tenancyv1alpha1.Tenant) (applied *render.Class, hasNamespace bool, err error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: render.TenantNamespace(t)}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if !isManagedBy(ns, t.Name) {
		return nil, false, nil
	}
	return render.AppliedClass(ns), true, nil
}
