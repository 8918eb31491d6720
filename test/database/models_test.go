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
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// id quotes a name for these tests' SQL, the way the provisioner's statements are quoted (by the library).
func id(name string) string { return pgx.Identifier{name}.Sanitize() }

// lit is a role name as a string literal; the tests' role names are letters, digits and underscores only.
func lit(name string) string {
	if !regexp.MustCompile(`^[a-z0-9_]+$`).MatchString(name) {
		panic("not a test role name: " + name)
	}
	return "'" + name + "'"
}

// tryConnect records A's attempt to connect to database, which must be refused for want of privilege (42501).
func tryConnect(ctx context.Context, t *testing.T, section, what string, tn tenant, database string) {
	t.Helper()
	conn, err := pg.Connect(ctx, tn.Role, tn.Password, database)
	var pgErr *pgconn.PgError
	got, ok := "refused: "+errTextOrNil(err), errors.As(err, &pgErr) && pgErr.Code == "42501"
	if conn != nil {
		_ = conn.Close(ctx)
		got = "connected"
	}
	report.add(row{section: section, what: what, want: "refused", got: got, ok: ok})
	if !ok {
		t.Errorf("%s: %s: %s", section, what, got)
	}
}

// connectAttempts: the databases every role may connect to on a fresh server are closed to tenants.
func connectAttempts(ctx context.Context, t *testing.T, section string, a tenant) {
	t.Helper()
	tryConnect(ctx, t, section, "A connects to the admin database", a, server.AdminDatabase)
	tryConnect(ctx, t, section, "A connects to template1 (copied into new databases)", a, "template1")
}

// commonAttempts are tenant A's tries at B's identity and at privileges, in any model.
func commonAttempts(a, b tenant) []attempt {
	return []attempt{
		{what: "A becomes B (SET ROLE)", sql: "SET ROLE " + id(b.Role)},
		{what: "A becomes B (SET SESSION AUTHORIZATION)", sql: "SET SESSION AUTHORIZATION " + id(b.Role)},
		{what: "A becomes B (set_config role)", sql: "SELECT set_config('role', " + lit(b.Role) + ", false)"},
		{what: "A grants itself B's role", sql: fmt.Sprintf("GRANT %s TO %s", id(b.Role), id(a.Role))},
		{what: "A grants itself a predefined role (pg_read_all_data)", sql: "GRANT pg_read_all_data TO " + id(a.Role)},
		{what: "A gives itself BYPASSRLS", sql: "ALTER ROLE " + id(a.Role) + " BYPASSRLS"},
		{what: "A gives itself CREATEROLE", sql: "ALTER ROLE " + id(a.Role) + " CREATEROLE"},
		{what: "A creates a database", sql: "CREATE DATABASE mine", outsideTx: true},
		{what: "A sets B's password", sql: "ALTER ROLE " + id(b.Role) + " PASSWORD 'known'"},
		{what: "A reads the password verifiers (pg_authid)", sql: "SELECT count(*) FROM pg_authid", rows: count(0)},
		{what: "A reads a server file", sql: "SELECT pg_read_file('postgresql.conf')"},
		{what: "A runs a program on the server", sql: "COPY (SELECT 1) TO PROGRAM 'true'"},
	}
}

// TestSharedSchema: one schema for all, rows tagged by the connecting role and kept apart by row-level security.
func TestSharedSchema(t *testing.T) {
	ctx, p := provisioner(t, time.Minute)
	a, b := newTenant(t, "a", tenancyv1alpha1.DatabaseModelSharedSchema), newTenant(t, "b", tenancyv1alpha1.DatabaseModelSharedSchema)
	ensure(ctx, t, p, a, b)
	// The platform's migration adds a table after the tenants exist (its owner, the admin, bypasses row security):
	// the next pass covers it.
	adm := admin(ctx, t, server.SharedDatabase)
	// Its keys hold the tenant column (docs/database.md): a key of its own would tell A that B has a row of an id.
	exec(ctx, t, adm, `CREATE TABLE shared.orders (id bigint GENERATED ALWAYS AS IDENTITY,
		tenant text NOT NULL DEFAULT session_user, item text NOT NULL, PRIMARY KEY (tenant, id))`)
	ensure(ctx, t, p, a, b)
	ca, cb := connect(ctx, t, a), connect(ctx, t, b)
	exec(ctx, t, ca, `INSERT INTO shared.orders (item) VALUES ('a1'), ('a2')`)
	exec(ctx, t, cb, `INSERT INTO shared.orders (item) VALUES ('b1'), ('b2'), ('b3')`)
	exec(ctx, t, adm, `ANALYZE shared.orders`) // statistics exist, so that reading them could leak
	var largeObject uint32
	if err := cb.QueryRow(ctx, "SELECT lo_from_bytea(0, 'b-secret')").Scan(&largeObject); err != nil {
		t.Fatal(err)
	}
	bRows := "shared.orders WHERE tenant = " + lit(b.Role)
	try(ctx, t, "SharedSchema: tenant A, with its own credentials, against tenant B's rows", ca, append([]attempt{
		{what: "A reads the shared table: its own rows only", sql: "SELECT count(*) FROM shared.orders", allow: true, rows: count(2)},
		{what: "A reads B's rows by naming B", sql: "SELECT count(*) FROM " + bRows, allow: true, rows: count(0)},
		{what: "A writes a row as B", sql: "INSERT INTO shared.orders (tenant, item) VALUES (" + lit(b.Role) + ", 'x')"},
		{what: "A moves its rows to B", sql: "UPDATE shared.orders SET tenant = " + lit(b.Role)},
		{what: "A deletes B's rows", sql: "WITH d AS (DELETE FROM " + bRows + " RETURNING 1) SELECT count(*) FROM d", allow: true, rows: count(0)},
		{what: "A updates B's rows", sql: "WITH u AS (UPDATE shared.orders SET item = 'x' WHERE tenant = " + lit(b.Role) + " RETURNING 1) SELECT count(*) FROM u", allow: true, rows: count(0)},
		{what: "A turns row security off for its session", before: "SET LOCAL row_security = off", sql: "SELECT count(*) FROM shared.orders", rows: count(5)},
		{what: "A disables row-level security on the table", sql: "ALTER TABLE shared.orders DISABLE ROW LEVEL SECURITY"},
		{what: "A un-forces row-level security", sql: "ALTER TABLE shared.orders NO FORCE ROW LEVEL SECURITY"},
		{what: "A drops the restrictive policy", sql: "DROP POLICY tenant_isolation ON shared.orders"},
		{what: "A adds a policy that lets everything through", sql: "CREATE POLICY open ON shared.orders USING (true)"},
		{what: "A creates a table in the shared schema", sql: "CREATE TABLE shared.mine (x int)"},
		{what: "A creates a function in the shared schema", sql: "CREATE FUNCTION shared.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"},
		{what: "A creates a table in public", sql: "CREATE TABLE public.mine (x int)"},
		{what: "A grants the table to everyone (PostgreSQL warns and grants nothing)", before: "GRANT SELECT ON shared.orders TO PUBLIC",
			sql: "SELECT count(*) FROM information_schema.role_table_grants WHERE table_name = 'orders' AND grantee = 'PUBLIC'", allow: true, rows: count(0)},
		{what: "A reads B's values through the planner's statistics", sql: "SELECT count(*) FROM pg_stats WHERE schemaname = 'shared' AND tablename = 'orders'", allow: true, rows: count(0)},
		{what: "A writes a row with one of B's ids (the key holds the tenant: no conflict tells B's ids)",
			sql: "INSERT INTO shared.orders (id, item) OVERRIDING SYSTEM VALUE VALUES (3, 'x')", allow: true},
		{what: "A reads B's large object", sql: fmt.Sprintf("SELECT lo_get(%d)", largeObject)},
		{what: "A turns large-object privilege checks off", sql: "SET lo_compat_privileges = on"},
		{what: "A creates a temporary table", sql: "CREATE TEMPORARY TABLE scratch (x int)"},
		{what: "A cancels B's queries", sql: "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE usename = " + lit(b.Role)},
		{what: "A reads B's queries", sql: "SELECT count(*) FROM pg_stat_activity WHERE usename = " + lit(b.Role) + " AND query <> '<insufficient privilege>'", allow: true, rows: count(0)},
		{what: "A sees how many rows the table holds (a documented limit of the model)", sql: "SELECT reltuples::bigint FROM pg_class WHERE oid = 'shared.orders'::regclass", allow: true, rows: count(5)},
		{what: "A locks the table for everyone (a documented limit of the model)", sql: "LOCK TABLE shared.orders IN ACCESS EXCLUSIVE MODE", allow: true},
		{what: "A writes its own rows", sql: "INSERT INTO shared.orders (item) VALUES ('a3')", allow: true},
		{what: "A updates its own rows", sql: "WITH u AS (UPDATE shared.orders SET item = 'a1b' WHERE item = 'a1' RETURNING 1) SELECT count(*) FROM u", allow: true, rows: count(1)},
	}, commonAttempts(a, b)...))
	connectAttempts(ctx, t, "SharedSchema: tenant A, with its own credentials, against tenant B's rows", a)
	var n int64
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM shared.orders").Scan(&n); err != nil || n != 3 {
		t.Errorf("B's rows after A's attempts: %d, %v; want its 3", n, err)
	}
}

// TestSchemaPerTenant: a schema per tenant, owned by its role, in a shared database whose public schema is locked.
func TestSchemaPerTenant(t *testing.T) {
	ctx, p := provisioner(t, time.Minute)
	a, b := newTenant(t, "a", tenancyv1alpha1.DatabaseModelSchemaPerTenant), newTenant(t, "b", tenancyv1alpha1.DatabaseModelSchemaPerTenant)
	ensure(ctx, t, p, a, b)
	ca, cb := connect(ctx, t, a), connect(ctx, t, b)
	exec(ctx, t, cb, "CREATE TABLE "+id(b.Role)+".secrets (v text)")
	exec(ctx, t, cb, "INSERT INTO "+id(b.Role)+".secrets VALUES ('b1'), ('b2')")
	exec(ctx, t, admin(ctx, t, server.SharedDatabase), "ANALYZE "+id(b.Role)+".secrets")
	bTable := id(b.Role) + ".secrets"
	const section = "SchemaPerTenant: tenant A, with its own credentials, against tenant B's schema"
	connectAttempts(ctx, t, section, a)
	try(ctx, t, section, ca, append([]attempt{
		{what: "A creates a table in its own schema", sql: "CREATE TABLE " + id(a.Role) + ".things (x int)", allow: true},
		{what: "A's schema is first on its search path", before: "CREATE TABLE things (x int)", sql: "SELECT count(*) FROM " + id(a.Role) + ".things", allow: true, rows: count(0)},
		{what: "A reads B's table", sql: "SELECT count(*) FROM " + bTable},
		{what: "A writes B's table", sql: "INSERT INTO " + bTable + " VALUES ('x')"},
		{what: "A creates a table in B's schema", sql: "CREATE TABLE " + id(b.Role) + ".mine (x int)"},
		{what: "A takes B's schema", sql: "ALTER SCHEMA " + id(b.Role) + " OWNER TO " + id(a.Role)},
		{what: "A grants itself B's schema", sql: "GRANT USAGE ON SCHEMA " + id(b.Role) + " TO " + id(a.Role)},
		{what: "A drops B's schema", sql: "DROP SCHEMA " + id(b.Role) + " CASCADE"},
		{what: "A creates a table in public", sql: "CREATE TABLE public.mine (x int)"},
		{what: "A reads B's values through the planner's statistics", sql: "SELECT count(*) FROM pg_stats WHERE schemaname = " + lit(b.Role), allow: true, rows: count(0)},
	}, commonAttempts(a, b)...))
}

// TestDatabasePerTenant: a database per tenant, owned by its role, that no one else may connect to.
func TestDatabasePerTenant(t *testing.T) {
	ctx, p := provisioner(t, time.Minute)
	a, b := newTenant(t, "a", tenancyv1alpha1.DatabaseModelDatabasePerTenant), newTenant(t, "b", tenancyv1alpha1.DatabaseModelDatabasePerTenant)
	ensure(ctx, t, p, a, b)
	ca, cb := connect(ctx, t, a), connect(ctx, t, b)
	exec(ctx, t, cb, "CREATE TABLE secrets (v text)")
	exec(ctx, t, cb, "INSERT INTO secrets VALUES ('b1')")
	const section = "DatabasePerTenant: tenant A, with its own credentials, against tenant B's database"
	tryConnect(ctx, t, section, "A connects to B's database", a, b.db)
	connectAttempts(ctx, t, section, a)
	try(ctx, t, section, ca, append([]attempt{
		{what: "A creates and fills a table in its database", before: "CREATE TABLE things (x int)", sql: "INSERT INTO things VALUES (1)", allow: true},
		{what: "A reaches B's database through dblink", sql: "CREATE EXTENSION dblink"},
		{what: "A reaches B's database through postgres_fdw", sql: "CREATE EXTENSION postgres_fdw"},
		{what: "A renames B's database", sql: "ALTER DATABASE " + id(b.db) + " RENAME TO stolen"},
		{what: "A opens B's database to everyone", sql: "GRANT CONNECT ON DATABASE " + id(b.db) + " TO PUBLIC"},
		{what: "A drops B's database", sql: "DROP DATABASE " + id(b.db), outsideTx: true},
	}, commonAttempts(a, b)...))
}

func errTextOrNil(err error) string {
	if err == nil {
		return ""
	}
	return errText(err)
}
