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

package localpostgres

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// helperEnv makes the test binary a helper that starts a server, prints it and waits to be killed, so that a test
// can kill a process holding a server the way a timeout or Ctrl-C kills a test binary.
const helperEnv = "LOCALPOSTGRES_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		runHelper()
	}
	os.Exit(m.Run())
}

// runHelper starts a server and waits to be killed; it never returns.
func runHelper() {
	s, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d %d %s\n", s.proc.pid(), s.Port, s.Dir)
	time.Sleep(time.Hour) // killed long before
	os.Exit(1)
}

// skipUnlessDatabaseTier skips under -short or TEST_DATABASE=skip, and only then: a missing server fails the test.
func skipUnlessDatabaseTier(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server: skipped under -short")
	}
	if os.Getenv("TEST_DATABASE") == "skip" {
		t.Skip("database tier skipped (TEST_DATABASE=skip): no PostgreSQL server in this run")
	}
}

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	skipUnlessDatabaseTier(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping PostgreSQL: %v", err)
		}
	})
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestServer(t *testing.T) {
	// 127.0.0.2 is loopback too on Linux: a second address to listen on, with its own pg_hba line and SAN.
	s := startServer(t, Options{
		ListenAddresses: []string{"127.0.0.2"},
		ExtraHosts:      []string{"db.tenant.test"},
		ExtraIPs:        []net.IP{net.ParseIP("192.0.2.10")},
	})
	ctx := testContext(t)

	t.Run("TLSVerified", func(t *testing.T) { serverTLSVerified(ctx, t, s) })

	t.Run("PlainTextRefused", func(t *testing.T) { serverPlainTextRefused(ctx, t, s) })

	t.Run("WrongPasswordRefused", func(t *testing.T) { serverWrongPasswordRefused(ctx, t, s) })

	t.Run("UntrustedCARefused", func(t *testing.T) { serverUntrustedCARefused(ctx, t, s) })

	t.Run("HardenedConfiguration", func(t *testing.T) { serverHardenedConfiguration(ctx, t, s) })

	t.Run("RunsUnprivileged", func(t *testing.T) { serverRunsUnprivileged(t, s) })

	t.Run("StopLeavesNothing", func(t *testing.T) { serverStopLeavesNothing(t, s) })
}

func serverTLSVerified(ctx context.Context, t *testing.T, s *Server) {
	conn, err := s.Connect(ctx, s.AdminUser, s.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var ssl bool
	var version string
	if err := conn.QueryRow(ctx, "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &version); err != nil {
		t.Fatal(err)
	}
	if !ssl || version != "TLSv1.3" {
		t.Errorf("pg_stat_ssl: ssl=%v version=%q, want true and TLSv1.3", ssl, version)
	}

	// The URL form verifies with libpq's parameters (sslmode=verify-full, sslrootcert=CA file).
	if !strings.Contains(s.AdminURL("postgres"), "sslmode=verify-full") {
		t.Errorf("AdminURL lacks sslmode=verify-full")
	}
	byURL, err := pgx.Connect(ctx, s.AdminURL("postgres"))
	if err != nil {
		t.Fatalf("connecting with AdminURL: %v", err)
	}
	if err := byURL.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		t.Errorf("AdminURL connection: ssl=%v, err=%v; want TLS", ssl, err)
	}
	_ = byURL.Close(ctx)

	// Every SAN verifies: the DNS names as well as the IP.
	for _, name := range []string{"localhost", "db.tenant.test", "192.0.2.10"} {
		cfg, err := s.ConnConfig(s.AdminUser, s.AdminPassword, "postgres")
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig.ServerName = name
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Errorf("verifying the certificate for %s: %v", name, err)
			continue
		}
		_ = c.Close(ctx)
	}

	// The extra listen address answers, over verified TLS as well.
	cfg, err := s.ConnConfig(s.AdminUser, s.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.TLSConfig.ServerName = "127.0.0.2", "127.0.0.2"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting on the extra listen address: %v", err)
	}
	_ = c.Close(ctx)
}

func serverPlainTextRefused(ctx context.Context, t *testing.T, s *Server) {
	cfg, err := s.ConnConfig(s.AdminUser, s.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = nil // sslmode=disable
	expectPgError(t, ctx, cfg, "28000", "no pg_hba.conf entry")
	// The same through a libpq-style URL, whose sslmode=disable the server's refusal names.
	parsed, err := pgx.ParseConfig(strings.Replace(s.AdminURL("postgres"), "sslmode=verify-full", "sslmode=disable", 1))
	if err != nil {
		t.Fatal(err)
	}
	expectPgError(t, ctx, parsed, "28000", "no encryption")
}

func serverWrongPasswordRefused(ctx context.Context, t *testing.T, s *Server) {
	cfg, err := s.ConnConfig(s.AdminUser, "not-"+s.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	expectPgError(t, ctx, cfg, "28P01", "password authentication failed")
}

func serverUntrustedCARefused(ctx context.Context, t *testing.T, s *Server) {
	other, err := newAuthority("another CA")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.ConnConfig(s.AdminUser, s.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig.RootCAs = x509.NewCertPool()
	cfg.TLSConfig.RootCAs.AddCert(other.cert)
	_, err = pgx.ConnectConfig(ctx, cfg)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("connecting with another CA: got %v, want an unknown-authority error", err)
	}

	// The right CA for the wrong name fails too: verify-full checks the host.
	if cfg, err = s.ConnConfig(s.AdminUser, s.AdminPassword, "postgres"); err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig.ServerName = "db.other.test"
	_, err = pgx.ConnectConfig(ctx, cfg)
	var hostname x509.HostnameError
	if !errors.As(err, &hostname) {
		t.Errorf("connecting as db.other.test: got %v, want a host name error", err)
	}
}

func serverHardenedConfiguration(ctx context.Context, t *testing.T, s *Server) {
	conn, err := s.Connect(ctx, s.AdminUser, s.AdminPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for setting, want := range map[string]string{ //nolint:gosec // settings, not credentials (password_encryption)
		"ssl": "on", "ssl_min_protocol_version": "TLSv1.3", "unix_socket_directories": "",
		"password_encryption": "scram-sha-256", "max_connections": "100", "fsync": "off", "listen_addresses": "127.0.0.1,127.0.0.2",
	} {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	// pg_hba.conf as the server parsed it: a line per listen address, TLS and SCRAM only.
	rows, err := conn.Query(ctx, "SELECT type, auth_method, coalesce(address, ''), coalesce(error, '') FROM pg_hba_file_rules")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for rows.Next() {
		var typ, method, addr, ruleErr string
		if err := rows.Scan(&typ, &method, &addr, &ruleErr); err != nil {
			t.Fatal(err)
		}
		rules = append(rules, strings.TrimSpace(strings.Join([]string{typ, addr, method, ruleErr}, " ")))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"hostssl 127.0.0.1 scram-sha-256", "hostssl 127.0.0.2 scram-sha-256"}; !slices.Equal(rules, want) {
		t.Errorf("pg_hba rules %q, want %q", rules, want)
	}
	var scram bool
	if err := conn.QueryRow(ctx, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = $1", s.AdminUser).Scan(&scram); err != nil || !scram {
		t.Errorf("admin password stored as SCRAM: %v (%v)", scram, err)
	}
	// A role created the way a test would connects over the same verified TLS.
	if _, err := conn.Exec(ctx, "CREATE ROLE tenant_a LOGIN PASSWORD 'tenant-a-secret'"); err != nil {
		t.Fatal(err)
	}
	tenant, err := s.Connect(ctx, "tenant_a", "tenant-a-secret", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	_ = tenant.Close(ctx)
}

func serverRunsUnprivileged(t *testing.T, s *Server) {
	want := os.Geteuid()
	if want == 0 {
		want = nobody // initdb and postgres refuse root
	}
	if uid := processUID(t, s.proc.pid()); uid != want {
		t.Errorf("postgres runs as uid %d, want %d", uid, want)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "admin.pw")); !os.IsNotExist(err) {
		t.Errorf("the password file outlived initdb: %v", err)
	}
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), s.AdminPassword) {
		t.Errorf("the server log holds the admin password")
	}
}

func serverStopLeavesNothing(t *testing.T, s *Server) {
	pid, port, dir := s.proc.pid(), s.Port, s.Dir
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", dir, err)
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("port %d still accepts connections after Stop", port)
	}
	if !processGone(pid) {
		t.Errorf("postmaster %d still runs after Stop", pid)
	}
	if pids := processesIn(dir); len(pids) > 0 {
		t.Errorf("processes %v still run in %s after Stop", pids, dir)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

// Start fails, naming what is missing and how to get it, when the server's programs are not where it looks.
func TestStartWithoutServerFails(t *testing.T) {
	_, err := Start(testContext(t), Options{BinDir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("got %v, want ErrNotInstalled", err)
	}
}

// TestServerDiesWithTestProcess kills a process holding a server without letting it stop it, as a test timeout
// does: the server must die and its directory go all the same.
func TestServerDiesWithTestProcess(t *testing.T) {
	skipUnlessDatabaseTier(t)
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), helperEnv+"=1")
	var stderr strings.Builder
	helper.Stderr = &stderr
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(2 * time.Minute):
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	var pid, port int
	var dir string
	if _, err := fmt.Sscanf(line, "%d %d %s", &pid, &port, &dir); err != nil {
		t.Fatalf("the helper started no server (%q): %s", line, stderr.String())
	}
	t.Cleanup(func() { // in case the test fails: nothing left behind by the test either
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = os.RemoveAll(dir)
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		_, statErr := os.Stat(dir)
		conn, dialErr := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if dialErr == nil {
			_ = conn.Close()
		}
		procs := processesIn(dir)
		if processGone(pid) && dialErr != nil && os.IsNotExist(statErr) && len(procs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the helper died: postmaster gone=%v, port refused=%v, dir gone=%v, processes in dir=%v",
				processGone(pid), dialErr != nil, os.IsNotExist(statErr), procs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func expectPgError(t *testing.T, ctx context.Context, cfg *pgx.ConnConfig, code, message string) {
	t.Helper()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		_ = conn.Close(ctx)
		t.Fatalf("connected, want SQLSTATE %s (%s)", code, message)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code || !strings.Contains(err.Error(), message) {
		t.Errorf("got %v, want SQLSTATE %s (%s)", err, code, message)
	}
}

// processGone reports whether pid has exited (a zombie has: only its parent's wait is left).
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// processesIn lists the live processes whose working directory is dir or below: PostgreSQL's all work in the data
// directory.
func processesIn(dir string) []int {
	cwds, _ := filepath.Glob("/proc/[0-9]*/cwd")
	var pids []int
	for _, cwd := range cwds {
		target, err := os.Readlink(cwd)
		if err != nil || (target != dir && !strings.HasPrefix(target, dir+"/")) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(cwd)))
		if !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func processUID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Uid:" {
			uid, _ := strconv.Atoi(fields[1])
			return uid
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return -1
}
