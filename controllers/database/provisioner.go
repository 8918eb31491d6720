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
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pools: at most maxConnsPerDatabase connections to each database of a server (its admin and shared ones), however
// many tenants there are; idle ones close, so a quiet operator holds none.
const (
	maxConnsPerDatabase = 2
	maxConnIdle         = time.Minute
	connectTimeout      = 5 * time.Second
	// maxPlans bounds the read-plan-run rounds of one pass: a plan that creates the shared database leaves its
	// contents to the next.
	maxPlans = 4
)

// Provisioner runs plans on the registered servers.
type Provisioner struct {
	rand io.Reader

	mu    sync.Mutex
	pools map[poolKey]*pgxpool.Pool
	// writers serialises the plans run on each server (by name): tenants share objects there (the shared database
	// and schema, whose privileges every grant rewrites), which PostgreSQL does not let two sessions change at once.
	// Catalog reads, all a steady tenant costs, never wait for it.
	writers map[string]chan struct{}
	// down holds, by registration, until when a server that did not answer is taken as unreachable without trying:
	// one dead server must not hold every reconcile worker for a connect timeout per tenant.
	down map[string]time.Time

	statements atomic.Int64
	// OnStatement, when set, is told of every statement run, by server name (for the operator's metrics).
	OnStatement func(server string)
}

// poolKey is one database of one registration: a changed registration (new password, host, CA) gets new pools.
type poolKey struct{ registration, database string }

// NewProvisioner returns a Provisioner; rand salts the password verifiers (crypto/rand.Reader in the operator).
func NewProvisioner(rand io.Reader) *Provisioner {
	return &Provisioner{rand: rand, pools: map[poolKey]*pgxpool.Pool{}, writers: map[string]chan struct{}{}, down: map[string]time.Time{}}
}

// Statements is how many statements the provisioner ran (catalog reads excluded), for the benchmark and metrics.
func (p *Provisioner) Statements() int64 { return p.statements.Load() }

// Close closes every connection.
func (p *Provisioner) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, pool := range p.pools {
		pool.Close()
		delete(p.pools, k)
	}
}

// downFor is how long a server that did not answer is taken as unreachable.
const downFor = 10 * time.Second

// Ensure brings the tenant's database on srv to w: it reads the catalog and runs the plan until the plan is empty.
// A steady tenant costs one catalog read. Errors are classified (ErrUnreachable, ErrAuthenticationFailed).
func (p *Provisioner) Ensure(ctx context.Context, srv Server, w Want) error {
	return p.tracking(srv, func() error { return p.ensure(ctx, srv, w) })
}

// tracking runs f unless srv was unreachable moments ago, and remembers whether it was reachable.
func (p *Provisioner) tracking(srv Server, f func() error) error {
	key := registrationKey(srv) // a registration that changed (another host or port) is tried at once
	p.mu.Lock()
	until, isDown := p.down[key]
	p.mu.Unlock()
	if isDown && time.Now().Before(until) {
		return fmt.Errorf("%w: database server %s did not answer moments ago", ErrUnreachable, srv.Name)
	}
	err := Classify(f())
	p.mu.Lock()
	defer p.mu.Unlock()
	if errors.Is(err, ErrUnreachable) {
		p.down[key] = time.Now().Add(downFor)
	} else {
		delete(p.down, key)
	}
	return err
}

func (p *Provisioner) ensure(ctx context.Context, srv Server, w Want) error {
	for range maxPlans {
		admin, shared, err := p.connections(srv)
		if err != nil {
			return err
		}
		c, err := readCatalog(ctx, admin, shared, w, srv)
		if err != nil {
			return err
		}
		plan, err := Plan(w, srv, c, p.rand)
		if err != nil || len(plan) == 0 {
			return err
		}
		// Something to change: read and plan again holding the server's writer lock, so that two passes never
		// plan the same change (a shared database, a schema) and race to make it.
		if err := p.locked(ctx, srv, func() error {
			if c, err = readCatalog(ctx, admin, shared, w, srv); err != nil {
				return err
			}
			if plan, err = Plan(w, srv, c, p.rand); err != nil {
				return err
			}
			return p.run(ctx, srv, plan)
		}); err != nil {
			return err
		}
	}
	return fmt.Errorf("database server %s: the tenant's database did not settle in %d passes", srv.Name, maxPlans)
}

// Remove erases the tenant's data and role on srv (PlanRemove).
func (p *Provisioner) Remove(ctx context.Context, srv Server, w Want) error {
	return p.tracking(srv, func() error {
		return p.once(ctx, srv, w, func(c Catalog) ([]Statement, error) { return PlanRemove(w, srv, c) })
	})
}

// Retire ends the logins of a retained tenant's role (PlanRetire), and does nothing for a tenant without one.
func (p *Provisioner) Retire(ctx context.Context, srv Server, w Want) error {
	return p.tracking(srv, func() error {
		return p.once(ctx, srv, w, func(c Catalog) ([]Statement, error) { return PlanRetire(w, c) })
	})
}

// once reads the catalog and runs one plan of it, holding the server's writer lock.
func (p *Provisioner) once(ctx context.Context, srv Server, w Want, plan func(Catalog) ([]Statement, error)) error {
	admin, shared, err := p.connections(srv)
	if err != nil {
		return err
	}
	return p.locked(ctx, srv, func() error {
		c, err := readCatalog(ctx, admin, shared, w, srv)
		if err != nil {
			return err
		}
		statements, err := plan(c)
		if err != nil {
			return err
		}
		return p.run(ctx, srv, statements)
	})
}

// locked runs f holding srv's writer lock, or gives up when ctx ends first.
func (p *Provisioner) locked(ctx context.Context, srv Server, f func() error) error {
	p.mu.Lock()
	writer, ok := p.writers[srv.Name]
	if !ok {
		writer = make(chan struct{}, 1)
		p.writers[srv.Name] = writer
	}
	p.mu.Unlock()
	select {
	case writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("database server %s: waiting for another tenant's provisioning: %w", srv.Name, ctx.Err())
	}
	defer func() { <-writer }()
	return f()
}

// connections are the admin database's pool, and a way to the shared database's, which readCatalog takes only once
// the admin database shows it exists.
func (p *Provisioner) connections(srv Server) (admin *pgxpool.Pool, shared func() (querier, error), err error) {
	if admin, err = p.pool(srv, srv.AdminDatabase); err != nil {
		return nil, nil, err
	}
	return admin, func() (querier, error) { return p.pool(srv, srv.SharedDatabase) }, nil
}

// run runs a plan's statements in order; the caller holds the server's writer lock.
func (p *Provisioner) run(ctx context.Context, srv Server, plan []Statement) error {
	for _, s := range plan {
		database := srv.AdminDatabase
		if s.On == OnShared {
			database = srv.SharedDatabase
		}
		pool, err := p.pool(srv, database)
		if err != nil {
			return err
		}
		p.statements.Add(1)
		if p.OnStatement != nil {
			p.OnStatement(srv.Name)
		}
		if err := p.exec(ctx, pool, s); err != nil {
			// The verb, never the arguments: they hold password verifiers.
			return fmt.Errorf("database server %s: %s: %w", srv.Name, verb(s.Format), err)
		}
	}
	return nil
}

// exec has the server fill the statement's format (its quoting of %I and %L), then runs the result with the simple
// protocol, so that no statement holding a verifier stays in a prepared-statement cache.
func (p *Provisioner) exec(ctx context.Context, pool *pgxpool.Pool, s Statement) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	placeholders := make([]string, len(s.Args)+1)
	args := make([]any, 0, len(s.Args)+1)
	args = append(args, s.Format)
	for i := range placeholders {
		placeholders[i] = "$" + strconv.Itoa(i+1) + "::text"
	}
	for _, a := range s.Args {
		args = append(args, a)
	}
	var sql string
	if err := conn.QueryRow(ctx, "SELECT pg_catalog.format("+strings.Join(placeholders, ", ")+")", args...).Scan(&sql); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// verb is the start of a statement's format, for errors: "CREATE ROLE", "ALTER TABLE".
func verb(format string) string {
	words := strings.Fields(format)
	return strings.Join(words[:min(2, len(words))], " ")
}

func (p *Provisioner) pool(srv Server, database string) (*pgxpool.Pool, error) {
	key := poolKey{registration: registrationKey(srv), database: database}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pool, ok := p.pools[key]; ok {
		return pool, nil
	}
	// A changed registration replaces the pools of the old one.
	for k, pool := range p.pools {
		if k.registration != key.registration && strings.HasPrefix(k.registration, srv.Name+"/") {
			pool.Close()
			delete(p.pools, k)
		}
	}
	cfg, err := poolConfig(srv, database)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("database server %s: %w", srv.Name, err)
	}
	p.pools[key] = pool
	return pool, nil
}

// registrationKey names a registration's content: its name, then a hash of what connections depend on.
func registrationKey(srv Server) string {
	h := sha256.New()
	for _, part := range []string{srv.Host, strconv.Itoa(srv.Port), srv.AdminUser, srv.AdminPassword, string(srv.CACert)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return srv.Name + "/" + hex.EncodeToString(h.Sum(nil))
}

// poolConfig connects over TLS verified against the registration's CA for its host name (verify-full), with
// nothing taken from the environment.
func poolConfig(srv Server, database string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(srv.CACert) {
		return nil, fmt.Errorf("database server %s: no CA certificate", srv.Name)
	}
	cc := cfg.ConnConfig
	cc.Host, cc.Port, cc.Database, cc.User, cc.Password = srv.Host, uint16(srv.Port), database, srv.AdminUser, srv.AdminPassword //nolint:gosec // ServerFromSecret checked the port
	cc.TLSConfig = &tls.Config{RootCAs: roots, ServerName: srv.Host, MinVersion: tls.VersionTLS12}
	cc.Fallbacks = nil
	cc.ConnectTimeout = connectTimeout
	cc.RuntimeParams = map[string]string{
		"application_name": "tenant-operator",
		// Nothing a tenant created (a function shadowing a built-in in a schema it may write) is ever found by name
		// in the operator's sessions, which run as the server's admin.
		"search_path": "pg_catalog",
		// A statement waiting behind a tenant's long transaction (ALTER TABLE, CREATE POLICY) gives up rather than
		// hold the server's writer lock, and with it every other tenant of the server.
		"lock_timeout":      "5s",
		"statement_timeout": "30s",
		// An admin that does not bypass row-level security gets an error, not a silent no-op, when erasing a
		// tenant's rows.
		"row_security": "off",
	}
	cc.KerberosSrvName, cc.KerberosSpn = "", ""
	cfg.MaxConns, cfg.MinConns, cfg.MaxConnIdleTime = maxConnsPerDatabase, 0, maxConnIdle
	return cfg, nil
}

// Reasons a server could not be used, for the tenant's DatabaseReady condition.
var (
	ErrUnreachable          = errors.New("unreachable")
	ErrAuthenticationFailed = errors.New("authentication failed")
	// ErrRoleTaken: the tenant's role is recorded as another namespace's tenant's (Want.Owner).
	ErrRoleTaken = errors.New("role taken")
)

// Classify tells an unreachable server and refused credentials from other failures (which it returns as they are).
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrAuthenticationFailed) || errors.Is(err, ErrRoleTaken) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000") {
		return fmt.Errorf("%w: %s", ErrAuthenticationFailed, pgErr.Message)
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return err
}
