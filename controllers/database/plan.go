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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// On is the database a statement runs in.
type On int

const (
	// OnAdmin is the server's admin database: roles and databases.
	OnAdmin On = iota
	// OnShared is the shared database: the schemas, tables and policies of SharedSchema and SchemaPerTenant.
	OnShared
)

// Statement is one SQL statement as a format string of PostgreSQL's format(), every identifier a %I and every
// literal a %L, filled by Args: the server quotes them, so no name or value can change what the statement does.
type Statement struct {
	On     On
	Format string
	Args   []string
}

// Want is a tenant's database as its spec and its Secret say.
type Want struct {
	Role  string
	Model tenancyv1alpha1.DatabaseModel
	// Password is the one the tenant's Secret holds; empty when none is known, which leaves the role's as it is.
	Password string
	// Login is false for a retained tenant: its role and data stay, but nobody signs in as it.
	Login bool
	// Owner and OwnerUID are the namespace whose tenant's data the role holds (recorded in the role's comment): a role
	// recorded for another namespace is not this tenant's, however its name came to match (a new Tenant of a deleted
	// one's name), and nothing is done to it (ErrRoleTaken); nor is a retired role recorded for an earlier namespace of
	// the same name (deleted since). A Tenant that adopts the retained namespace is its owner again.
	Owner, OwnerUID string
}

// Catalog is what exists on the server for one tenant (ReadCatalog).
type Catalog struct {
	// Role is nil when the tenant has no role.
	Role *Role
	// Shared is the shared database, for the models that use it.
	Shared SharedDatabase
	// PublicDatabases are the databases every role may connect to by default (the admin database, template1)
	// that PUBLIC still may: a tenant session there could hold up CREATE DATABASE or leave objects behind.
	PublicDatabases []string
	// Database is the tenant's own database (DatabasePerTenant); nil when there is none.
	Database *OwnedObject
	// Schema is the tenant's own schema in the shared database (SchemaPerTenant); nil when there is none.
	Schema *OwnedObject
}

// Role is the tenant's role as the server has it.
type Role struct {
	Login bool
	// Privileged: superuser, createrole, createdb, replication or bypassrls, which no tenant role may hold.
	Privileged bool
	// Inherit: the role inherits the privileges of the roles it is a member of (pg_database_owner's only).
	Inherit bool
	// MemberOf are the roles it was granted (SET ROLE targets), and Members the roles granted it (PostgreSQL 15
	// lets a role grant itself to others).
	MemberOf, Members []string
	// Sessions: someone is signed in as it.
	Sessions bool
	// Owner, OwnerUID and Fingerprint are what the role's comment says (roleComment): the namespace whose tenant's
	// data it holds ("" for a role the operator made before it recorded owners) and its password (passwordFingerprint).
	Owner, OwnerUID, Fingerprint string
}

// SharedDatabase is the shared database and what tenants may do in it; its fields past Exists are read only when
// it exists.
type SharedDatabase struct {
	Exists bool
	// PublicAccess: PUBLIC (every role) may connect to it or create temporary tables.
	PublicAccess bool
	// RoleConnect: the tenant's role may connect.
	RoleConnect bool
	// PublicSchemaOpen: PUBLIC holds a privilege on its schema public.
	PublicSchemaOpen bool
	// SharedSchemaExists and RoleUsage: the SharedSchema schema, and the tenant role's USAGE on it.
	SharedSchemaExists, RoleUsage bool
	// Tables are the shared schema's tables with the tenant column, by name.
	Tables []Table
}

// Table is a table of the shared schema with the tenant column.
type Table struct {
	Name string
	// RowSecurity and Forced: row-level security is enabled, and forced on the table's owner too.
	RowSecurity, Forced bool
	// Policies: the tenant policies (policyRestrictive, policyPermissive) exist.
	Policies bool
	// Granted: the tenant's role may select, insert, update and delete.
	Granted bool
}

// OwnedObject is a tenant's database or schema.
type OwnedObject struct {
	Owner string
	// Template: the database was marked a template, which its owner may do, and which DROP DATABASE refuses.
	Template bool
	// PublicAccess: PUBLIC holds a privilege on it.
	PublicAccess bool
}

// Names of the row-level security policies of a shared table. The restrictive one holds whatever permissive
// policy a table owner adds; the permissive one gives a tenant its own rows, as a restrictive policy alone gives
// nothing.
const (
	policyRestrictive = "tenant_isolation"
	policyPermissive  = "tenant_rows"
)

// maxConnections caps a tenant role's connections, so that one tenant cannot exhaust the server's.
const maxConnections = "20"

// Plan is what brings the server to want: nothing when the catalog already says so, so a steady tenant costs the
// catalog read only. A plan may stop short of the shared database's contents when it creates that database: the
// next read shows it, and the next plan goes on (Provisioner runs plans until one is empty). rand salts the
// password's SCRAM verifier.
func Plan(w Want, srv Server, c Catalog, rand io.Reader) ([]Statement, error) {
	p := &planner{w: w, srv: srv, c: c}
	if err := p.role(rand); err != nil {
		return nil, err
	}
	for _, db := range c.PublicDatabases {
		p.add(OnAdmin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", db)
	}
	switch {
	case w.Model == tenancyv1alpha1.DatabaseModelDatabasePerTenant:
		p.ownDatabase()
	case !c.Shared.Exists:
		p.add(OnAdmin, "CREATE DATABASE %I TEMPLATE template0", srv.SharedDatabase)
		p.add(OnAdmin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", srv.SharedDatabase)
		// its contents on the next plan, once it exists
	default:
		p.sharedDatabase()
		if w.Model == tenancyv1alpha1.DatabaseModelSchemaPerTenant {
			p.ownSchema()
		} else {
			p.sharedSchema()
		}
	}
	return p.out, nil
}

// planner collects a plan's statements, step by step.
type planner struct {
	w   Want
	srv Server
	c   Catalog
	out []Statement
}

func (p *planner) add(on On, format string, args ...string) {
	p.out = append(p.out, Statement{On: on, Format: format, Args: args})
}

// role: the tenant's login role, its password, and no membership either way.
func (p *planner) role(rand io.Reader) error {
	w, r := p.w, p.c.Role
	if err := checkOwner(w, r); err != nil {
		return err
	}
	fingerprint := passwordFingerprint(w.Password)
	login := "NOLOGIN"
	if w.Login {
		login = "LOGIN"
	}
	// No privilege beyond its own objects and a bounded number of connections. INHERIT is for pg_database_owner,
	// through which the owner of a database holds its public schema; the role is a member of no other role.
	attributes := login + " NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT " + maxConnections
	setPassword := func(format string, args ...string) error {
		verifier, err := scramVerifier(w.Password, rand)
		if err != nil {
			return err
		}
		p.add(OnAdmin, format, append(args, verifier)...)
		p.add(OnAdmin, "COMMENT ON ROLE %I IS %L", w.Role, roleComment(w.Owner, w.OwnerUID, fingerprint))
		return nil
	}
	if r == nil {
		if w.Password == "" {
			p.add(OnAdmin, "CREATE ROLE %I WITH "+attributes, w.Role)
			p.add(OnAdmin, "COMMENT ON ROLE %I IS %L", w.Role, roleComment(w.Owner, w.OwnerUID, ""))
			return nil
		}
		return setPassword("CREATE ROLE %I WITH "+attributes+" PASSWORD %L", w.Role)
	}
	if r.Login != w.Login || r.Privileged || !r.Inherit {
		p.add(OnAdmin, "ALTER ROLE %I WITH "+attributes, w.Role)
	}
	// No password known (a retained tenant whose Secret is gone): the role keeps its own.
	switch {
	case w.Password != "" && r.Fingerprint != fingerprint:
		if err := setPassword("ALTER ROLE %I WITH PASSWORD %L", w.Role); err != nil {
			return err
		}
	case r.Owner != w.Owner || r.OwnerUID != w.OwnerUID:
		// A role made before owners were recorded, or a live tenant's whose namespace was made again: recorded as
		// this tenant's, of this namespace, now.
		p.add(OnAdmin, "COMMENT ON ROLE %I IS %L", w.Role, roleComment(w.Owner, w.OwnerUID, r.Fingerprint))
	}
	for _, group := range r.MemberOf {
		p.add(OnAdmin, "REVOKE %I FROM %I", group, w.Role)
	}
	for _, member := range r.Members {
		p.add(OnAdmin, "REVOKE %I FROM %I", w.Role, member)
	}
	if !w.Login && r.Sessions {
		// Retained: sessions already open end too (and again, should a pass have stopped before they did).
		// Waiting up to 5 s for each to end (PostgreSQL 14 and later), so that the next catalog read finds them gone.
		p.add(OnAdmin, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %L", w.Role)
	}
	return nil
}

// ownDatabase: DatabasePerTenant's database, owned by the role, closed to everyone else.
func (p *planner) ownDatabase() {
	role, d := p.w.Role, p.c.Database
	if d == nil {
		// From template0, which nobody can connect to or leave objects in.
		p.add(OnAdmin, "CREATE DATABASE %I OWNER %I TEMPLATE template0", role, role)
		p.add(OnAdmin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", role)
		return
	}
	if d.Template {
		p.add(OnAdmin, "ALTER DATABASE %I IS_TEMPLATE false", role)
	}
	if d.Owner != role {
		p.add(OnAdmin, "ALTER DATABASE %I OWNER TO %I", role, role)
	}
	if d.PublicAccess {
		p.add(OnAdmin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", role)
	}
}

// sharedDatabase: closed to PUBLIC, its public schema locked before any tenant may connect, then the tenant's CONNECT.
func (p *planner) sharedDatabase() {
	s, db := p.c.Shared, p.srv.SharedDatabase
	if s.PublicAccess {
		p.add(OnAdmin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", db)
	}
	if s.PublicSchemaOpen {
		p.add(OnShared, "REVOKE ALL ON SCHEMA public FROM PUBLIC")
	}
	if !s.RoleConnect {
		p.add(OnAdmin, "GRANT CONNECT ON DATABASE %I TO %I", db, p.w.Role)
	}
}

// ownSchema: SchemaPerTenant's schema, owned by the role, closed to everyone else.
func (p *planner) ownSchema() {
	role, sc := p.w.Role, p.c.Schema
	if sc == nil {
		p.add(OnShared, "CREATE SCHEMA %I AUTHORIZATION %I", role, role)
		return
	}
	if sc.Owner != role {
		p.add(OnShared, "ALTER SCHEMA %I OWNER TO %I", role, role)
	}
	if sc.PublicAccess {
		p.add(OnShared, "REVOKE ALL ON SCHEMA %I FROM PUBLIC", role)
	}
}

// sharedSchema: SharedSchema's schema, the role's USAGE, and on every table with the tenant column row-level
// security, enabled and forced, its two policies, and the role's grant.
func (p *planner) sharedSchema() {
	s, schema, column := p.c.Shared, p.srv.SharedSchema, p.srv.TenantColumn
	if !s.SharedSchemaExists {
		p.add(OnShared, "CREATE SCHEMA %I", schema)
	}
	if !s.RoleUsage {
		p.add(OnShared, "GRANT USAGE ON SCHEMA %I TO %I", schema, p.w.Role)
	}
	for _, t := range s.Tables {
		if !t.RowSecurity {
			p.add(OnShared, "ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY", schema, t.Name)
		}
		if !t.Forced {
			p.add(OnShared, "ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY", schema, t.Name)
		}
		if !t.Policies {
			// Bound to the connecting role (session_user), which no client setting and no SET ROLE changes.
			for _, policy := range []struct{ name, kind string }{{policyRestrictive, "RESTRICTIVE"}, {policyPermissive, "PERMISSIVE"}} {
				p.add(OnShared, "DROP POLICY IF EXISTS %I ON %I.%I", policy.name, schema, t.Name)
				p.add(OnShared, "CREATE POLICY %I ON %I.%I AS "+policy.kind+" FOR ALL TO PUBLIC USING (%I = session_user::text) WITH CHECK (%I = session_user::text)",
					policy.name, schema, t.Name, column, column)
			}
		}
		if !t.Granted {
			p.add(OnShared, "GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO %I", schema, t.Name, p.w.Role)
		}
	}
}

// PlanRetire ends every login of a retained tenant's role, and changes nothing else: no role is made for a tenant
// that never had one, no password is set.
func PlanRetire(w Want, c Catalog) ([]Statement, error) {
	r := c.Role
	if r == nil {
		return nil, nil
	}
	if err := checkOwner(w, r); err != nil {
		return nil, err
	}
	var out []Statement
	if r.Login {
		out = append(out, Statement{On: OnAdmin, Format: "ALTER ROLE %I WITH NOLOGIN", Args: []string{w.Role}})
	}
	if r.Login || r.Sessions {
		out = append(out, Statement{On: OnAdmin, Format: "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %L", Args: []string{w.Role}})
	}
	if r.Owner == "" && w.Owner != "" {
		// Made before owners were recorded: retired as this namespace's, so that no namesake takes it.
		out = append(out, Statement{On: OnAdmin, Format: "COMMENT ON ROLE %I IS %L", Args: []string{w.Role, roleComment(w.Owner, w.OwnerUID, r.Fingerprint)}})
	}
	return out, nil
}

// PlanRemove erases the tenant's data and role (deletionPolicy Delete): its database, its schema, or its rows of
// every shared table; then whatever the role still holds, and the role.
func PlanRemove(w Want, srv Server, c Catalog) ([]Statement, error) {
	if err := checkOwner(w, c.Role); err != nil {
		return nil, err
	}
	var out []Statement
	add := func(on On, format string, args ...string) {
		out = append(out, Statement{On: on, Format: format, Args: args})
	}
	if c.Role != nil && c.Role.Login {
		add(OnAdmin, "ALTER ROLE %I WITH NOLOGIN", w.Role)
	}
	if c.Role != nil && (c.Role.Login || c.Role.Sessions) {
		add(OnAdmin, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %L", w.Role)
	}
	shared := c.Shared.Exists && w.Model != tenancyv1alpha1.DatabaseModelDatabasePerTenant
	switch {
	case w.Model == tenancyv1alpha1.DatabaseModelDatabasePerTenant && c.Database != nil:
		if c.Database.Template {
			add(OnAdmin, "ALTER DATABASE %I IS_TEMPLATE false", w.Role)
		}
		add(OnAdmin, "DROP DATABASE IF EXISTS %I WITH (FORCE)", w.Role)
	case w.Model == tenancyv1alpha1.DatabaseModelSchemaPerTenant && shared && c.Schema != nil:
		add(OnShared, "DROP SCHEMA IF EXISTS %I CASCADE", w.Role)
	case w.Model == tenancyv1alpha1.DatabaseModelSharedSchema && shared && c.Role != nil: // no role: its rows went before it
		for _, t := range c.Shared.Tables {
			add(OnShared, "DELETE FROM %I.%I WHERE %I = %L", srv.SharedSchema, t.Name, srv.TenantColumn, w.Role)
		}
	}
	if c.Role != nil {
		if shared {
			add(OnShared, "DROP OWNED BY %I", w.Role) // its grants in the shared database, and on the database itself
		}
		add(OnAdmin, "DROP OWNED BY %I", w.Role)
		add(OnAdmin, "DROP ROLE IF EXISTS %I", w.Role)
	}
	return out, nil
}

// checkOwner refuses a role recorded as another namespace's tenant's, or, retired, as an earlier namespace's of the
// same name (its tenant deleted, the namespace deleted since, the data kept): ErrRoleTaken. A role that signs in is
// the live tenant's of that name (Tenant names are unique), whose namespace was made again.
func checkOwner(w Want, r *Role) error {
	switch {
	case r == nil || r.Owner == "":
		return nil
	case r.Owner != w.Owner:
		return fmt.Errorf("%w: role %s holds the data of the tenant of namespace %s (kept, or in use); a Tenant of namespace %s "+
			"may not take it over: adopt that namespace (spec.namespace and spec.adoptRetainedNamespace), or wait for its erasure",
			ErrRoleTaken, w.Role, r.Owner, w.Owner)
	case !r.Login && r.OwnerUID != "" && w.OwnerUID != "" && r.OwnerUID != w.OwnerUID:
		return fmt.Errorf("%w: role %s holds the data of a deleted tenant of an earlier namespace %s (since deleted and made "+
			"again); a database admin must drop the role, or keep it, before this tenant can have one", ErrRoleTaken, w.Role, r.Owner)
	}
	return nil
}

// rolePrefix starts the comment of every role the operator records an owner for.
const rolePrefix = "tenant-operator namespace "

// roleComment is what a role's comment says: the namespace (name and UID) whose tenant owns it and its password's
// fingerprint. A role without an owner keeps the fingerprint alone, as the operator wrote it before it recorded owners.
func roleComment(owner, uid, fingerprint string) string {
	if owner == "" {
		return fingerprint
	}
	if uid == "" {
		uid = "-"
	}
	return strings.TrimSpace(rolePrefix + owner + " uid " + uid + " " + strings.TrimPrefix(fingerprint, "tenant-operator "))
}

// parseRoleComment reads roleComment back. Namespace names and UIDs hold no spaces.
func parseRoleComment(comment string) (owner, uid, fingerprint string) {
	rest, ok := strings.CutPrefix(comment, rolePrefix)
	if !ok {
		return "", "", comment
	}
	owner, rest, _ = strings.Cut(rest, " ")
	if after, ok := strings.CutPrefix(rest, "uid "); ok {
		uid, rest, _ = strings.Cut(after, " ")
		if uid == "-" {
			uid = ""
		}
	}
	if rest == "" {
		return owner, uid, ""
	}
	return owner, uid, "tenant-operator " + rest
}

// passwordFingerprint is what a role's comment says of its password: enough to tell whether the Secret's password
// is the role's, nothing to recover it from (a hash of 256 random bits).
func passwordFingerprint(password string) string {
	sum := sha256.Sum256([]byte(password))
	return "tenant-operator password sha256:" + hex.EncodeToString(sum[:])
}
