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
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// Backoff of a tenant whose database could not be provisioned: doubling from the first, up to the last.
const (
	databaseRetryFirst = 5 * time.Second
	databaseRetryMax   = 5 * time.Minute
	// serverUnknownRecheck: a server registration is not watched, so a tenant waiting for one looks again.
	serverUnknownRecheck = time.Minute
	// sharedTablesRecheck: tables the platform adds to the shared schema later get row-level security and the
	// tenants' grants on each SharedSchema tenant's next pass, at the latest this long after (a catalog read).
	sharedTablesRecheck = 10 * time.Minute
)

// databaseServer finds the registration of the tenant's database server: the one Secret of the operator's namespace
// labelled with its name. Read from the API, not the cache: the operator caches only what it created.
func (r *TenantReconciler) databaseServer(ctx context.Context, t *tenancyv1alpha1.Tenant) (*database.Server, *render.Problem, error) {
	name := t.Spec.Database.Server
	var secrets corev1.SecretList
	if err := r.APIReader.List(ctx, &secrets, client.InNamespace(r.Config.OperatorNamespace), client.MatchingLabels{database.LabelServer: name}); err != nil {
		return nil, nil, err
	}
	unknown := func(format string, args ...any) (*database.Server, *render.Problem, error) {
		return nil, &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseServerUnknown, Message: fmt.Sprintf(format, args...)}, nil
	}
	switch len(secrets.Items) {
	case 0:
		return unknown("No database server %s is registered: a Secret of namespace %s labelled %s=%s", name, r.Config.OperatorNamespace, database.LabelServer, name)
	case 1:
	default:
		return unknown("Database server %s is registered twice (%d Secrets labelled %s=%s): which one is meant is unknown", name, len(secrets.Items), database.LabelServer, name)
	}
	srv, err := database.ServerFromSecret(&secrets.Items[0])
	if err != nil {
		return unknown("Database server %s cannot be used: %v", name, err)
	}
	return &srv, nil, nil
}

// provisionDatabase brings the tenant's database to what its spec and desired Secret say, before the Secret is
// applied: the back-end never holds a password the server does not know for long, and a pass that stops in between
// is set right by the next one (the role's password fingerprint). A failure never ends the pass: every other area
// is provisioned and reported as usual, and the tenant comes back after a backoff.
func (r *TenantReconciler) provisionDatabase(ctx context.Context, s *tenantScope) error {
	t := s.tenant
	if t.Spec.Database == nil {
		return nil
	}
	if s.databaseProblem == nil {
		err := r.Databases.Ensure(ctx, *s.databaseServer, database.Want{
			Role: render.DatabaseRole(t), Model: t.Spec.Database.Model, Password: render.DatabasePassword(s.desired), Login: true,
		})
		s.databaseProblem = databaseProblem(t, err)
	}
	if p := s.databaseProblem; p != nil {
		s.results.fail(render.AreaDatabase, *p, nil)
		s.memo.databaseFailures++
		s.databaseRetry = min(databaseRetryFirst<<min(s.memo.databaseFailures-1, 16), databaseRetryMax)
		if p.Reason == tenancyv1alpha1.ReasonDatabaseServerUnknown {
			s.databaseRetry = max(s.databaseRetry, serverUnknownRecheck)
		}
		return nil
	}
	s.memo.databaseFailures = 0
	if t.Spec.Database.Model == tenancyv1alpha1.DatabaseModelSharedSchema {
		s.databaseRetry = sharedTablesRecheck
	}
	return nil
}

// databaseProblem is the tenant's DatabaseReady problem for a provisioning error; nil for none.
func databaseProblem(t *tenancyv1alpha1.Tenant, err error) *render.Problem {
	server := t.Spec.Database.Server
	switch {
	case err == nil:
		return nil
	case errors.Is(err, database.ErrUnreachable):
		return &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseUnreachable,
			Message: fmt.Sprintf("Database server %s does not answer; retrying with backoff", server)}
	case errors.Is(err, database.ErrAuthenticationFailed):
		return &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseAuthenticationFailed,
			Message: fmt.Sprintf("Database server %s refused the credentials of its registration", server)}
	}
	return &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseFailed, Message: err.Error()}
}

// releaseDatabase carries out the deletion policy on the tenant's database: Delete erases its data and role, Retain
// keeps them and ends every login. done is false while the server cannot be reached: nothing is let go until it is.
// A server no longer registered cannot be reached at all: its database is left as it is, which an Event says, and
// the deletion goes on (nothing is erased that the admin did not get to see).
func (r *TenantReconciler) releaseDatabase(ctx context.Context, t *tenancyv1alpha1.Tenant) (done bool, err error) {
	if t.Spec.Database == nil {
		return true, nil
	}
	srv, problem, err := r.databaseServer(ctx, t)
	if err != nil {
		return false, err
	}
	if problem != nil {
		r.event(t, corev1.EventTypeWarning, problem.Reason, "Delete", problem.Message+": the tenant's database on it is left as it is")
		return true, nil
	}
	want := database.Want{Role: render.DatabaseRole(t), Model: t.Spec.Database.Model}
	if t.Spec.DeletionPolicy == tenancyv1alpha1.DeletionPolicyDelete {
		err = r.Databases.Remove(ctx, *srv, want)
	} else {
		want.Password, err = r.currentDatabasePassword(ctx, t)
		if err == nil {
			err = r.Databases.Ensure(ctx, *srv, want)
		}
	}
	if err != nil {
		r.event(t, corev1.EventTypeWarning, databaseProblem(t, err).Reason, "Delete", databaseProblem(t, err).Message)
		return false, nil
	}
	return true, nil
}

// currentDatabasePassword is the password of the tenant's database Secret, kept with a retained role so that a
// take-back signs in with it again.
func (r *TenantReconciler) currentDatabasePassword(ctx context.Context, t *tenancyv1alpha1.Tenant) (string, error) {
	s := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(t), Name: render.DatabaseSecretName}, s)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	return string(s.Data[render.DatabaseKeyPass]), err
}
