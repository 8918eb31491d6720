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
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/hack/localpostgres"
)

var (
	pg     *localpostgres.Server
	server database.Server
	report = &ledger{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := run(m)
	if table := report.String(); table != "" {
		fmt.Print(table)
		// go test shows a passing package's output only with -v: make test prints the report file instead.
		if path := os.Getenv("DATABASE_REPORT"); path != "" {
			if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
				fmt.Fprintln(os.Stderr, "writing the database report:", err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

func run(m *testing.M) int {
	if testing.Short() || os.Getenv("TEST_DATABASE") == "skip" {
		report.note = "The database tier was skipped (TEST_DATABASE=skip or -short): no SQL ran, nothing below was proven."
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if pg, err = localpostgres.Start(ctx, localpostgres.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "starting PostgreSQL:", err, "(TEST_DATABASE=skip skips the database tier)")
		return 1
	}
	defer func() { _ = pg.Stop() }()
	server = database.Server{
		Name: "main", Host: pg.Host, Port: pg.Port, AdminUser: pg.AdminUser, AdminPassword: pg.AdminPassword,
		CACert: pg.CACertPEM, AdminDatabase: database.DefaultAdminDatabase, SharedDatabase: database.DefaultSharedDatabase,
		SharedSchema: database.DefaultSharedSchema, TenantColumn: database.DefaultTenantColumn,
	}
	return m.Run()
}

func skipUnlessServer(t *testing.T) {
	t.Helper()
	if pg == nil {
		t.Skip(report.note)
	}
}

// provisioner is a provisioner of the test's, closed when it ends, and a context bounding the test; it skips the
// test without a server.
func provisioner(t *testing.T, limit time.Duration) (context.Context, *database.Provisioner) {
	t.Helper()
	skipUnlessServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	p := database.NewProvisioner(rand.Reader)
	t.Cleanup(p.Close)
	return ctx, p
}

// tenant is one tenant of a model's pair, with the credentials its Secret would hold.
type tenant struct {
	database.Want
	db string // the database it connects to
}

func newTenant(t *testing.T, name string, model tenancyv1alpha1.DatabaseModel) tenant {
	t.Helper()
	role := "tenant_" + map[tenancyv1alpha1.DatabaseModel]string{tenancyv1alpha1.DatabaseModelSharedSchema: "rows", tenancyv1alpha1.DatabaseModelSchemaPerTenant: "schema", tenancyv1alpha1.DatabaseModelDatabasePerTenant: "db"}[model] + "_" + name
	tn := tenant{Want: database.Want{Role: role, Model: model, Password: randomPassword(t), Login: true}, db: server.SharedDatabase}
	if model == tenancyv1alpha1.DatabaseModelDatabasePerTenant {
		tn.db = role
	}
	return tn
}

func randomPassword(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func ensure(ctx context.Context, t *testing.T, p *database.Provisioner, tenants ...tenant) {
	t.Helper()
	for _, tn := range tenants {
		if err := p.Ensure(ctx, server, tn.Want); err != nil {
			t.Fatalf("provisioning %s: %v", tn.Role, err)
		}
	}
}

func connect(ctx context.Context, t *testing.T, tn tenant) *pgx.Conn {
	t.Helper()
	conn, err := pg.Connect(ctx, tn.Role, tn.Password, tn.db)
	if err != nil {
		t.Fatalf("%s connects to its database %s: %v", tn.Role, tn.db, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func admin(ctx context.Context, t *testing.T, db string) *pgx.Conn {
	t.Helper()
	conn, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func exec(ctx context.Context, t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// attempt is one SQL statement tenant A runs: refused ones must fail, allowed ones succeed (and, with rows set,
// return exactly that count).
type attempt struct {
	what string
	// before runs first in the same transaction (a setting the attempt relies on); its failure is a refusal too.
	before, sql string
	allow       bool
	rows        *int64
	// outsideTx runs sql on its own, for the statements PostgreSQL refuses in a transaction block.
	outsideTx bool
}

func count(n int64) *int64 { return &n }

// try runs the attempts in a transaction each (rolled back, so that one attempt's effect never helps the next) and
// records them under section.
func try(ctx context.Context, t *testing.T, section string, conn *pgx.Conn, attempts []attempt) {
	t.Helper()
	for _, a := range attempts {
		got, ok := outcome(ctx, conn, a)
		report.add(row{section: section, what: a.what, want: wantText(a), got: got, ok: ok})
		if !ok {
			t.Errorf("%s: %s (%s): got %s, want %s", section, a.what, a.sql, got, wantText(a))
		}
	}
}

// outcome runs the attempt. A refusal counts only as PostgreSQL's insufficient_privilege (SQLSTATE 42501, which
// covers ownership, role and row-level security refusals): a syntax error or any other failure proves nothing.
func outcome(ctx context.Context, conn *pgx.Conn, a attempt) (string, bool) {
	got, err := run1(ctx, conn, a)
	var pgErr *pgconn.PgError
	switch {
	case err != nil && a.allow:
		return "refused: " + errText(err), false
	case err != nil:
		return "refused: " + errText(err), errors.As(err, &pgErr) && pgErr.Code == "42501"
	case !a.allow:
		return "allowed", false
	}
	return got, a.rows == nil || got == wantText(a)
}

// run1 runs one attempt, in a transaction rolled back after it unless outsideTx, and says what it returned.
func run1(ctx context.Context, conn *pgx.Conn, a attempt) (string, error) {
	if a.outsideTx {
		_, err := conn.Exec(ctx, a.sql)
		return "allowed", err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var n int64
	if a.before != "" {
		_, err = tx.Exec(ctx, a.before)
	}
	switch {
	case err != nil:
	case a.rows != nil:
		err = tx.QueryRow(ctx, a.sql).Scan(&n)
	default:
		_, err = tx.Exec(ctx, a.sql)
	}
	if a.rows != nil {
		return fmt.Sprintf("allowed, %d rows", n), err
	}
	return "allowed", err
}

func wantText(a attempt) string {
	switch {
	case !a.allow:
		return "refused"
	case a.rows != nil:
		return fmt.Sprintf("allowed, %d rows", *a.rows)
	}
	return "allowed"
}

// errText is PostgreSQL's message, or the client's when the server never answered.
func errText(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	return err.Error()
}

// ledger is the report: a table per model.
type ledger struct {
	mu   sync.Mutex
	rows []row
	note string
}

type row struct {
	section, what, want, got string
	ok                       bool
}

func (l *ledger) add(r row) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, r)
}

func (l *ledger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.rows) == 0 && l.note == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n# Tenant data isolation in PostgreSQL (make test-database)\n")
	if l.note != "" {
		b.WriteString("\n" + l.note + "\n")
	}
	section, failed := "", 0
	for _, r := range l.rows {
		if r.section != section {
			section = r.section
			fmt.Fprintf(&b, "\n## %s\n\n| attempt | want | got | |\n| --- | --- | --- | --- |\n", section)
		}
		mark := "ok"
		if !r.ok {
			mark, failed = "FAIL", failed+1
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.what, r.want, strings.ReplaceAll(r.got, "|", "/"), mark)
	}
	fmt.Fprintf(&b, "\n%d attempts, %d not as wanted\n", len(l.rows), failed)
	return b.String()
}
