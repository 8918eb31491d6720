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

package accessreview

import (
	"context"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// Gather reads what an audit of t needs from the cluster, through reader (an API reader: the RoleBindings and
// ClusterRoles are not the operator's, and not in its cache): the RoleBindings of its namespace, the rules of the
// tenant roles and of extraRoles (the extra roles it is bound to), and the guardrail policies bound to deny.
func Gather(ctx context.Context, reader client.Reader, t *tenancyv1alpha1.Tenant, extraRoles []tenancyv1alpha1.ExtraRole) (audit.Inputs, error) {
	in := audit.Inputs{Tenant: t, ExtraRoles: extraRoles, RoleRules: map[string][]rbacv1.PolicyRule{}}
	var bindings rbacv1.RoleBindingList
	if err := reader.List(ctx, &bindings, client.InNamespace(render.TenantNamespace(t))); err != nil {
		return in, err
	}
	in.RoleBindings = bindings.Items
	roles := []string{render.TenantAdminRole, render.TenantDeveloperRole, render.TenantViewerRole}
	for _, e := range extraRoles {
		roles = append(roles, e.ClusterRole)
	}
	for _, name := range roles {
		role := &rbacv1.ClusterRole{}
		if err := reader.Get(ctx, client.ObjectKey{Name: name}, role); client.IgnoreNotFound(err) != nil {
			return in, err
		}
		in.RoleRules[name] = role.Rules
	}
	var policies admissionregistrationv1.ValidatingAdmissionPolicyList
	var policyBindings admissionregistrationv1.ValidatingAdmissionPolicyBindingList
	if err := reader.List(ctx, &policies); err != nil {
		return in, err
	}
	if err := reader.List(ctx, &policyBindings); err != nil {
		return in, err
	}
	for _, b := range policyBindings.Items {
		exists := slices.ContainsFunc(policies.Items, func(p admissionregistrationv1.ValidatingAdmissionPolicy) bool { return p.Name == b.Spec.PolicyName })
		if exists && slices.Contains(b.Spec.ValidationActions, admissionregistrationv1.Deny) {
			in.Guardrails = append(in.Guardrails, b.Spec.PolicyName)
		}
	}
	return in, nil
}

// Reviewer answers an audit's reviews of tenant with SubjectAccessReviews created through c.
func Reviewer(ctx context.Context, c client.Client, tenant string) audit.Review {
	return func(subject audit.Subject, namespace string, check audit.Check) (bool, error) {
		spec := audit.ReviewSpec(subject)
		if spec.User == "" && len(spec.Groups) == 0 {
			return false, nil
		}
		attrs := &authorizationv1.ResourceAttributes{Group: check.Group, Resource: check.Resource, Subresource: check.Subresource, Verb: check.Verb}
		switch {
		case check.Resource == "namespaces":
			// As the apiserver reviews a namespace's own requests: in it, so that a RoleBinding there counts.
			attrs.Namespace, attrs.Name = namespace, namespace
		case check.Resource == "tenants":
			attrs.Name = tenant
		case !check.Cluster:
			attrs.Namespace = namespace
		}
		spec.ResourceAttributes = attrs
		sar := &authorizationv1.SubjectAccessReview{Spec: spec}
		if err := c.Create(ctx, sar); err != nil {
			return false, err
		}
		return sar.Status.Allowed, nil
	}
}
