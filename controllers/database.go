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
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	// databaseTimeout bounds one tenant's provisioning: a reconcile worker is never held longer by a database.
	databaseTimeout = 30 * time.Second
)

// serverLookup is what the registration of a tenant's database server says: the server, or why there is none to
// use; registered is false when no Secret names it at all.
type serverLookup struct {
	server     *database.Server
	problem    *render.Problem
	registered bool
}

// databaseServer finds the registration of the tenant's database server: the one Secret of the operator's namespace
// labelled with its name. Read from the API, not the cache: the operator caches only what it created.
func (r *TenantReconciler) databaseServer(ctx context.Context, t *tenancyv1alpha1.Tenant) (serverLookup, error) {
	return findDatabaseServer(ctx, r.APIReader, r.Config.OperatorNamespace, t.Spec.Database.Server)
}

// findDatabaseServer finds the registration of database server name in the operator's namespace.
func findDatabaseServer(ctx context.Context, reader client.Reader, operatorNamespace, name string) (serverLookup, error) {
	var secrets corev1.SecretList
	if err := reader.List(ctx, &secrets, client.InNamespace(operatorNamespace), client.MatchingLabels{database.LabelServer: name}); err != nil {
		return serverLookup{}, err
	}
	unknown := func(registered bool, format string, args ...any) (serverLookup, error) {
		return serverLookup{registered: registered, problem: &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseServerUnknown, Message: fmt.Sprintf(format, args...)}}, nil
	}
	switch len(secrets.Items) {
	case 0:
		return unknown(false, "No database server %s is registered: a Secret of namespace %s labelled %s=%s", name, operatorNamespace, database.LabelServer, name)
	case 1:
	default:
		return unknown(true, "Database server %s is registered twice (%d Secrets labelled %s=%s): which one is meant is unknown", name, len(secrets.Items), database.LabelServer, name)
	}
	srv, err := database.ServerFromSecret(&secrets.Items[0])
	if err != nil {
		return unknown(true, "Database server %s cannot be used: %v", name, err)
	}
	return serverLookup{server: &srv, registered: true}, nil
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
		uid, err := r.namespaceUID(ctx, t)
		if err != nil {
			return err
		}
		secret, _ := render.DatabaseSecret(s.desired) // rendered: the server is known
		ctx, cancel := context.WithTimeout(ctx, databaseTimeout)
		err = r.Databases.Ensure(ctx, *s.databaseServer, database.Want{
			Role: render.DatabaseRole(t), Model: t.Spec.Database.Model, Password: string(secret.Data[render.DatabaseKeyPass]), Login: true,
			Owner: render.TenantNamespace(t), OwnerUID: uid,
		})
		cancel()
		s.databaseProblem = databaseProblem(t, err)
	}
	if p := s.databaseProblem; p != nil {
		if _, rotated := render.DatabaseSecret(s.desired); rotated {
			// The server has not taken the new password: the Secret keeps the one it has, and so do the back-end's
			// pods, until a pass gets through.
			s.observed.DatabaseHeld = true
			if err := r.render(ctx, s); err != nil {
				return err
			}
		}
		s.results.fail(render.AreaDatabase, *p, nil)
		s.databaseRetry = s.memo.databaseFailed()
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

// namespaceUID is the UID of the tenant's namespace, which its database role records; "" while there is none.
func (r *TenantReconciler) namespaceUID(ctx context.Context, t *tenancyv1alpha1.Tenant) (string, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: render.TenantNamespace(t)}, ns); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	return string(ns.UID), nil
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
	case errors.Is(err, database.ErrRoleTaken):
		return &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseRoleTaken,
			Message: fmt.Sprintf("Database server %s: %s", server, strings.TrimPrefix(err.Error(), database.ErrRoleTaken.Error()+": "))}
	}
	return &render.Problem{Reason: tenancyv1alpha1.ReasonDatabaseFailed, Message: err.Error()}
}

// releaseDatabase carries out the deletion on the tenant's database: erase (deletionPolicy Delete, no hold) removes
// its data and role, otherwise every login of its role ends and the rest is kept. done is false while that cannot be done (the server does not
// answer, its registration is broken): nothing is let go until it is, and the tenant comes back after a backoff.
// A server no longer registered at all cannot be reached: its database is left as it is, which an Event says, and
// the deletion goes on (nothing is erased that the admin did not get to see).
func (r *TenantReconciler) releaseDatabase(ctx context.Context, s *tenantScope, erase bool) (done bool, retry time.Duration, err error) {
	t := s.tenant
	if t.Spec.Database == nil {
		return true, 0, nil
	}
	lookup, err := r.databaseServer(ctx, t)
	if err != nil {
		return false, 0, err
	}
	if p := lookup.problem; p != nil && !lookup.registered {
		r.event(t, corev1.EventTypeWarning, p.Reason, "Delete", p.Message+": the tenant's database on it is left as it is")
		return true, 0, nil
	}
	if lookup.problem == nil {
		ctx, cancel := context.WithTimeout(ctx, databaseTimeout)
		defer cancel()
		uid, err := r.namespaceUID(ctx, t)
		if err != nil {
			return false, 0, err
		}
		want := database.Want{Role: render.DatabaseRole(t), Model: t.Spec.Database.Model, Owner: render.TenantNamespace(t), OwnerUID: uid}
		if erase {
			err = r.Databases.Remove(ctx, *lookup.server, want)
		} else {
			err = r.Databases.Retire(ctx, *lookup.server, want)
		}
		if errors.Is(err, database.ErrRoleTaken) {
			// Never this tenant's: the data of the namespace the role belongs to stays as it is.
			r.event(t, corev1.EventTypeNormal, tenancyv1alpha1.ReasonDatabaseRoleTaken, "Delete", databaseProblem(t, err).Message+": left as it is")
			err = nil
		}
		if err == nil {
			s.memo.databaseFailures = 0
			return true, 0, nil
		}
		lookup.problem = databaseProblem(t, err)
	}
	r.event(t, corev1.EventTypeWarning, lookup.problem.Reason, "Delete", lookup.problem.Message+"; the deletion waits")
	return false, s.memo.databaseFailed(), nil
}

// databaseFailed counts one more pass in a row that could not do the tenant's database's work, and says how long to
// wait before the next: databaseRetryFirst, doubling, up to databaseRetryMax.
func (m *tenantMemo) databaseFailed() time.Duration {
	m.databaseFailures++
	return min(databaseRetryFirst<<min(m.databaseFailures-1, 16), databaseRetryMax)
}
