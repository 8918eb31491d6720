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
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// DefaultAdminUser is the superuser initdb creates when Options.AdminUser is empty.
	DefaultAdminUser = "platform_admin"
	// DefaultMaxConnections is max_connections when Options.MaxConnections is zero.
	DefaultMaxConnections = 100
	// defaultStartTimeout bounds Start when its context has no deadline: a server that is not up by then never will be.
	defaultStartTimeout = time.Minute
	// nobody is the uid and gid the server runs as when this process is root: initdb and postgres refuse root.
	nobody = 65534
	// portAttempts is how often Start picks another port when the one it picked was taken before postgres bound it.
	portAttempts = 5
)

// Options configures a server. The zero value is a server on 127.0.0.1 with DefaultAdminUser.
type Options struct {
	// AdminUser names the superuser initdb creates (DefaultAdminUser when empty).
	AdminUser string
	// MaxConnections is the server's max_connections (DefaultMaxConnections when zero).
	MaxConnections int
	// ListenAddresses are IP addresses to listen on besides 127.0.0.1; each gets a hostssl line in pg_hba.conf and
	// an IP SAN in the server certificate.
	ListenAddresses []string
	// ExtraIPs and ExtraHosts are added to the server certificate's SANs (which always hold localhost and 127.0.0.1).
	ExtraIPs   []net.IP
	ExtraHosts []string
	// BinDir holds initdb and postgres; when empty, the highest /usr/lib/postgresql/<version>/bin, installed from
	// Debian's postgresql package if missing and this process is root.
	BinDir string
}

// Server is a running PostgreSQL server, reachable only over TLS with a password.
type Server struct {
	// Host and Port are where the server listens (Host is always 127.0.0.1).
	Host string
	Port int
	// AdminUser and AdminPassword are the superuser's credentials (the password is random per server).
	AdminUser     string
	AdminPassword string
	// CACertPEM is the CA that signed the server's certificate; CAPath is the same, written in Dir for libpq-style
	// sslrootcert parameters.
	CACertPEM []byte
	CAPath    string
	// Dir is the server's temporary directory (data directory, certificates, logs); Stop removes it.
	Dir string
	// LogPath is the server's log (its stderr).
	LogPath string

	dataDir string
	proc    *process
	reaper  *reaper

	mu      sync.Mutex
	stopped bool
}

var adminUserPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Start initialises a data directory in a new temporary directory and starts PostgreSQL on it, and returns once the
// server answers a query over verified TLS. ctx bounds the start only (a minute when it has no deadline); the server
// runs until Stop, or until this process dies.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	if opts.AdminUser == "" {
		opts.AdminUser = DefaultAdminUser
	}
	if !adminUserPattern.MatchString(opts.AdminUser) {
		return nil, fmt.Errorf("admin user %q: want a lower-case SQL identifier", opts.AdminUser)
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.MaxConnections < 1 {
		return nil, fmt.Errorf("max connections %d: want at least 1", opts.MaxConnections)
	}
	listen := []net.IP{net.IPv4(127, 0, 0, 1)}
	for _, addr := range opts.ListenAddresses {
		ip := net.ParseIP(addr)
		if ip == nil {
			return nil, fmt.Errorf("listen address %q: not an IP address", addr)
		}
		if !containsIP(listen, ip) {
			listen = append(listen, ip)
		}
	}
	bin, err := binDir(ctx, opts.BinDir)
	if err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "localpostgres-")
	if err != nil {
		return nil, fmt.Errorf("creating the server's directory: %w", err)
	}
	// The server's user (nobody, when this process is root) must traverse it to reach its data and certificate.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, errors.Join(fmt.Errorf("making %s traversable: %w", dir, err), os.RemoveAll(dir))
	}
	s := &Server{
		Host:      "127.0.0.1",
		AdminUser: opts.AdminUser,
		CAPath:    filepath.Join(dir, "ca.crt"),
		Dir:       dir,
		LogPath:   filepath.Join(dir, "postgres.log"),
		dataDir:   filepath.Join(dir, "data"),
	}
	if s.reaper, err = startReaper(dir); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := s.start(ctx, bin, opts, listen); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// serverUser is who initdb and postgres run as: nobody when this process is root (cred is then not nil, and files
// the server must own are chowned to uid and gid), else this process' user (uid and gid are -1: no chown).
func serverUser() (cred *syscall.Credential, uid, gid int) {
	if os.Geteuid() != 0 {
		return nil, -1, -1
	}
	// An empty Groups drops root's supplementary groups too.
	return &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}, nobody, nobody
}

func (s *Server) start(ctx context.Context, bin string, opts Options, listen []net.IP) error {
	cred, uid, gid := serverUser()
	if cred != nil {
		if err := checkTraversable(filepath.Dir(s.Dir)); err != nil {
			return err
		}
	}
	password, err := randomHex(24)
	if err != nil {
		return err
	}
	s.AdminPassword = password
	if err := os.Mkdir(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	if err := chown(s.dataDir, uid, gid); err != nil {
		return err
	}
	if err := s.initdb(ctx, bin, cred, uid, gid); err != nil {
		return err
	}
	if err := s.writeTLS(opts, listen, uid, gid); err != nil {
		return err
	}
	if err := s.writeConfig(opts, listen, uid, gid); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := s.startPostgres(ctx, bin, cred)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errPortTaken) || attempt == portAttempts {
			return err
		}
	}
}

// initdb creates the cluster with a password-protected superuser; the password goes through a file that lives only
// as long as initdb runs, never through the command line.
func (s *Server) initdb(ctx context.Context, bin string, cred *syscall.Credential, uid, gid int) error {
	pwfile := filepath.Join(s.Dir, "admin.pw")
	if err := writeOwned(pwfile, []byte(s.AdminPassword+"\n"), 0o600, uid, gid); err != nil {
		return err
	}
	defer func() { _ = os.Remove(pwfile) }()
	logPath := filepath.Join(s.Dir, "initdb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating the initdb log: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(filepath.Join(bin, "initdb"),
		"--pgdata="+s.dataDir,
		"--auth=scram-sha-256",
		"--username="+s.AdminUser,
		"--pwfile="+pwfile,
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync", // the data is thrown away after the test
		"--no-instructions",
	)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.Dir, serverEnv(), logFile, logFile
	p, err := startProcess(cmd, cred)
	if err != nil {
		return fmt.Errorf("starting initdb: %w", err)
	}
	if err := p.wait(ctx); err != nil {
		return fmt.Errorf("initdb: %w; last lines of %s:\n%s", err, logPath, logTail(logPath, 0, 15))
	}
	return nil
}

// writeTLS writes the CA's certificate and the server's certificate and key, the key readable by the server's user
// only (PostgreSQL refuses a key others can read).
func (s *Server) writeTLS(opts Options, listen []net.IP, uid, gid int) error {
	ca, err := newAuthority("localpostgres CA")
	if err != nil {
		return err
	}
	hosts := append([]string{"localhost"}, opts.ExtraHosts...)
	ips := append(append([]net.IP(nil), listen...), opts.ExtraIPs...)
	certPEM, keyPEM, err := ca.issueServer(hosts, ips)
	if err != nil {
		return err
	}
	s.CACertPEM = ca.certPEM
	if err := writeOwned(s.CAPath, ca.certPEM, 0o644, -1, -1); err != nil {
		return err
	}
	if err := writeOwned(filepath.Join(s.Dir, "server.crt"), certPEM, 0o644, -1, -1); err != nil {
		return err
	}
	return writeOwned(filepath.Join(s.Dir, "server.key"), keyPEM, 0o600, uid, gid)
}

// writeConfig replaces pg_hba.conf with TLS-and-password lines only, and appends the test settings to
// postgresql.conf (later lines win over initdb's).
func (s *Server) writeConfig(opts Options, listen []net.IP, uid, gid int) error {
	hba, addrs := make([]string, 0, len(listen)), make([]string, 0, len(listen))
	for _, ip := range listen {
		bits := 128
		if ip.To4() != nil {
			bits = 32
		}
		hba = append(hba, fmt.Sprintf("hostssl all all %s/%d scram-sha-256", ip, bits))
		addrs = append(addrs, ip.String())
	}
	if err := writeOwned(filepath.Join(s.dataDir, "pg_hba.conf"), []byte(strings.Join(hba, "\n")+"\n"), 0o600, uid, gid); err != nil {
		return err
	}
	settings := []string{
		"",
		"# localpostgres: a test server, reachable over verified TLS with a password only.",
		fmt.Sprintf("listen_addresses = '%s'", strings.Join(addrs, ",")),
		"unix_socket_directories = ''",
		fmt.Sprintf("max_connections = %d", opts.MaxConnections),
		"password_encryption = 'scram-sha-256'",
		"ssl = on",
		fmt.Sprintf("ssl_cert_file = '%s'", filepath.Join(s.Dir, "server.crt")),
		fmt.Sprintf("ssl_key_file = '%s'", filepath.Join(s.Dir, "server.key")),
		"ssl_min_protocol_version = 'TLSv1.3'",
		"# The data is thrown away after the test: durability only slows it down.",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"log_destination = 'stderr'",
		"logging_collector = off",
		"",
	}
	f, err := os.OpenFile(filepath.Join(s.dataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("opening postgresql.conf: %w", err)
	}
	if _, err := io.WriteString(f, strings.Join(settings, "\n")); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing postgresql.conf: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing postgresql.conf: %w", err)
	}
	return nil
}

// errPortTaken says postgres could not bind the port picked for it: another process took it meanwhile.
var errPortTaken = errors.New("port taken")

// startPostgres starts the server on a free port and waits until it answers.
func (s *Server) startPostgres(ctx context.Context, bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the server log: %w", err)
	}
	offset, _ := logFile.Seek(0, io.SeekEnd)
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", s.dataDir, "-p", strconv.Itoa(port))
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.Dir, serverEnv(), logFile, logFile
	p, err := startProcess(cmd, cred)
	_ = logFile.Close() // the child holds its own copy
	if err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.proc, s.Port = p, port
	err = s.waitReady(ctx, p)
	if err == nil {
		return nil
	}
	p.stop(syscall.SIGQUIT, 5*time.Second)
	s.proc = nil
	logs := logTail(s.LogPath, offset, 15)
	if p.err != nil && (strings.Contains(logs, "could not bind") || strings.Contains(logs, "could not create any TCP/IP sockets")) {
		return fmt.Errorf("postgres on port %d: %w", port, errPortTaken)
	}
	return fmt.Errorf("postgres: %w; last lines of %s:\n%s", err, s.LogPath, logs)
}

// waitReady connects as the admin until the server answers SELECT 1, the server exits, or ctx ends. A refusal from a
// running server (other than "starting up") or a certificate that fails verification ends the wait at once: retrying
// cannot fix either.
func (s *Server) waitReady(ctx context.Context, p *process) error {
	for {
		err := s.ping(ctx)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		var verifyErr *tls.CertificateVerificationError
		if (errors.As(err, &pgErr) && pgErr.Code != "57P03") || errors.As(err, &verifyErr) {
			return fmt.Errorf("connecting as %s: %w", s.AdminUser, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before it was ready (%v)", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready in time: %w (last attempt: %w)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := s.Connect(ctx, s.AdminUser, s.AdminPassword, "postgres")
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	return nil
}

// Stop kills the server (PostgreSQL's immediate shutdown, then SIGKILL) and removes its directory. Stopping a stopped
// server is a no-op.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	if s.proc != nil {
		// SIGQUIT is the immediate shutdown: no checkpoint, as the data is about to go.
		s.proc.stop(syscall.SIGQUIT, 10*time.Second)
	}
	var errs []error
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("removing the server's directory: %w", err))
	}
	if s.reaper != nil {
		// Only a clean stop disarms the reaper; after a failed one it tries to remove the directory again.
		if err := s.reaper.close(len(errs) == 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AdminURL is a postgres:// URL for the admin user on database, which verifies the server's certificate against the CA
// file in Dir (sslmode=verify-full). It holds the admin password: do not log it.
func (s *Server) AdminURL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.AdminUser, s.AdminPassword),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + database,
		RawQuery: url.Values{"sslmode": {"verify-full"}, "sslrootcert": {s.CAPath}}.Encode(),
	}
	return u.String()
}

// ConnConfig is a pgx configuration for user on database over TLS 1.3, with the server's certificate verified against
// the server's CA for its host.
func (s *Server) ConnConfig(user, password, database string) (*pgx.ConnConfig, error) {
	// Parsed from host and port only, so that no credential passes through a connection string.
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d sslmode=verify-full", s.Host, s.Port))
	if err != nil {
		return nil, fmt.Errorf("building the connection configuration: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.CACertPEM) {
		return nil, errors.New("building the connection configuration: no CA certificate")
	}
	cfg.User, cfg.Password, cfg.Database = user, password, database
	cfg.TLSConfig = &tls.Config{RootCAs: roots, ServerName: s.Host, MinVersion: tls.VersionTLS13}
	cfg.Fallbacks = nil // never retry without TLS
	return cfg, nil
}

// Connect opens a connection as user on database, over verified TLS.
func (s *Server) Connect(ctx context.Context, user, password, database string) (*pgx.Conn, error) {
	cfg, err := s.ConnConfig(user, password, database)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s:%d as %s: %w", s.Host, s.Port, user, err)
	}
	return conn, nil
}

// serverEnv is this process' environment without libpq's PG* variables and locale settings, which would otherwise
// steer initdb and postgres away from the configuration here.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// checkTraversable fails unless every directory from dir up to / lets others through, as the server's user is not
// this process' own.
func checkTraversable(dir string) error {
	for {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("checking %s: %w", dir, err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not traversable by uid %d, which the server runs as: set TMPDIR to a directory "+
				"others can traverse, such as /tmp", dir, nobody)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// writeOwned writes data to path with mode (whatever the umask), owned by uid and gid unless they are -1.
func writeOwned(path string, data []byte, mode os.FileMode, uid, gid int) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", filepath.Base(path), err)
	}
	return chown(path, uid, gid)
}

func chown(path string, uid, gid int) error {
	if uid < 0 {
		return nil
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("handing %s to the server's user: %w", filepath.Base(path), err)
	}
	return nil
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago; startPostgres retries when it is taken meanwhile.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// logTail returns the last n lines of the file at path from offset on.
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	return tail(string(data), n)
}

func containsIP(ips []net.IP, ip net.IP) bool {
	for _, have := range ips {
		if have.Equal(ip) {
			return true
		}
	}
	return false
}
