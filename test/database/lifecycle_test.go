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

package database

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
)

var models = []tenancyv1alpha1.DatabaseModel{
	tenancyv1alpha1.DatabaseModelSharedSchema, tenancyv1alpha1.DatabaseModelSchemaPerTenant, tenancyv1alpha1.DatabaseModelDatabasePerTenant,
}

// authFailed reports whether err is PostgreSQL refusing the password (SQLSTATE 28P01).
func authFailed(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "28P01"
}

// TestRotation: after a rotation the old password stops working and the new one works, and a pass that finds the
// role as wanted runs no statement.
func TestRotation(t *testing.T) {
	ctx, p := provisioner(t, time.Minute)
	for _, model := range models {
		t.Run(string(model), func(t *testing.T) {
			tn := newTenant(t, "rotated", model)
			ensure(ctx, t, p, tn)
			before := p.Statements()
			ensure(ctx, t, p, tn)
			if ran := p.Statements() - before; ran != 0 {
				t.Errorf("a steady tenant ran %d statements, want none", ran)
			}
			old := tn
			tn.Password = randomPassword(t)
			ensure(ctx, t, p, tn)
			if _, err := pg.Connect(ctx, old.Role, old.Password, old.db); !authFailed(err) {
				t.Errorf("the old password after a rotation: %v, want authentication refused", err)
			}
			_ = connect(ctx, t, tn)
		})
	}
}

// TestDeletionPolicies: Retain keeps the data and stops logins until the tenant is taken back; Delete erases the
// data and the role, and a second removal finds nothing to do.
func TestDeletionPolicies(t *testing.T) {
	ctx, p := provisioner(t, 2*time.Minute)
	adm := admin(ctx, t, server.AdminDatabase)
	roleExists := func(role string) bool {
		var n int
		if err := adm.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", role).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	for _, model := range models {
		t.Run(string(model), func(t *testing.T) {
			tn := newTenant(t, "gone", model)
			ensure(ctx, t, p, tn)
			where := tableOf(ctx, t, tn) // the tenant writes a row
			rows := func() int {
				conn, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, tn.db)
				if err != nil {
					return -1 // its database is gone
				}
				defer func() { _ = conn.Close(ctx) }()
				var n int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+where).Scan(&n); err != nil {
					return -1 // its schema is gone
				}
				return n
			}

			open := connect(ctx, t, tn) // a session of the tenant's, open when it is retained
			retained := tn
			retained.Login = false
			ensure(ctx, t, p, retained)
			if _, err := open.Exec(ctx, "SELECT 1"); err == nil {
				t.Error("a retained tenant's open session still runs statements")
			}
			if conn, err := pg.Connect(ctx, tn.Role, tn.Password, tn.db); err == nil {
				_ = conn.Close(ctx)
				t.Error("a retained tenant's role still signs in")
			}
			if n := rows(); n != 1 {
				t.Errorf("a retained tenant's rows: %d, want 1", n)
			}
			ensure(ctx, t, p, tn) // taken back
			_ = connect(ctx, t, tn)

			if model == tenancyv1alpha1.DatabaseModelDatabasePerTenant {
				// Its owner may mark it a template, which DROP DATABASE refuses.
				exec(ctx, t, connect(ctx, t, tn), "ALTER DATABASE "+id(tn.db)+" IS_TEMPLATE true")
			}
			if err := p.Remove(ctx, server, tn.Want); err != nil {
				t.Fatal(err)
			}
			if n := rows(); n > 0 {
				t.Errorf("a deleted tenant's rows: %d, want none", n)
			}
			if roleExists(tn.Role) {
				t.Error("a deleted tenant's role is still there")
			}
			before := p.Statements()
			if err := p.Remove(ctx, server, tn.Want); err != nil {
				t.Fatalf("removing again: %v", err)
			}
			if ran := p.Statements() - before; ran != 0 {
				t.Errorf("removing a removed tenant ran %d statements", ran)
			}
		})
	}
}

// tableOf has the tenant write one row into a table of its model, and returns where an admin finds it.
func tableOf(ctx context.Context, t *testing.T, tn tenant) string {
	t.Helper()
	conn := connect(ctx, t, tn)
	switch tn.Model {
	case tenancyv1alpha1.DatabaseModelSharedSchema:
		exec(ctx, t, admin(ctx, t, server.SharedDatabase), `CREATE TABLE IF NOT EXISTS shared.notes (tenant text NOT NULL DEFAULT session_user, note text)`)
		p := database.NewProvisioner(rand.Reader)
		defer p.Close()
		ensure(ctx, t, p, tn)
		exec(ctx, t, conn, "INSERT INTO shared.notes (note) VALUES ('kept')")
		return "shared.notes WHERE tenant = " + lit(tn.Role)
	case tenancyv1alpha1.DatabaseModelSchemaPerTenant:
		exec(ctx, t, conn, "CREATE TABLE "+id(tn.Role)+".notes (note text)")
		exec(ctx, t, conn, "INSERT INTO "+id(tn.Role)+".notes VALUES ('kept')")
		return id(tn.Role) + ".notes"
	default:
		exec(ctx, t, conn, "CREATE TABLE notes (note text)")
		exec(ctx, t, conn, "INSERT INTO notes VALUES ('kept')")
		return "notes"
	}
}

// TestRestartMidProvisioning: an operator that stopped after the first statements of a plan (the role made, not
// its password comment nor its database) is followed by one that converges, with one role.
func TestRestartMidProvisioning(t *testing.T) {
	skipUnlessServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tn := newTenant(t, "restarted", tenancyv1alpha1.DatabaseModelDatabasePerTenant)
	plan, err := database.Plan(tn.Want, server, database.Catalog{}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	adm := admin(ctx, t, server.AdminDatabase)
	// What the first operator got done before it died: the plan's first statement.
	var sql string
	args := append(make([]any, 0, 1+len(plan[0].Args)), plan[0].Format)
	placeholders := append(make([]string, 0, 1+len(plan[0].Args)), "$1::text")
	for i, a := range plan[0].Args {
		args = append(args, a)
		placeholders = append(placeholders, fmt.Sprintf("$%d::text", i+2))
	}
	if err := adm.QueryRow(ctx, "SELECT format("+strings.Join(placeholders, ", ")+")", args...).Scan(&sql); err != nil {
		t.Fatal(err)
	}
	exec(ctx, t, adm, sql)

	p := database.NewProvisioner(rand.Reader)
	defer p.Close()
	ensure(ctx, t, p, tn)
	var roles int
	if err := adm.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", tn.Role).Scan(&roles); err != nil || roles != 1 {
		t.Errorf("roles named %s: %d, %v; want 1", tn.Role, roles, err)
	}
	_ = connect(ctx, t, tn)
}

// TestConnectionsBounded: provisioning many tenants at once holds a bounded number of connections to the server.
func TestConnectionsBounded(t *testing.T) {
	ctx, p := provisioner(t, 2*time.Minute)
	adm := admin(ctx, t, server.AdminDatabase)
	var peak int
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var n int
			if err := adm.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tenant-operator'").Scan(&n); err == nil {
				peak = max(peak, n)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		tn := newTenant(t, fmt.Sprintf("many%d", i), models[i%len(models)])
		wg.Go(func() { errs <- p.Ensure(ctx, server, tn.Want) })
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// Two databases (admin and shared), maxConnsPerDatabase each.
	if peak > 4 {
		t.Errorf("peak connections while provisioning 30 tenants: %d, want at most 4", peak)
	}
	t.Logf("peak connections while provisioning 30 tenants: %d", peak)
}

// TestMembershipsUndone: a tenant's role granted to another (by a role that may: older PostgreSQL releases let a role
// grant itself) is taken back on the next pass, so that no tenant's role ever acts as another's.
func TestMembershipsUndone(t *testing.T) {
	ctx, p := provisioner(t, time.Minute)
	a, b := newTenant(t, "granting", tenancyv1alpha1.DatabaseModelSchemaPerTenant), newTenant(t, "granted", tenancyv1alpha1.DatabaseModelSchemaPerTenant)
	ensure(ctx, t, p, a, b)
	exec(ctx, t, admin(ctx, t, server.AdminDatabase), "GRANT "+id(a.Role)+" TO "+id(b.Role))
	if _, err := connect(ctx, t, b).Exec(ctx, "SET ROLE "+id(a.Role)); err != nil {
		t.Fatalf("the control: granted, %s cannot act as %s: %v", b.Role, a.Role, err)
	}
	ensure(ctx, t, p, a, b)
	if _, err := connect(ctx, t, b).Exec(ctx, "SET ROLE "+id(a.Role)); err == nil {
		t.Errorf("after the next pass, %s still acts as %s", b.Role, a.Role)
	}
}
