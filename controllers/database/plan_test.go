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
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var testServer = Server{Name: "main", SharedDatabase: "tenants", SharedSchema: "shared", TenantColumn: "tenant"}

// steady is the catalog of a tenant whose database is as w wants it.
func steady(w Want) Catalog {
	c := Catalog{Role: &Role{Login: w.Login, Inherit: true, Owner: w.Owner, OwnerUID: w.OwnerUID, Fingerprint: passwordFingerprint(w.Password)}}
	switch w.Model {
	case tenancyv1alpha1.DatabaseModelDatabasePerTenant:
		c.Database = &OwnedObject{Owner: w.Role}
	case tenancyv1alpha1.DatabaseModelSchemaPerTenant:
		c.Shared = SharedDatabase{Exists: true, RoleConnect: true}
		c.Schema = &OwnedObject{Owner: w.Role}
	case tenancyv1alpha1.DatabaseModelSharedSchema:
		c.Shared = SharedDatabase{Exists: true, RoleConnect: true, SharedSchemaExists: true, RoleUsage: true,
			Tables: []Table{{Name: "orders", RowSecurity: true, Forced: true, Policies: true, Granted: true}}}
	}
	return c
}

// verbs are the plan's statements, each as its format with the arguments filled in unquoted (for reading only).
func verbs(plan []Statement) []string {
	out := make([]string, len(plan))
	for i, s := range plan {
		args := s.Args
		text := regexp.MustCompile(`%[IL]`).ReplaceAllStringFunc(s.Format, func(string) string {
			if len(args) == 0 {
				return "<missing>"
			}
			a := args[0]
			args = args[1:]
			if strings.HasPrefix(a, "SCRAM-SHA-256$") {
				return "<verifier>"
			}
			return a
		})
		if s.On == OnShared {
			text = "[shared] " + text
		}
		out[i] = text
	}
	return out
}

func TestPlan(t *testing.T) {
	const role = "tenant_alpha"
	want := func(model tenancyv1alpha1.DatabaseModel) Want {
		return Want{Role: role, Model: model, Password: "s3cret", Login: true}
	}
	attrs := "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 20"
	fp := passwordFingerprint("s3cret")
	for _, tc := range []struct {
		name    string
		w       Want
		catalog func(Want) Catalog
		plan    []string
	}{
		{"steady DatabasePerTenant: nothing", want(tenancyv1alpha1.DatabaseModelDatabasePerTenant), steady, nil},
		{"steady SchemaPerTenant: nothing", want(tenancyv1alpha1.DatabaseModelSchemaPerTenant), steady, nil},
		{"steady SharedSchema: nothing", want(tenancyv1alpha1.DatabaseModelSharedSchema), steady, nil},
		{"new DatabasePerTenant", want(tenancyv1alpha1.DatabaseModelDatabasePerTenant), func(Want) Catalog { return Catalog{} }, []string{
			"CREATE ROLE tenant_alpha WITH " + attrs + " PASSWORD <verifier>",
			"COMMENT ON ROLE tenant_alpha IS " + fp,
			"CREATE DATABASE tenant_alpha OWNER tenant_alpha TEMPLATE template0",
			"REVOKE ALL ON DATABASE tenant_alpha FROM PUBLIC",
		}},
		{"new SchemaPerTenant on a server without the shared database: the database first", want(tenancyv1alpha1.DatabaseModelSchemaPerTenant),
			func(Want) Catalog { return Catalog{} }, []string{
				"CREATE ROLE tenant_alpha WITH " + attrs + " PASSWORD <verifier>",
				"COMMENT ON ROLE tenant_alpha IS " + fp,
				"CREATE DATABASE tenants TEMPLATE template0",
				"REVOKE ALL ON DATABASE tenants FROM PUBLIC",
			}},
		{"SchemaPerTenant in a fresh shared database: public locked, schema created", want(tenancyv1alpha1.DatabaseModelSchemaPerTenant),
			func(w Want) Catalog {
				c := steady(w)
				c.Shared.PublicAccess, c.Shared.PublicSchemaOpen, c.Shared.RoleConnect, c.Schema = true, true, false, nil
				return c
			}, []string{
				"REVOKE ALL ON DATABASE tenants FROM PUBLIC",
				"[shared] REVOKE ALL ON SCHEMA public FROM PUBLIC",
				"GRANT CONNECT ON DATABASE tenants TO tenant_alpha",
				"[shared] CREATE SCHEMA tenant_alpha AUTHORIZATION tenant_alpha",
			}},
		{"SchemaPerTenant: a schema someone else owns or opened is taken back", want(tenancyv1alpha1.DatabaseModelSchemaPerTenant),
			func(w Want) Catalog {
				c := steady(w)
				c.Schema = &OwnedObject{Owner: "mallory", PublicAccess: true}
				return c
			}, []string{
				"[shared] ALTER SCHEMA tenant_alpha OWNER TO tenant_alpha",
				"[shared] REVOKE ALL ON SCHEMA tenant_alpha FROM PUBLIC",
			}},
		{"SharedSchema: a table created later gets row-level security, its policies and the grant", want(tenancyv1alpha1.DatabaseModelSharedSchema),
			func(w Want) Catalog {
				c := steady(w)
				c.Shared.Tables = append(c.Shared.Tables, Table{Name: "invoices"})
				return c
			}, []string{
				"[shared] ALTER TABLE shared.invoices ENABLE ROW LEVEL SECURITY",
				"[shared] ALTER TABLE shared.invoices FORCE ROW LEVEL SECURITY",
				"[shared] DROP POLICY IF EXISTS tenant_isolation ON shared.invoices",
				"[shared] CREATE POLICY tenant_isolation ON shared.invoices AS RESTRICTIVE FOR ALL TO PUBLIC USING (tenant = session_user::text) WITH CHECK (tenant = session_user::text)",
				"[shared] DROP POLICY IF EXISTS tenant_rows ON shared.invoices",
				"[shared] CREATE POLICY tenant_rows ON shared.invoices AS PERMISSIVE FOR ALL TO PUBLIC USING (tenant = session_user::text) WITH CHECK (tenant = session_user::text)",
				"[shared] GRANT SELECT, INSERT, UPDATE, DELETE ON shared.invoices TO tenant_alpha",
			}},
		{"a rotated password: a new verifier and fingerprint", Want{Role: role, Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant, Password: "rotated", Login: true},
			func(Want) Catalog { return steady(want(tenancyv1alpha1.DatabaseModelDatabasePerTenant)) }, []string{
				"ALTER ROLE tenant_alpha WITH PASSWORD <verifier>",
				"COMMENT ON ROLE tenant_alpha IS " + passwordFingerprint("rotated"),
			}},
		{"a role someone widened: attributes reset, memberships revoked both ways", want(tenancyv1alpha1.DatabaseModelDatabasePerTenant),
			func(w Want) Catalog {
				c := steady(w)
				c.Role.Privileged, c.Role.MemberOf, c.Role.Members = true, []string{"pg_read_all_data"}, []string{"tenant_beta"}
				return c
			}, []string{
				"ALTER ROLE tenant_alpha WITH " + attrs,
				"REVOKE pg_read_all_data FROM tenant_alpha",
				"REVOKE tenant_alpha FROM tenant_beta",
			}},
		{"retained: no login, open sessions ended", Want{Role: role, Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant, Password: "s3cret"},
			func(w Want) Catalog {
				c := steady(want(tenancyv1alpha1.DatabaseModelDatabasePerTenant))
				c.Role.Sessions = true
				return c
			}, []string{
				"ALTER ROLE tenant_alpha WITH " + strings.Replace(attrs, "LOGIN", "NOLOGIN", 1),
				"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = tenant_alpha",
			}},
		{"retained, sessions outlived an earlier pass: ended", Want{Role: role, Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant, Password: "s3cret"},
			func(w Want) Catalog {
				c := steady(w)
				c.Role.Sessions = true
				return c
			}, []string{"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = tenant_alpha"}},
		{"the databases every role may connect to by default are closed", want(tenancyv1alpha1.DatabaseModelDatabasePerTenant),
			func(w Want) Catalog {
				c := steady(w)
				c.PublicDatabases = []string{"postgres", "template1"}
				return c
			}, []string{"REVOKE ALL ON DATABASE postgres FROM PUBLIC", "REVOKE ALL ON DATABASE template1 FROM PUBLIC"}},
		{"a database its owner marked a template is unmarked", want(tenancyv1alpha1.DatabaseModelDatabasePerTenant),
			func(w Want) Catalog {
				c := steady(w)
				c.Database.Template = true
				return c
			}, []string{"ALTER DATABASE tenant_alpha IS_TEMPLATE false"}},
		{"taken back: login again", want(tenancyv1alpha1.DatabaseModelDatabasePerTenant),
			func(w Want) Catalog {
				c := steady(w)
				c.Role.Login = false
				return c
			}, []string{"ALTER ROLE tenant_alpha WITH " + attrs}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Plan(tc.w, testServer, tc.catalog(tc.w), bytes.NewReader(make([]byte, 1024)))
			if err != nil {
				t.Fatal(err)
			}
			got := verbs(plan)
			if strings.Join(got, "\n") != strings.Join(tc.plan, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.plan, "\n"))
			}
			for _, s := range plan {
				if strings.Count(s.Format, "%I")+strings.Count(s.Format, "%L") != len(s.Args) || strings.Contains(s.Format, "%s") {
					t.Errorf("%q: every argument must be a %%I or a %%L", s.Format)
				}
			}
		})
	}
}

func TestPlanRemove(t *testing.T) {
	w := Want{Role: "tenant_alpha", Password: "s3cret", Login: true}
	for _, tc := range []struct {
		model tenancyv1alpha1.DatabaseModel
		plan  []string
	}{
		{tenancyv1alpha1.DatabaseModelDatabasePerTenant, []string{
			"ALTER ROLE tenant_alpha WITH NOLOGIN",
			"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = tenant_alpha",
			"DROP DATABASE IF EXISTS tenant_alpha WITH (FORCE)",
			"DROP OWNED BY tenant_alpha",
			"DROP ROLE IF EXISTS tenant_alpha",
		}},
		{tenancyv1alpha1.DatabaseModelSchemaPerTenant, []string{
			"ALTER ROLE tenant_alpha WITH NOLOGIN",
			"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = tenant_alpha",
			"[shared] DROP SCHEMA IF EXISTS tenant_alpha CASCADE",
			"[shared] DROP OWNED BY tenant_alpha",
			"DROP OWNED BY tenant_alpha",
			"DROP ROLE IF EXISTS tenant_alpha",
		}},
		{tenancyv1alpha1.DatabaseModelSharedSchema, []string{
			"ALTER ROLE tenant_alpha WITH NOLOGIN",
			"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = tenant_alpha",
			"[shared] DELETE FROM shared.orders WHERE tenant = tenant_alpha",
			"[shared] DROP OWNED BY tenant_alpha",
			"DROP OWNED BY tenant_alpha",
			"DROP ROLE IF EXISTS tenant_alpha",
		}},
	} {
		t.Run(string(tc.model), func(t *testing.T) {
			w := w
			w.Model = tc.model
			got := verbs(must(PlanRemove(w, testServer, steady(w))))
			if strings.Join(got, "\n") != strings.Join(tc.plan, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.plan, "\n"))
			}
			if again := must(PlanRemove(w, testServer, Catalog{})); len(again) != 0 {
				t.Errorf("once removed, the plan is %v, want nothing", verbs(again))
			}
		})
	}
}

func TestSCRAMVerifier(t *testing.T) {
	v, err := scramVerifier("s3cret", bytes.NewReader(make([]byte, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$`).MatchString(v) {
		t.Errorf("verifier %q is not in PostgreSQL's form", v)
	}
	if strings.Contains(v, "s3cret") {
		t.Error("the verifier holds the password")
	}
	other, _ := scramVerifier("other", bytes.NewReader(make([]byte, 16)))
	if other == v {
		t.Error("two passwords, one verifier")
	}
}

// TestPlanRetire: a retained tenant's role stops signing in, and a tenant that never had a role gets none.
func TestPlanRetire(t *testing.T) {
	w := Want{Role: "tenant_alpha", Model: tenancyv1alpha1.DatabaseModelSchemaPerTenant}
	if plan := must(PlanRetire(w, Catalog{})); len(plan) != 0 {
		t.Errorf("retiring a tenant without a role plans %v, want nothing", verbs(plan))
	}
	got := verbs(must(PlanRetire(w, Catalog{Role: &Role{Login: true, Inherit: true}})))
	want := []string{"ALTER ROLE tenant_alpha WITH NOLOGIN",
		"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = tenant_alpha"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if plan := must(PlanRetire(w, Catalog{Role: &Role{Inherit: true}})); len(plan) != 0 {
		t.Errorf("retiring a retired role plans %v, want nothing", verbs(plan))
	}
}

func must(plan []Statement, err error) []Statement {
	if err != nil {
		panic(err)
	}
	return plan
}

// TestPlanRoleOwner: a role recorded as another namespace's tenant's (a deleted Tenant's, retained, whose name a new
// Tenant in another namespace has), or retired and recorded for an earlier namespace of the same name, is neither
// signed in to, retired nor removed by that Tenant: ErrRoleTaken and no statement. A role without an owner (made
// before owners were recorded), or a live one whose namespace was made again, is recorded as the tenant's; a role
// being made records its owner.
func TestPlanRoleOwner(t *testing.T) {
	w := Want{Role: "tenant_alpha", Model: tenancyv1alpha1.DatabaseModelDatabasePerTenant, Password: "s3cret", Login: true, Owner: "alpha-2", OwnerUID: "uid-2"}
	otherNamespace := steady(w)
	otherNamespace.Role.Login, otherNamespace.Role.Owner, otherNamespace.Role.OwnerUID = false, "alpha", "uid-1"
	earlierNamespace := steady(w)
	earlierNamespace.Role.Login, earlierNamespace.Role.OwnerUID = false, "uid-1"
	for what, taken := range map[string]Catalog{"namespace alpha ": otherNamespace, "earlier namespace alpha-2 ": earlierNamespace} {
		plans := map[string]func() ([]Statement, error){
			"Plan":       func() ([]Statement, error) { return Plan(w, testServer, taken, bytes.NewReader(make([]byte, 64))) },
			"PlanRetire": func() ([]Statement, error) { return PlanRetire(w, taken) },
			"PlanRemove": func() ([]Statement, error) { return PlanRemove(w, testServer, taken) },
		}
		for name, plan := range plans {
			got, err := plan()
			if !errors.Is(err, ErrRoleTaken) || len(got) != 0 || !strings.Contains(err.Error(), what) {
				t.Errorf("%s of a role recorded for %s: %v, %v; want ErrRoleTaken naming it, and nothing", name, what, verbs(got), err)
			}
		}
	}

	recorded := "COMMENT ON ROLE tenant_alpha IS tenant-operator namespace alpha-2 uid uid-2 password sha256:" +
		strings.TrimPrefix(passwordFingerprint("s3cret"), "tenant-operator password sha256:")
	legacy := steady(w)
	legacy.Role.Owner, legacy.Role.OwnerUID = "", ""
	remade := steady(w)
	remade.Role.OwnerUID = "uid-1" // signs in: the live tenant's, its namespace made again
	for name, c := range map[string]Catalog{"a role without an owner": legacy, "a live role of an earlier namespace": remade} {
		if got := verbs(must(Plan(w, testServer, c, nil))); !slices.Equal(got, []string{recorded}) {
			t.Errorf("%s: %q, want %q", name, got, recorded)
		}
	}
	if got := verbs(must(Plan(w, testServer, steady(w), nil))); len(got) != 0 {
		t.Errorf("the tenant's own role, steady: %q", got)
	}
	legacyRetired := steady(w)
	legacyRetired.Role.Owner, legacyRetired.Role.OwnerUID, legacyRetired.Role.Login = "", "", false
	if got := verbs(must(PlanRetire(w, legacyRetired))); !slices.Equal(got, []string{recorded}) {
		t.Errorf("retiring a role without an owner: %q, want it recorded as %q", got, recorded)
	}
	created := verbs(must(Plan(w, testServer, Catalog{}, bytes.NewReader(make([]byte, 64)))))
	if !slices.Contains(created, recorded) {
		t.Errorf("a new role's plan records no owner: %q", created)
	}
}

// TestRoleComment: what roleComment writes, parseRoleComment reads back; a comment the operator wrote before it
// recorded owners reads as no owner.
func TestRoleComment(t *testing.T) {
	fp := passwordFingerprint("s3cret")
	for _, tc := range []struct{ owner, uid, fingerprint string }{{"acme-prod", "4f1c", fp}, {"acme-prod", "4f1c", ""}, {"acme-prod", "", fp}, {"", "", fp}} {
		owner, uid, fingerprint := parseRoleComment(roleComment(tc.owner, tc.uid, tc.fingerprint))
		if owner != tc.owner || uid != tc.uid || fingerprint != tc.fingerprint {
			t.Errorf("roleComment(%q, %q, %q) reads back as %q, %q, %q", tc.owner, tc.uid, tc.fingerprint, owner, uid, fingerprint)
		}
	}
	if owner, uid, fingerprint := parseRoleComment(fp); owner != "" || uid != "" || fingerprint != fp {
		t.Errorf("an old comment reads as %q, %q, %q", owner, uid, fingerprint)
	}
}
