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

package images

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/test/dockerfile"
)

// goBuild builds a static binary of pkg (relative to the repository root) into dir.
func goBuild(t *testing.T, pkg, dir string) string {
	t.Helper()
	out := filepath.Join(dir, strings.TrimPrefix(filepath.Base(pkg), ".")+"binary")
	if err := GoBuild(context.Background(), filepath.Join("..", ".."), pkg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// managerBinary is make's bin/manager (MANAGER_BINARY), or one built here.
func managerBinary(t *testing.T) string {
	if b := os.Getenv("MANAGER_BINARY"); b != "" {
		return b
	}
	return goBuild(t, ".", t.TempDir())
}

// filesOf reads the files of an image's flattened filesystem.
func filesOf(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	r := mutate.Extract(img)
	defer func() { _ = r.Close() }()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = h
	}
}

// fileContent reads one file of an image's flattened filesystem.
func fileContent(t *testing.T, img v1.Image, name string) []byte {
	t.Helper()
	r := mutate.Extract(img)
	defer func() { _ = r.Close() }()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the image: %v", name, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// pushAndPull sends img through a loopback registry and reads it back by digest, as a container runtime would.
func pushAndPull(t *testing.T, img v1.Image, repository string) v1.Image {
	t.Helper()
	ctx := context.Background()
	reg, err := ServeRegistry("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	ref, err := reg.Push(ctx, img, repository, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, reg.Host+"/"+repository+"@sha256:") {
		t.Fatalf("reference %s", ref)
	}
	pulled, err := Pull(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if got, err := pulled.Digest(); err != nil || got != want {
		t.Fatalf("pulled digest %s (%v), pushed %s", got, err, want)
	}
	return pulled
}

// TestOperatorImageIsTheDockerfiles: the image built in Go runs what the Dockerfile's image runs: the same binary
// at the same place, the same user, entrypoint, working directory and labels, on a base with distroless's users; it
// goes through a registry intact, and the same binary gives the same digest.
func TestOperatorImageIsTheDockerfiles(t *testing.T) {
	binary := managerBinary(t)
	img, err := Operator(filepath.Join("..", "..", "Dockerfile"), binary, "v1.2.3", runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Operator(filepath.Join("..", "..", "Dockerfile"), binary, "v1.2.3", runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digestOf(t, img), digestOf(t, again); a != b {
		t.Errorf("the same binary gave two digests: %s, %s", a, b)
	}
	pulled := pushAndPull(t, img, "tenant-operator")
	checkOperatorConfig(t, pulled)
	want, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileContent(t, pulled, "manager"); !slices.Equal(got, want) {
		t.Error("/manager is not the binary")
	}
	checkBaseFiles(t, pulled)
}

// checkOperatorConfig: the image runs as the Dockerfile's final stage says.
func checkOperatorConfig(t *testing.T, pulled v1.Image) {
	t.Helper()
	d, err := dockerfile.Parse(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	final := d.Final()
	entrypoint, _ := final.Last("entrypoint")
	cfg, err := pulled.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != final.User() || cfg.Config.User != NonRoot || !slices.Equal(cfg.Config.Entrypoint, entrypoint.Args) ||
		cfg.Config.WorkingDir != "/" || cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("config %+v, os %s/%s; the Dockerfile says user %s, entrypoint %v", cfg.Config, cfg.OS, cfg.Architecture, final.User(), entrypoint.Args)
	}
	if cfg.Config.Labels["org.opencontainers.image.version"] != "v1.2.3" || cfg.Config.Labels["org.opencontainers.image.title"] != "tenant-operator" {
		t.Errorf("labels %v", cfg.Config.Labels)
	}
}

// checkBaseFiles: distroless's users, their homes, a world-writable /tmp, an executable /manager.
func checkBaseFiles(t *testing.T, pulled v1.Image) {
	t.Helper()
	files := filesOf(t, pulled)
	for name, mode := range map[string]int64{"manager": 0o755, "tmp": 0o1777, "home/nonroot": 0o700, "etc/passwd": 0o644} {
		if h := files[name]; h == nil || h.Mode&0o7777 != mode {
			t.Errorf("%s: %+v, want mode %o", name, h, mode)
		}
	}
	if h := files["home/nonroot"]; h == nil || h.Uid != 65532 {
		t.Errorf("nonroot's home is not nonroot's: %+v", h)
	}
	if passwd := string(fileContent(t, pulled, "etc/passwd")); !strings.Contains(passwd, "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd lacks nonroot: %s", passwd)
	}
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBackendImageServesTheTenantsCertificate runs the example back-end from its image, as the operator's Deployment
// would (the Tenant's certificate and generated secrets in its environment): it serves TLS that a client verifies with
// the tenant's ca.crt for backend.<namespace>.svc and no other name, answers its probes, and names the generated
// secrets it was given without showing their values.
func TestBackendImageServesTheTenantsCertificate(t *testing.T) {
	dir := t.TempDir()
	img, err := Backend(goBuild(t, "./test/fixtures/backend", dir), runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	pulled := pushAndPull(t, img, "example-backend")
	cfg, err := pulled.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != NonRoot || !slices.Equal(cfg.Config.Entrypoint, []string{"/backend"}) {
		t.Errorf("config %+v", cfg.Config)
	}
	binary := filepath.Join(dir, "from-image")
	if err := os.WriteFile(binary, fileContent(t, pulled, "backend"), 0o755); err != nil {
		t.Fatal(err)
	}
	secrets := tenantSecrets(t)
	addr, logFile := runBackend(t, binary, dir, secrets)
	checkBackend(t, addr, logFile, secrets)
}

// tenantSecrets are the generated Secrets the operator gives a tenant acme (namespace acme-prod) with a back-end and
// a generated secret db.
func tenantSecrets(t *testing.T) map[string]*corev1.Secret {
	t.Helper()

	// What the operator gives a tenant with a back-end and a generated secret.
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: tenancyv1alpha1.TenantSpec{
		Namespace: "acme-prod",
		Backend:   &tenancyv1alpha1.BackendSpec{Image: "example-backend"},
		Secrets:   []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
	}}
	now := time.Now()
	ca, err := pki.NewCA("cluster.local", now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := render.DesiredState(tenant, render.DefaultConfig(), render.Observed{
		Secrets: map[string]*corev1.Secret{}, CA: ca, Now: now, Rand: rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]*corev1.Secret{}
	for _, o := range desired.Objects {
		if s, ok := o.Obj.(*corev1.Secret); ok {
			secrets[s.Name] = s
		}
	}
	return secrets
}

// runBackend starts the back-end binary as the operator's Deployment runs it: the certificate's files and the
// tenant's environment. It returns its address and its output.
func runBackend(t *testing.T, binary, dir string, secrets map[string]*corev1.Secret) (addr, logFile string) {
	t.Helper()
	tlsDir := filepath.Join(dir, "tls")
	if err := os.Mkdir(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for key, data := range secrets[render.TLSSecretName].Data {
		if err := os.WriteFile(filepath.Join(tlsDir, key), data, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	addr, logFile = freeAddress(t), filepath.Join(dir, "backend.log")
	logs, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logs.Close() })
	cmd := exec.Command(binary, "-addr", addr)
	cmd.Dir = dir
	cmd.Env = []string{"TENANT_NAME=acme", "TENANT_NAMESPACE=acme-prod", "DB_PASSWORD=" + string(secrets["db"].Data["password"]),
		"TLS_CERT_FILE=" + filepath.Join(tlsDir, "tls.crt"), "TLS_KEY_FILE=" + filepath.Join(tlsDir, "tls.key"),
		"TLS_CA_FILE=" + filepath.Join(tlsDir, "ca.crt")}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return addr, logFile
}

// checkBackend: TLS verified with the tenant's ca.crt for its Service name, probes, the page.
func checkBackend(t *testing.T, addr, logFile string, secrets map[string]*corev1.Secret) {
	t.Helper()
	password := string(secrets["db"].Data["password"])

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(secrets[render.TLSSecretName].Data["ca.crt"]) {
		t.Fatal("no CA in ca.crt")
	}
	client := func(serverName string) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}}
	}
	service := client("backend.acme-prod.svc")
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err = service.Get("https://backend.acme-prod.svc/healthz"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		logs, _ := os.ReadFile(logFile)
		t.Fatalf("the back-end does not answer: %v\n%s", err, logs)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %s", resp.Status)
	}
	resp, err = service.Get("https://backend.acme-prod.svc/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var info struct {
		Tenant, Namespace string
		Env               []string
	}
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if info.Tenant != "acme" || info.Namespace != "acme-prod" || !slices.Contains(info.Env, "DB_PASSWORD") {
		t.Errorf("the back-end says %+v", info)
	}
	if strings.Contains(string(body), password) {
		t.Error("the back-end shows a generated secret's value")
	}
	// The certificate is for the tenant's Service names only.
	if _, err := client("backend.other-tenant.svc").Get("https://backend.other-tenant.svc/healthz"); err == nil {
		t.Error("a client verifying another tenant's Service name accepted the certificate")
	}
}

func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
