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
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localpostgres"
)

// startPostgres runs a PostgreSQL server for the test, or skips when the database tier is skipped on purpose.
func startPostgres(ctx context.Context, t *testing.T) *localpostgres.Server {
	t.Helper()
	if os.Getenv("TEST_DATABASE") == "skip" {
		t.Skip("the database tier was skipped (TEST_DATABASE=skip)")
	}
	pg, err := localpostgres.Start(ctx, localpostgres.Options{})
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v (TEST_DATABASE=skip skips the database tier)", err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	return pg
}

// registerServer registers a database server with the operator, as the cluster admin would.
func registerServer(ctx context.Context, t *testing.T, name string, pg *localpostgres.Server, port int) {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "database-" + name, Labels: map[string]string{database.LabelServer: name}},
		StringData: map[string]string{
			database.KeyHost: pg.Host, database.KeyPort: strconv.Itoa(port), database.KeyUsername: pg.AdminUser,
			database.KeyPassword: pg.AdminPassword, database.KeyCACert: string(pg.CACertPEM),
		},
	}
	if err := k8s.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), s) })
}

// connectAs signs in with what the tenant's database Secret holds, verifying the server's certificate with its CA.
func connectAs(ctx context.Context, pg *localpostgres.Server, s *corev1.Secret) (*pgx.Conn, error) {
	if !bytes.Equal(s.Data[render.DatabaseKeyCA], pg.CACertPEM) {
		return nil, errors.New("the Secret's ca.crt is not the server's CA")
	}
	return pg.Connect(ctx, string(s.Data[render.DatabaseKeyUser]), string(s.Data[render.DatabaseKeyPass]), string(s.Data[render.DatabaseKeyName]))
}

func TestTenantDatabase(t *testing.T) {
	ctx := needCluster(t)
	pg := startPostgres(ctx, t)
	registerServer(ctx, t, "main", pg, pg.Port)
	t.Run("models", func(t *testing.T) { databaseModels(ctx, t, pg) })
	t.Run("rotation", func(t *testing.T) { databaseRotation(ctx, t, pg) })
	t.Run("server unknown", func(t *testing.T) { databaseServerUnknown(ctx, t) })
	t.Run("server unreachable", func(t *testing.T) { databaseServerUnreachable(ctx, t, pg) })
	t.Run("deletion policies", func(t *testing.T) { databaseDeletionPolicies(ctx, t, pg) })
	t.Run("retention erases the database", func(t *testing.T) { databaseRetentionErase(ctx, t, pg) })
	t.Run("a namesake waits for the erasure", func(t *testing.T) { databaseNamesakeWaitsForTheErasure(ctx, t, pg) })
	t.Run("an earlier namespace's role is refused", func(t *testing.T) { databaseEarlierNamespaceRefused(ctx, t, pg) })
	t.Run("registration broken", func(t *testing.T) { databaseRegistrationBroken(ctx, t, pg) })
	t.Run("rotation held while unreachable", func(t *testing.T) { databaseRotationHeld(ctx, t, pg) })
}

// databaseRegistrationBroken: a tenant whose server's registration goes away keeps its database as it was (Secret,
// NetworkPolicy, the back-end's environment), reports DatabaseServerUnknown, and is Ready again once it is back.
func databaseRegistrationBroken(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	registerServer(ctx, t, "fragile", pg, pg.Port)
	tenant := newTenant("db-fragile", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "fragile", Model: tenancyv1alpha1.DatabaseModelSchemaPerTenant}
		t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1"}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	before := databaseSecretOf(ctx, t, tenant)
	if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "database-fragile"}}); err != nil {
		t.Fatal(err)
	}
	// A spec change brings a pass (and a new generation, after which pruning would take what is no longer desired).
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"displayName":"unregistered"}}`))); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonDatabaseServerUnknown)
	after := databaseSecretOf(ctx, t, tenant)
	if !bytes.Equal(after.Data[render.DatabaseKeyPass], before.Data[render.DatabaseKeyPass]) {
		t.Error("the database password changed while the server was not registered")
	}
	ns := render.TenantNamespace(tenant)
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.PolicyDatabase}, &networkingv1.NetworkPolicy{}); err != nil {
		t.Errorf("allow-database while the server is not registered: %v", err)
	}
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.BackendName}, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(d.Spec.Template.Spec.Containers[0].Env), "DATABASE_URL") {
		t.Error("the back-end lost its database environment while the server was not registered")
	}
	registerServer(ctx, t, "fragile", pg, pg.Port)
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"displayName":"registered again"}}`))); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	conn, err := connectAs(ctx, pg, databaseSecretOf(ctx, t, tenant))
	if err != nil {
		t.Fatalf("signing in once registered again: %v", err)
	}
	_ = conn.Close(ctx)
}

// databaseRotationHeld: a rotation due while the server does not answer keeps the password the server has (the
// Secret does not change, the back-end does not roll), and happens once the server answers again.
func databaseRotationHeld(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	registerServer(ctx, t, "flaky", pg, pg.Port)
	tenant := newTenant("db-flaky", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "flaky", Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant,
			RotationPeriod: &metav1.Duration{Duration: 24 * time.Hour}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	before := databaseSecretOf(ctx, t, tenant)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	registration := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "database-flaky"}}
	setPort := func(port int) {
		patch := fmt.Sprintf(`{"stringData":{%q:%q}}`, database.KeyPort, strconv.Itoa(port))
		if err := k8s.Patch(ctx, registration, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatal(err)
		}
	}
	setPort(closed)
	testClock.Advance(25 * time.Hour)
	defer testClock.Advance(-25 * time.Hour)
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"displayName":"due"}}`))); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonDatabaseUnreachable)
	if held := databaseSecretOf(ctx, t, tenant); !bytes.Equal(held.Data[render.DatabaseKeyPass], before.Data[render.DatabaseKeyPass]) {
		t.Error("the Secret took a new password the server never got")
	}
	setPort(pg.Port)
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"displayName":"answering"}}`))); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	rotated := databaseSecretOf(ctx, t, tenant)
	if bytes.Equal(rotated.Data[render.DatabaseKeyPass], before.Data[render.DatabaseKeyPass]) {
		t.Error("the rotation did not happen once the server answered")
	}
	conn, err := connectAs(ctx, pg, rotated)
	if err != nil {
		t.Fatalf("the rotated password: %v", err)
	}
	_ = conn.Close(ctx)
}

// databaseSecretOf is the tenant's database Secret.
func databaseSecretOf(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(tenant), Name: render.DatabaseSecretName}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// databaseModels: each model to DatabaseReady, a sign-in with the Secret, the NetworkPolicy and the back-end's env.
func databaseModels(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	for _, model := range []tenancyv1alpha1.DatabaseModel{
		tenancyv1alpha1.DatabaseModelSharedSchema, tenancyv1alpha1.DatabaseModelSchemaPerTenant, tenancyv1alpha1.DatabaseModelDatabasePerTenant,
	} {
		t.Run(string(model), func(t *testing.T) {
			tenant := newTenant("db-"+strings.ToLower(string(model)), func(t *tenancyv1alpha1.Tenant) {
				t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: model}
				t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1"}
			})
			createTenant(ctx, t, tenant)
			waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
			conn, err := connectAs(ctx, pg, databaseSecretOf(ctx, t, tenant))
			if err != nil {
				t.Fatalf("signing in with the tenant's Secret: %v", err)
			}
			defer func() { _ = conn.Close(context.Background()) }()
			var user string
			if err := conn.QueryRow(ctx, "SELECT session_user").Scan(&user); err != nil || user != render.DatabaseRole(tenant) {
				t.Errorf("signed in as %q (%v), want %s", user, err, render.DatabaseRole(tenant))
			}
			// The tenant's pods may reach the server's address and port, and nothing else of it.
			np := &networkingv1.NetworkPolicy{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(tenant), Name: render.PolicyDatabase}, np); err != nil {
				t.Fatal(err)
			}
			if e := np.Spec.Egress; len(e) != 1 || len(e[0].To) != 1 || e[0].To[0].IPBlock == nil || e[0].To[0].IPBlock.CIDR != "127.0.0.1/32" ||
				len(e[0].Ports) != 1 || e[0].Ports[0].Port.IntValue() != pg.Port {
				t.Errorf("allow-database egress: %+v, want 127.0.0.1/32 on port %d only", e, pg.Port)
			}
			d := &appsv1.Deployment{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(tenant), Name: render.BackendName}, d); err != nil {
				t.Fatal(err)
			}
			if env := fmt.Sprint(d.Spec.Template.Spec.Containers[0].Env); !strings.Contains(env, "DATABASE_URL") || strings.Contains(env, string(databaseSecretOf(ctx, t, tenant).Data[render.DatabaseKeyPass])) {
				t.Errorf("the back-end's environment lacks DATABASE_URL or holds the password by value: %s", env)
			}
		})
	}

}

// databaseRotation: a due rotation changes the password on the server and in the Secret, and rolls the back-end.
func databaseRotation(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	tenant := newTenant("db-rotated", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant,
			RotationPeriod: &metav1.Duration{Duration: 24 * time.Hour}}
		t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1"}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	old := databaseSecretOf(ctx, t, tenant)
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(tenant), Name: render.BackendName}, d); err != nil {
		t.Fatal(err)
	}
	version := d.Spec.Template.Annotations[render.AnnotationSecretsVersion]
	testClock.Advance(25 * time.Hour)
	defer testClock.Advance(-25 * time.Hour)
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"displayName":"rotated"}}`))); err != nil {
		t.Fatal(err)
	}
	var rotated *corev1.Secret
	eventually(ctx, t, "the database password rotated", func(context.Context) (bool, error) {
		rotated = databaseSecretOf(ctx, t, tenant)
		return !bytes.Equal(rotated.Data[render.DatabaseKeyPass], old.Data[render.DatabaseKeyPass]), nil
	})
	var pgErr *pgconn.PgError
	if _, err := connectAs(ctx, pg, old); !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("the old password after the rotation: %v, want authentication refused", err)
	}
	conn, err := connectAs(ctx, pg, rotated)
	if err != nil {
		t.Fatalf("the new password: %v", err)
	}
	_ = conn.Close(ctx)
	eventually(ctx, t, "the back-end rolled", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d)
		return err == nil && d.Spec.Template.Annotations[render.AnnotationSecretsVersion] != version, err
	})
}

// databaseServerUnknown: a Tenant naming no registered server fails with DatabaseServerUnknown, its other areas ready.
func databaseServerUnknown(ctx context.Context, t *testing.T) {
	tenant := newTenant("db-nowhere", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "nowhere", Model: tenancyv1alpha1.DatabaseModelSharedSchema}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonDatabaseServerUnknown)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseFailed {
		t.Errorf("phase %s, want Failed (the admin must register the server)", tenant.Status.Phase)
	}
}

// databaseServerUnreachable: a server that does not answer is retried, fails nothing else, and holds the Tenant's
// deletion until it is no longer registered.
func databaseServerUnreachable(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	registerServer(ctx, t, "down", pg, closed)
	tenant := newTenant("db-down", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "down", Model: tenancyv1alpha1.DatabaseModelSharedSchema}
		t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyRetain
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonDatabaseUnreachable)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseProvisioning {
		t.Errorf("phase %s, want Provisioning (retried with backoff)", tenant.Status.Phase)
	}
	// Its deletion waits for the server; unregistered, the server is let go and so is the Tenant.
	if err := k8s.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatalf("the Tenant went while its database server could not be reached: %v", err)
	}
	if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "database-down"}}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := waitGone(dctx, tenant); err != nil {
		t.Error(err)
	}
}

// databaseDeletionPolicies: Delete drops the role, Retain keeps it without login.
func databaseDeletionPolicies(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	admin, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	role := func(name string) (exists, login bool) {
		err := admin.QueryRow(ctx, "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", name).Scan(&login)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		return err == nil, login
	}
	for _, policy := range []tenancyv1alpha1.DeletionPolicy{tenancyv1alpha1.DeletionPolicyDelete, tenancyv1alpha1.DeletionPolicyRetain} {
		tenant := newTenant("db-"+strings.ToLower(string(policy)), func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSchemaPerTenant}
			t.Spec.DeletionPolicy = policy
		})
		createTenant(ctx, t, tenant)
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
		if err := k8s.Delete(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := waitGone(dctx, tenant); err != nil {
			t.Fatal(err)
		}
		cancel()
		exists, login := role(render.DatabaseRole(tenant))
		switch {
		case policy == tenancyv1alpha1.DeletionPolicyDelete && exists:
			t.Errorf("Delete: role %s is still there", render.DatabaseRole(tenant))
		case policy == tenancyv1alpha1.DeletionPolicyRetain && (!exists || login):
			t.Errorf("Retain: role %s exists %v, login %v; want kept without login", render.DatabaseRole(tenant), exists, login)
		}
		if policy == tenancyv1alpha1.DeletionPolicyRetain {
			databaseTakeBack(ctx, t, pg, tenant)
		}
	}
}

// databaseRetentionErase: a tenant retained with afterPeriod Erase keeps its database (without login) for the
// period, then the database and its role are erased with the namespace.
func databaseRetentionErase(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	admin, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	var roles int
	roleExists := func(role string) bool {
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", role).Scan(&roles); err != nil {
			t.Fatal(err)
		}
		return roles == 1
	}
	ns := retainWith(ctx, t, "db-erased", time.Hour, tenancyv1alpha1.RetentionErase, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant}
	})
	role := render.RetentionOf(ns).Database.Role
	if !roleExists(role) {
		t.Fatalf("role %s gone before the retention period is over", role)
	}
	testClock.Advance(time.Hour)
	defer testClock.Advance(-time.Hour)
	pokeNamespace(ctx, t, ns.Name)
	eventually(ctx, t, "namespace erased", func(ctx context.Context) (bool, error) { return erasing(ctx, ns.Name) })
	eventually(ctx, t, "role erased", func(context.Context) (bool, error) { return !roleExists(role), nil })
	var databases int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", role).Scan(&databases); err != nil || databases != 0 {
		t.Errorf("database %s outlived the erasure (%d, err %v)", role, databases, err)
	}
}

// databaseNamesakeWaitsForTheErasure: a Tenant of the same name as a deleted, retained one, in another namespace, would
// sign in as the retained role and read the old tenant's data: it is refused (DatabaseRoleTaken) and nothing is done
// to the role while the data is retained. The erasure of the old namespace erases that role, and the namesake then
// gets a role of its own, with nothing of the old data in it.
func databaseNamesakeWaitsForTheErasure(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	db := &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSchemaPerTenant}
	ns := retainWith(ctx, t, "db-namesake", time.Hour, tenancyv1alpha1.RetentionErase, func(t *tenancyv1alpha1.Tenant) { t.Spec.Database = db })
	role := render.RetentionOf(ns).Database.Role
	admin, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	// The old tenant's data, as its back-end would have written it.
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.secrets (v text); INSERT INTO %s.secrets VALUES ('old tenant'); ALTER TABLE %s.secrets OWNER TO %s",
		pgx.Identifier{role}.Sanitize(), pgx.Identifier{role}.Sanitize(), pgx.Identifier{role}.Sanitize(), pgx.Identifier{role}.Sanitize())); err != nil {
		t.Fatal(err)
	}

	again := newTenant("db-namesake", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Namespace = "db-namesake-2"
		t.Spec.Database = db
	})
	createTenant(ctx, t, again)
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonDatabaseRoleTaken)
	if c := meta.FindStatusCondition(again.Status.Conditions, tenancyv1alpha1.ConditionDatabaseReady); !strings.Contains(c.Message, "namespace "+ns.Name+" ") {
		t.Errorf("DatabaseReady message %q does not name the namespace whose data the role holds", c.Message)
	}
	if conn, err := connectAs(ctx, pg, databaseSecretOf(ctx, t, again)); err == nil {
		_ = conn.Close(ctx)
		t.Fatal("the namesake signs in as the retained role")
	}

	testClock.Advance(time.Hour)
	defer testClock.Advance(-time.Hour)
	pokeNamespace(ctx, t, ns.Name)
	eventually(ctx, t, "old namespace erased", func(ctx context.Context) (bool, error) { return erasing(ctx, ns.Name) })
	waitForEvent(ctx, t, "Namespace", ns.Name, "DatabaseErased", "role "+role+" on server main is erased")
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	conn, err := connectAs(ctx, pg, databaseSecretOf(ctx, t, again))
	if err != nil {
		t.Fatalf("the namesake signs in to its own role: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", role).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("the namesake's schema holds %d tables (err %v), want none of the old tenant's", tables, err)
	}
}

// databaseEarlierNamespaceRefused: a tenant retained without a period keeps its database after an admin deletes its
// namespace (nothing records the database there). A new Tenant of the same name gets a namespace of the same name,
// a new one: the retired role, recorded for the earlier one, is refused it, and nothing of the role changes.
func databaseEarlierNamespaceRefused(ctx context.Context, t *testing.T, pg *localpostgres.Server) {
	db := &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant}
	old := newTenant("db-reused", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = db
		t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyRetain
	})
	createTenant(ctx, t, old)
	waitForCondition(ctx, t, old, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	if err := k8s.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, old); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "db-reused"}}
	if err := k8s.Delete(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, ns); err != nil {
		t.Fatal(err)
	}
	admin, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	role := render.DatabaseRole(old)
	var login bool
	var comment string
	readRole := func() {
		t.Helper()
		if err := admin.QueryRow(ctx, "SELECT rolcanlogin, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1", role).Scan(&login, &comment); err != nil {
			t.Fatalf("the retired role: %v", err)
		}
	}
	readRole()
	retired := comment

	again := newTenant("db-reused", func(t *tenancyv1alpha1.Tenant) { t.Spec.Database = db })
	createTenant(ctx, t, again)
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonDatabaseRoleTaken)
	if c := meta.FindStatusCondition(again.Status.Conditions, tenancyv1alpha1.ConditionDatabaseReady); !strings.Contains(c.Message, "earlier namespace db-reused") {
		t.Errorf("DatabaseReady message %q does not say the role is an earlier namespace's", c.Message)
	}
	readRole()
	if login || comment != retired {
		t.Errorf("the retired role after the refusal: login %v, comment %q (was %q)", login, comment, retired)
	}
}

// databaseTakeBack: a new Tenant taking the retained namespace back signs in again, with the retained Secret's
// password.
func databaseTakeBack(ctx context.Context, t *testing.T, pg *localpostgres.Server, retained *tenancyv1alpha1.Tenant) {
	t.Helper()
	again := newTenant(retained.Name, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = retained.Spec.Database
		t.Spec.AdoptRetainedNamespace = true
	})
	createTenant(ctx, t, again)
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	conn, err := connectAs(ctx, pg, databaseSecretOf(ctx, t, again))
	if err != nil {
		t.Fatalf("the taken-back tenant signs in: %v", err)
	}
	_ = conn.Close(ctx)
}

// TestDatabaseValidation: the database's server and model never change, it cannot be removed, and its Secret's name
// is not a generated secret's.
func TestDatabaseValidation(t *testing.T) {
	ctx := needCluster(t)
	withDatabase := func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Database = &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: tenancyv1alpha1.DatabaseModelSharedSchema}
	}
	for _, tc := range []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		want   string
	}{
		{"a generated secret named database", newTenant("dbv1", withDatabase, func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "database"}}
		}), "the Secret database holds the database credentials"},
		{"an unknown model", newTenant("dbv2", withDatabase, func(t *tenancyv1alpha1.Tenant) { t.Spec.Database.Model = "Shared" }), "Unsupported value"},
		{"rotation too frequent", newTenant("dbv3", withDatabase, func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Database.RotationPeriod = &metav1.Duration{Duration: time.Minute}
		}), "at least 1h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := k8s.Create(ctx, tc.tenant)
			if err == nil {
				_ = k8s.Delete(ctx, tc.tenant)
				t.Fatalf("accepted; want a rejection mentioning %q", tc.want)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}
	tenant := newTenant("dbv-ok", withDatabase)
	createTenant(ctx, t, tenant)
	for patch, want := range map[string]string{
		`{"spec":{"database":null}}`:                        "database cannot be removed",
		`{"spec":{"database":{"server":"other"}}}`:          "cannot change",
		`{"spec":{"database":{"model":"SchemaPerTenant"}}}`: "cannot change",
	} {
		err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(patch)))
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("patch %s: %v, want Invalid mentioning %q", patch, err, want)
		}
	}
}
