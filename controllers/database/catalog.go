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

	"github.com/jackc/pgx/v5"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// querier is what a catalog read needs of a connection or a pool.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// The catalog queries. PUBLIC is grantee 0 in aclexplode; a NULL acl means the defaults (acldefault), under which
// PUBLIC may connect to a database.
const (
	roleQuery = `SELECT r.rolcanlogin,
       r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls,
       r.rolinherit,
       coalesce(shobj_description(r.oid, 'pg_authid'), ''),
       coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                 WHERE m.member = r.oid), '{}'),
       coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.member
                 WHERE m.roleid = r.oid), '{}'),
       EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.usesysid = r.oid)
FROM pg_roles r WHERE r.rolname = $1`
	// publicDatabasesQuery: of the admin database and template1, which every role may connect to by default, those
	// PUBLIC still may.
	publicDatabasesQuery = `SELECT coalesce(array_agg(d.datname::text ORDER BY d.datname), '{}') FROM pg_database d
WHERE d.datname IN ($1, 'template1')
  AND EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE a.grantee = 0)`
	databaseQuery = `SELECT pg_get_userbyid(d.datdba)::text, d.datistemplate,
       EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE a.grantee = 0),
       EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a JOIN pg_roles r ON r.oid = a.grantee
               WHERE r.rolname = $2 AND a.privilege_type = 'CONNECT')
FROM pg_database d WHERE d.datname = $1`
	schemaQuery = `SELECT pg_get_userbyid(n.nspowner)::text,
       EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE a.grantee = 0),
       EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a JOIN pg_roles r ON r.oid = a.grantee
               WHERE r.rolname = $2 AND a.privilege_type = 'USAGE')
FROM pg_namespace n WHERE n.nspname = $1`
	tablesQuery = `SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname IN ($3, $4)) = 2,
       (SELECT count(DISTINCT a.privilege_type) FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
          JOIN pg_roles r ON r.oid = a.grantee
        WHERE r.rolname = $5 AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')) = 4
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute att ON att.attrelid = c.oid AND att.attname = $2 AND NOT att.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
ORDER BY c.relname`
)

// readCatalog reads what exists for the tenant: from the admin database its role and databases, and, once the
// admin database shows the shared one exists, from the shared one (connected to by shared) the schemas and tables.
func readCatalog(ctx context.Context, admin querier, shared func() (querier, error), w Want, srv Server) (Catalog, error) {
	var c Catalog
	role := &Role{}
	var comment string
	err := admin.QueryRow(ctx, roleQuery, w.Role).Scan(&role.Login, &role.Privileged, &role.Inherit, &comment, &role.MemberOf,
		&role.Members, &role.Sessions)
	role.Owner, role.OwnerUID, role.Fingerprint = parseRoleComment(comment)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return c, fmt.Errorf("reading role %s: %w", w.Role, err)
	default:
		c.Role = role
	}
	if err := admin.QueryRow(ctx, publicDatabasesQuery, srv.AdminDatabase).Scan(&c.PublicDatabases); err != nil {
		return c, fmt.Errorf("reading the server's databases: %w", err)
	}
	readDatabase := func(name string) (*OwnedObject, bool, error) {
		d := &OwnedObject{}
		var roleConnect bool
		err := admin.QueryRow(ctx, databaseQuery, name, w.Role).Scan(&d.Owner, &d.Template, &d.PublicAccess, &roleConnect)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading database %s: %w", name, err)
		}
		return d, roleConnect, nil
	}
	if w.Model == tenancyv1alpha1.DatabaseModelDatabasePerTenant {
		c.Database, _, err = readDatabase(w.Role)
		return c, err
	}
	sharedDB, roleConnect, err := readDatabase(srv.SharedDatabase)
	if err != nil || sharedDB == nil {
		return c, err
	}
	sharedConn, err := shared()
	if err != nil {
		return c, err
	}
	c.Shared = SharedDatabase{Exists: true, PublicAccess: sharedDB.PublicAccess, RoleConnect: roleConnect}
	readSchema := func(name string) (*OwnedObject, bool, error) {
		s := &OwnedObject{}
		var usage bool
		err := sharedConn.QueryRow(ctx, schemaQuery, name, w.Role).Scan(&s.Owner, &s.PublicAccess, &usage)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading schema %s: %w", name, err)
		}
		return s, usage, nil
	}
	public, _, err := readSchema("public")
	if err != nil {
		return c, err
	}
	c.Shared.PublicSchemaOpen = public != nil && public.PublicAccess
	if w.Model == tenancyv1alpha1.DatabaseModelSchemaPerTenant {
		c.Schema, _, err = readSchema(w.Role)
		return c, err
	}
	sharedSchema, usage, err := readSchema(srv.SharedSchema)
	if err != nil || sharedSchema == nil {
		return c, err
	}
	c.Shared.SharedSchemaExists, c.Shared.RoleUsage = true, usage
	rows, err := sharedConn.Query(ctx, tablesQuery, srv.SharedSchema, srv.TenantColumn, policyRestrictive, policyPermissive, w.Role)
	if err != nil {
		return c, fmt.Errorf("reading the tables of schema %s: %w", srv.SharedSchema, err)
	}
	c.Shared.Tables, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Table, error) {
		var t Table
		err := row.Scan(&t.Name, &t.RowSecurity, &t.Forced, &t.Policies, &t.Granted)
		return t, err
	})
	if err != nil {
		return c, fmt.Errorf("reading the tables of schema %s: %w", srv.SharedSchema, err)
	}
	return c, nil
}
