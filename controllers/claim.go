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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// claim is the first phase of a pass: the tenant's namespace, or why the tenant cannot have it (claimNamespace).
func (r *TenantReconciler) claim(ctx context.Context, s *tenantScope) (err error) {
	var ns *corev1.Namespace
	s.claimProblem, s.namespaceCreated, ns, err = r.claimNamespace(ctx, s.tenant, s.memo)
	if ns != nil && s.claimProblem == nil {
		s.hold = render.Hold(ns)
	}
	return err
}

// claimNamespace makes the tenant's namespace its own, or says why it cannot be. A namespace the cache does not
// show is created, with nothing but the two labels that make it the tenant's, before anything else is written: a
// create succeeds once, so of two Tenants naming the same new namespace (a GitOps sync of a typo) exactly one wins
// it, and the other writes nothing at all. Server-side apply alone cannot decide it: both Tenants apply under the
// operator's one field manager, and the second would relabel the first one's namespace.
// created says this pass created the namespace: nothing but the operator's objects can be in it yet. found is the
// namespace as it was found, when it existed.
func (r *TenantReconciler) claimNamespace(ctx context.Context, t *tenancyv1alpha1.Tenant, memo *tenantMemo) (p *render.Problem, created bool,
	found *corev1.Namespace, err error) {
	name := render.TenantNamespace(t)
	if p := reservedNamespace(name, r.Config); p != nil {
		return p, false, nil, nil
	}
	// Every namespace is in the cache (see CacheOptions): a steady tenant's claim costs no request.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err = r.Get(ctx, client.ObjectKeyFromObject(ns), ns)
	switch {
	case err == nil:
		memo.claimedNamespace = "" // the cache knows now
		if t.Spec.AdoptRetainedNamespace && ns.Annotations[render.AnnotationRetained] == markedTrue {
			// Taking a retained namespace back: as the apiserver has it now, since its erasure may just have begun.
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil {
				return nil, false, nil, err
			}
		}
		return namespaceClaimProblem(t, ns), false, ns, nil
	case !apierrors.IsNotFound(err):
		return nil, false, nil, err
	}
	if memo.claimedNamespace == name {
		// This tenant's claim of moments ago; the cache has not shown it yet.
		return nil, false, nil, nil
	}
	claim := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: t.Name,
	}}}
	err = r.Create(ctx, claim)
	if err == nil {
		memo.claimedNamespace = name
		return nil, true, nil, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, false, nil, err
	}
	// Someone else's, or this tenant's own from a pass the cache has not caught up with: the apiserver says which.
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return nil, false, nil, err
	}
	return namespaceClaimProblem(t, ns), false, ns, nil
}

// namespaceClaimProblem is why an existing namespace is not the tenant's to use: someone else's (nothing in it is
// ever touched), or retained by a deleted Tenant and not adopted; nil when the tenant may use it.
func namespaceClaimProblem(t *tenancyv1alpha1.Tenant, ns *corev1.Namespace) *render.Problem {
	name := ns.Name
	if isManagedBy(ns, t.Name) {
		if ns.Annotations[render.AnnotationRetained] == markedTrue && !ns.DeletionTimestamp.IsZero() {
			return &render.Problem{Reason: tenancyv1alpha1.ReasonNamespaceRetained, Message: fmt.Sprintf("namespace %s, retained by a deleted Tenant %s, "+
				"is being deleted (its retention period is over, or an admin deleted it): wait until it is gone", name, t.Name)}
		}
		if ns.Annotations[render.AnnotationRetained] == markedTrue && !t.Spec.AdoptRetainedNamespace {
			return &render.Problem{Reason: tenancyv1alpha1.ReasonNamespaceRetained, Message: fmt.Sprintf("namespace %s was retained by a deleted Tenant %s, "+
				"with its data and keys; it was left untouched: set spec.adoptRetainedNamespace to take it over", name, t.Name)}
		}
		return nil
	}
	owner := "it was not created by tenant-operator"
	if other := ns.GetLabels()[render.LabelTenant]; ns.GetLabels()[render.LabelManagedBy] == render.ManagedByValue && other != "" {
		owner = "it belongs to Tenant " + other
	}
	return &render.Problem{Reason: tenancyv1alpha1.ReasonNamespaceConflict,
		Message: fmt.Sprintf("namespace %s already exists and %s; it was left untouched", name, owner)}
}

// reservedNamespace refuses the shared namespaces the operator knows of: its own, the ingress controllers', the
// monitoring scrapers' and the cluster DNS's (which every tenant's policies let in or out), and those the admin
// reserved. A tenant owning one
// would get its owners, quota and policies there, over the shared component's.
func reservedNamespace(name string, cfg render.Config) *render.Problem {
	var what string
	switch {
	case name == cfg.OperatorNamespace:
		what = "the operator's own"
	case slices.Contains(cfg.IngressNamespaces, name):
		what = "the ingress controllers'"
	case slices.Contains(cfg.MonitoringNamespaces, name):
		what = "the monitoring scrapers'"
	case name == cfg.DNSNamespace:
		what = "the cluster DNS's"
	case slices.Contains(cfg.ReservedNamespaces, name):
		what = "reserved by the operator's configuration (--reserved-namespaces)"
	default:
		return nil
	}
	return &render.Problem{Reason: tenancyv1alpha1.ReasonReservedNamespace, Message: fmt.Sprintf("namespace %s is %s and cannot belong to a tenant", name, what)}
}
