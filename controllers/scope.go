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
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// tenantScope is one reconcile pass of one tenant: what its phases gather and decide, in the order they fill it.
type tenantScope struct {
	tenant *tenancyv1alpha1.Tenant
	memo   *tenantMemo

	// resolveClass: the class generation to render with, or why there is none to use; and when the tenant's turn in
	// its class's roll-out comes.
	class        *render.Class
	classProblem *render.Problem
	classMissing *render.Problem
	classRetry   time.Duration
	// claim: why the tenant cannot have its namespace, or whether this pass created it, and the retention hold the
	// namespace it took back keeps.
	claimProblem     *render.Problem
	namespaceCreated bool
	hold             *render.Retention
	// observe, then render.
	observed render.Observed
	desired  *render.Desired
	// observe, then provisionDatabase: the tenant's database server, or why there is none to use; and when to come
	// back (after a failure, or to cover the shared tables added since).
	databaseServer  *database.Server
	databaseProblem *render.Problem
	databaseRetry   time.Duration
	// apply and prune: what happened to each desired object, what was deleted, and the former owners' grants revoked.
	results  applyResults
	pruned   []client.Object
	revoked  []*rbacv1.RoleBinding
	pruneErr error
	// stopPods: the pods of a suspended tenant's namespace not gone yet.
	podsRunning int
	// auditAccess: the audit report of this pass, if one was due, and when the next is.
	audit      *audit.Report
	auditRetry time.Duration
	// observeOutcome.
	backend        *status.Backend
	quotaEnforced  bool
	quotaCreatedAt time.Time
}

func (r *TenantReconciler) newScope(t *tenancyv1alpha1.Tenant) *tenantScope {
	return &tenantScope{tenant: t, memo: r.memos.of(t.Name)}
}

// render computes the desired state from the Tenant and what was observed: pure, see render.DesiredState.
// problem is why the pass stopped before changing anything: the tenant's class does not exist, or its namespace is
// not its to use.
func (s *tenantScope) problem() *render.Problem {
	if s.classProblem != nil {
		return s.classProblem
	}
	return s.claimProblem
}

func (r *TenantReconciler) render(_ context.Context, s *tenantScope) error {
	desired, err := render.DesiredState(s.tenant, r.Config, s.observed)
	if err == nil && s.classMissing != nil {
		desired.Refused = append(desired.Refused, render.AreaProblem{Area: render.AreaNamespace, Problem: *s.classMissing})
	}
	s.desired = desired
	return err
}
