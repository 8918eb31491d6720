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
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;delete;deletecollection

// revokeEverything ends whatever was granted through the tenant in namespace ns, by the operator or by the tenant's
// own people: every RoleBinding; every ServiceAccount, so that every token issued to one (requested, mounted or a
// legacy token Secret) stops authenticating with it (the control plane creates "default" again, with no binding and
// a new identity); every legacy token Secret; every pod, which the retained quota keeps from coming back; and the
// copies of shared objects, which nothing keeps in sync any more. What the tenant stored (ConfigMaps, Secrets, volume claims, the workloads' definitions) stays. The cache holds only the
// operator's objects, so the tenant's are listed from the apiserver.
func (r *TenantReconciler) revokeEverything(ctx context.Context, ns string) error {
	var errs []error
	var bindings rbacv1.RoleBindingList
	if err := r.APIReader.List(ctx, &bindings, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range bindings.Items {
		errs = append(errs, client.IgnoreNotFound(r.Delete(ctx, &bindings.Items[i])))
	}
	var tokens corev1.SecretList
	if err := r.APIReader.List(ctx, &tokens, client.InNamespace(ns),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken))}); err != nil {
		return err
	}
	for i := range tokens.Items {
		errs = append(errs, client.IgnoreNotFound(r.Delete(ctx, &tokens.Items[i])))
	}
	var accounts corev1.ServiceAccountList
	if err := r.APIReader.List(ctx, &accounts, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range accounts.Items {
		errs = append(errs, client.IgnoreNotFound(r.Delete(ctx, &accounts.Items[i])))
	}
	errs = append(errs, client.IgnoreNotFound(r.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns))))
	// Copies of shared objects (registry credentials) would outlive their sync: nobody keeps them true any more.
	copies := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelComponent: render.ComponentShared}
	for _, list := range []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}} {
		if err := r.List(ctx, list, client.InNamespace(ns), copies); err != nil {
			return err
		}
		objs, err := items(list)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			errs = append(errs, client.IgnoreNotFound(r.Delete(ctx, obj)))
		}
	}
	return errors.Join(errs...)
}

// Annotations the grant-tracking admission policy writes on RoleBindings granted on a tenant's authority.
const (
	AnnotationGrantedBy       = "tenancy.tenant-operator.dev/granted-by"
	AnnotationGrantedByGroups = "tenancy.tenant-operator.dev/granted-by-groups"
)

// grantsOfFormerOwners are the RoleBindings among bindings that someone granted on the tenant's authority (the
// grant-tracking policy recorded them) and who is no longer one of owners, neither by name nor through a group.
// Bindings without the record were made by cluster admins or the operator: not the tenant's to end. The namespace's
// own ServiceAccounts (CI, GitOps agents) grant on authority an owner bound to them, which ends with that binding.
func grantsOfFormerOwners(bindings []rbacv1.RoleBinding, owners []tenancyv1alpha1.Subject, namespace string) []*rbacv1.RoleBinding {
	users, groups := map[string]bool{}, map[string]bool{}
	for _, o := range owners {
		switch o.Kind {
		case tenancyv1alpha1.SubjectUser:
			users[o.Name] = true
		case tenancyv1alpha1.SubjectGroup:
			groups[o.Name] = true
		case tenancyv1alpha1.SubjectServiceAccount:
			users["system:serviceaccount:"+o.Namespace+":"+o.Name] = true
		}
	}
	var out []*rbacv1.RoleBinding
	for i := range bindings {
		b := &bindings[i]
		grantor, tracked := b.Annotations[AnnotationGrantedBy]
		if !tracked || users[grantor] || strings.HasPrefix(grantor, "system:serviceaccount:"+namespace+":") {
			continue
		}
		if slices.ContainsFunc(strings.Split(b.Annotations[AnnotationGrantedByGroups], "\n"), func(g string) bool { return groups[g] }) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// revokeGrantsOfFormerOwners deletes the RoleBindings in the tenant's namespace granted by people who are no longer
// its owners. The tenant's own bindings are not in the cache: they are listed from the apiserver, which is why this
// runs only when the spec changes.
func (r *TenantReconciler) revokeGrantsOfFormerOwners(ctx context.Context, s *tenantScope) error {
	t := s.tenant
	var bindings rbacv1.RoleBindingList
	if err := r.APIReader.List(ctx, &bindings, client.InNamespace(render.TenantNamespace(t))); err != nil {
		return err
	}
	var errs []error
	for _, b := range grantsOfFormerOwners(bindings.Items, t.Spec.Owners, render.TenantNamespace(t)) {
		if err := r.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
			errs = append(errs, err)
			continue
		}
		s.revoked = append(s.revoked, b)
	}
	return errors.Join(errs...)
}
