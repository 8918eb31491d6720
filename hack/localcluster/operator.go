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

package localcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// The names config/default gives the operator: its namespace and ServiceAccount.
const (
	OperatorNamespace      = "tenant-operator-system"
	OperatorServiceAccount = "tenant-operator-controller-manager"
)

// Kubectl runs the cluster's kubectl as system:masters with the given stdin and returns its combined output.
func (c *Cluster) Kubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.assets, "kubectl"), append([]string{"--kubeconfig=" + c.KubeconfigPath}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// InstallOperatorManifests builds a kustomization (config/default, say) with kubectl's built-in kustomize and
// applies it server-side, leaving out the operator's Deployment: locally the operator runs as a process, under the
// ServiceAccount, roles and bindings the manifests define.
func (c *Cluster) InstallOperatorManifests(ctx context.Context, kustomizeDir string) error {
	built, err := c.Kubectl(ctx, nil, "kustomize", kustomizeDir)
	if err != nil {
		return err
	}
	var kept [][]byte
	for _, doc := range bytes.Split(built, []byte("\n---\n")) {
		if bytes.Contains(doc, []byte("\nkind: Deployment\n")) || bytes.HasPrefix(doc, []byte("kind: Deployment\n")) {
			continue
		}
		kept = append(kept, doc)
	}
	return c.ApplyManifests(ctx, bytes.Join(kept, []byte("\n---\n")))
}

// ApplyManifests applies multi-document YAML server-side, as an installer would, and waits until the CRDs among it
// are served.
func (c *Cluster) ApplyManifests(ctx context.Context, manifests []byte) error {
	if _, err := c.Kubectl(ctx, manifests, "apply", "--server-side", "--field-manager=tenant-operator-installer", "-f", "-"); err != nil {
		return err
	}
	// Tenants can be applied only once their CRD is served.
	if _, err := c.Kubectl(ctx, nil, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"); err != nil {
		return err
	}
	if bytes.Contains(manifests, []byte("\naggregationRule:")) {
		return c.WaitForAggregatedRoles(ctx)
	}
	return nil
}

// WaitForAggregatedRoles waits until the control plane has filled in every aggregated ClusterRole (the tenant roles
// among them): until then a tenant user bound to one may do nothing, and a test would see that instead of the roles.
func (c *Cluster) WaitForAggregatedRoles(ctx context.Context) error {
	if c.opts.WithoutControllerManager {
		return nil // nothing aggregates them
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var empty []string
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		roles, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		empty = empty[:0]
		for _, r := range roles.Items {
			if r.AggregationRule != nil && len(r.Rules) == 0 {
				empty = append(empty, r.Name)
			}
		}
		return len(empty) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("aggregated ClusterRoles still empty: %v: %w", empty, err)
	}
	return nil
}

// ServiceAccountConfig returns a client configuration authenticated as a ServiceAccount, with a token from the
// TokenRequest API: requests made with it get exactly the permissions the manifests grant.
func (c *Cluster) ServiceAccountConfig(ctx context.Context, namespace, name string) (*rest.Config, error) {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("requesting a token for %s/%s: %w", namespace, name, err)
	}
	return &rest.Config{
		Host:            c.Config.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.Config.CAData},
		BearerToken:     tr.Status.Token,
	}, nil
}

// WriteKubeconfig writes cfg (host, CA and a token or client certificate) as a kubeconfig file.
func WriteKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken, ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "user"}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}

// ManagerBinary returns the operator binary for a test: $MANAGER_BINARY when set (make test builds bin/manager),
// otherwise a fresh build of the repository's main package, which cleanup removes.
func ManagerBinary(repoRoot string) (path string, cleanup func(), err error) {
	if b := os.Getenv("MANAGER_BINARY"); b != "" {
		return b, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "tenant-operator-manager-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	path = filepath.Join(dir, "manager")
	cmd := exec.Command("go", "build", "-o", path, ".")
	// Static, as the Dockerfile builds it: the binary may go into an image without a C library.
	cmd.Dir, cmd.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building the manager: %w: %s", err, out)
	}
	return path, cleanup, nil
}

// OperatorOptions says how to run the operator's binary.
type OperatorOptions struct {
	// Binary is the manager binary (bin/manager).
	Binary string
	// Args are passed after the flags set here (kubeconfig, ports, namespace, leader election).
	Args []string
	// LogPath receives the operator's output; defaults to operator.log in the cluster's work directory.
	LogPath string
	// Namespace and ServiceAccount say whose credentials the operator runs with and where it keeps its lease and
	// CA; they default to what config/default installs.
	Namespace, ServiceAccount string
	// Env is added to the operator's environment (GOMEMLIMIT, say).
	Env []string
	// MetricsPort is the metrics endpoint's port on loopback; 0 picks a free one. A cluster whose audit webhook
	// points at the operator needs it known before the operator starts.
	MetricsPort int
}

// Operator is the operator's binary running against the cluster.
type Operator struct {
	*Process
	// MetricsURL serves /metrics over HTTPS; ProbeURL serves /healthz and /readyz.
	MetricsURL string
	ProbeURL   string
	LogPath    string
	// MetricsTLS, when set, is how a scrape verifies the metrics endpoint (a configured serving certificate);
	// without it, scrapes accept the self-signed one.
	MetricsTLS *tls.Config
}

// RunOperator starts the operator's binary with the credentials of its own ServiceAccount (installed by
// InstallOperatorManifests), so a permission the manifests forgot fails here as it would in a real cluster. It
// returns once the operator reports ready.
func (c *Cluster) RunOperator(ctx context.Context, opts OperatorOptions) (*Operator, error) {
	if opts.Namespace == "" {
		opts.Namespace = OperatorNamespace
	}
	if opts.ServiceAccount == "" {
		opts.ServiceAccount = OperatorServiceAccount
	}
	cfg, err := c.ServiceAccountConfig(ctx, opts.Namespace, opts.ServiceAccount)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(c.WorkDir, "operator.kubeconfig")
	if err := WriteKubeconfig(kubeconfig, cfg); err != nil {
		return nil, err
	}
	metricsPort := opts.MetricsPort
	if metricsPort == 0 {
		if metricsPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	probePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	op := &Operator{
		MetricsURL: "https://127.0.0.1:" + strconv.Itoa(metricsPort),
		ProbeURL:   "http://127.0.0.1:" + strconv.Itoa(probePort),
		LogPath:    opts.LogPath,
	}
	if op.LogPath == "" {
		op.LogPath = filepath.Join(c.WorkDir, "operator.log")
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--operator-namespace=" + opts.Namespace,
		"--leader-elect",
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(metricsPort),
		"--health-probe-bind-address=127.0.0.1:" + strconv.Itoa(probePort),
	}, opts.Args...)
	if op.Process, err = c.StartProcess("operator", opts.Binary, op.LogPath, opts.Env, args...); err != nil {
		return nil, err
	}
	if err := op.waitReady(ctx); err != nil {
		logs, _ := os.ReadFile(op.LogPath)
		return nil, fmt.Errorf("%w; operator log:\n%s", err, tail(logs, 40))
	}
	return op, nil
}

func (o *Operator) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case <-o.Exited():
			return false, fmt.Errorf("operator exited before it was ready")
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.ProbeURL+"/readyz", nil)
		resp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// MetricsClient is an HTTPS client for the operator's self-signed metrics endpoint.
func MetricsClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		// The metrics endpoint serves a self-signed certificate unless one is configured; authentication is the
		// bearer token's job, checked by the operator through TokenReview.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test client for a self-signed local endpoint
		ForceAttemptHTTP2: true,
	}}
}

// FreePort is a TCP port on the loopback address that nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, lines int) string {
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Installed is a local cluster with the operator's manifests (config/default) installed and its binary at hand,
// ready for tests to run the operator as it runs in a cluster.
type Installed struct {
	*Cluster
	// RepoRoot is the repository's root; Binary the manager binary (ManagerBinary).
	RepoRoot, Binary string
	removeBinary     func()
}

// StartInstalled starts a local cluster (opts: a node, say) and installs the operator's manifests in it. Stop stops
// the cluster and removes a binary built for the occasion.
func StartInstalled(ctx context.Context, opts Options) (*Installed, error) {
	repoRoot, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	binary, removeBinary, err := ManagerBinary(repoRoot)
	if err != nil {
		return nil, err
	}
	c, err := Start(ctx, opts)
	if err != nil {
		removeBinary()
		return nil, err
	}
	installed := &Installed{Cluster: c, RepoRoot: repoRoot, Binary: binary, removeBinary: removeBinary}
	if err := c.InstallOperatorManifests(ctx, filepath.Join(repoRoot, "config", "default")); err != nil {
		return nil, errors.Join(err, installed.Stop())
	}
	return installed, nil
}

// Stop stops the cluster and removes the binary if it was built for it.
func (i *Installed) Stop() error {
	defer i.removeBinary()
	return i.Cluster.Stop()
}
