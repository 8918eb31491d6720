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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// observe gathers the current state the desired state depends on: the generated secrets (as the operator last wrote
// them, see secretMemory), the tenants that allow this one in, the database server's registration, and the CA.
func (r *TenantReconciler) observe(ctx context.Context, s *tenantScope) error {
	t := s.tenant
	observed := render.Observed{Secrets: map[string]*corev1.Secret{}, Now: r.Clock(), Rand: r.Rand}
	var secrets corev1.SecretList
	if err := r.List(ctx, &secrets, client.InNamespace(render.TenantNamespace(t)), client.MatchingLabels(render.ManagedLabels(t))); err != nil {
		return err
	}
	for i := range secrets.Items {
		observed.Secrets[secrets.Items[i].Name] = &secrets.Items[i]
	}
	s.memo.secrets.restore(observed.Secrets, render.GeneratedSecretNames(t))
	allowedBy, err := r.allowingTenants(ctx, t)
	if err != nil {
		return err
	}
	observed.AllowedBy = allowedBy
	if t.Spec.Database != nil {
		lookup, err := r.databaseServer(ctx, t)
		if err != nil {
			return err
		}
		s.databaseServer, s.databaseProblem = lookup.server, lookup.problem
		if srv := s.databaseServer; srv != nil {
			observed.Database = srv.Endpoint(render.DatabaseRole(t), t.Spec.Database.Model)
		} else {
			// Its registration cannot be read: the tenant keeps the database its Secret names, as it is.
			observed.Database = render.DatabaseEndpointFromSecret(observed.Secrets[render.DatabaseSecretName])
			observed.DatabaseHeld = true
		}
	}
	if t.Spec.Backend != nil {
		ca, err := r.CA.Get(ctx)
		if err != nil {
			return fmt.Errorf("loading the operator's CA: %w", err)
		}
		observed.CA = ca
	}
	observed.Class = s.class
	observed.Hold = s.hold
	if observed.Shared, err = r.observeShared(ctx, s); err != nil {
		return err
	}
	s.observed = observed
	return nil
}

// observeOutcome reads what the status reports beyond the apply: the back-end's Deployment (and why it cannot start,
// if it cannot), and whether the quota controller has taken up the quota.
func (r *TenantReconciler) observeOutcome(ctx context.Context, s *tenantScope) error {
	backend, err := r.backendStatus(ctx, s.tenant)
	if err != nil {
		return err
	}
	s.backend = backend
	s.quotaEnforced, s.quotaCreatedAt, err = r.quotaState(ctx, s.tenant)
	return err
}

// backendStatus reads the back-end's Deployment, and why it cannot start if it cannot; nil without a back-end.
func (r *TenantReconciler) backendStatus(ctx context.Context, t *tenancyv1alpha1.Tenant) (*status.Backend, error) {
	if t.Spec.Backend == nil {
		return nil, nil
	}
	d := &appsv1.Deployment{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(t), Name: render.BackendName}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return &status.Backend{}, nil
		}
		return nil, err
	}
	if d.Status.ReadyReplicas >= ptr.Deref(d.Spec.Replicas, 1) && len(d.Status.Conditions) == 0 {
		return &status.Backend{Deployment: d}, nil
	}
	// Not ready: the pods (cached slim, see slimcache.BackendPod) may say why it never will be.
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(render.TenantNamespace(t)), client.MatchingLabels(render.BackendSelector(t))); err != nil {
		return nil, err
	}
	return &status.Backend{Deployment: d, Failure: status.BackendFailure(d, pods.Items)}, nil
}

// quotaState reports whether the quota controller has taken up the tenant's ResourceQuota (until then, admission
// does not enforce it), and when the quota was created, if it exists.
func (r *TenantReconciler) quotaState(ctx context.Context, t *tenancyv1alpha1.Tenant) (enforced bool, createdAt time.Time, err error) {
	q := &corev1.ResourceQuota{}
	err = r.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(t), Name: render.QuotaName}, q)
	if apierrors.IsNotFound(err) {
		return false, time.Time{}, nil
	}
	return err == nil && len(q.Status.Hard) > 0, q.CreationTimestamp.Time, err
}
