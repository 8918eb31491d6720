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

// Package localcluster runs the project's one local control plane: etcd and kube-apiserver through
// controller-runtime's envtest, plus kube-controller-manager as a child process, all built from Go modules into bin/.
// The envtest suites, test/e2e, `make demo` and `make bench` all start their cluster here.
//
// The apiserver runs the way a hardened cluster does: RBAC authorization, Pod Security Admission, Secrets encrypted
// at rest with a key generated per run, and an audit log. Every port is picked free at start, so suites run in
// parallel, and every process started is stopped on Stop, and by a reaper process when the caller dies without
// calling it (a test binary killed by Ctrl-C or by its timeout).
package localcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// DefaultControllers are the kube-controller-manager controllers the local cluster runs: enough for namespace
// deletion, garbage collection, quota enforcement, service accounts and Deployments (whose Pods stay Pending: there
// is no node yet).
var DefaultControllers = []string{
	"garbagecollector", "namespace", "resourcequota", "serviceaccount", "serviceaccount-token",
	"root-ca-cert-publisher", "deployment", "replicaset", "disruption",
	// Fills the aggregated admin, edit and view ClusterRoles, as on a real cluster: without it they are empty, and
	// binding them proves nothing.
	"clusterrole-aggregation",
}

// ControllersWithout is DefaultControllers less the named ones. Without a node no pod ever runs, so callers that
// play the kubelet for Deployments leave out the deployment and replicaset controllers, which would overwrite the
// status they write.
func ControllersWithout(names ...string) []string {
	var out []string
	for _, c := range DefaultControllers {
		if !slices.Contains(names, c) {
			out = append(out, c)
		}
	}
	return out
}

// Options configures a local cluster. The zero value is a complete cluster.
type Options struct {
	// AssetsDir holds etcd, kube-apiserver, kube-controller-manager and kubectl. Defaults to $KUBEBUILDER_ASSETS,
	// then to bin/envtest in the repository (built by `make control-plane`).
	AssetsDir string
	// WorkDir receives the kubeconfig, the audit log, the encryption and audit configuration and the processes'
	// logs. Defaults to a new temporary directory, removed by Stop unless KeepWorkDir is set.
	WorkDir     string
	KeepWorkDir bool
	// CRDDirectoryPaths are installed before Start returns.
	CRDDirectoryPaths []string
	// Scheme is used to install CRDs; defaults to client-go's scheme.
	Scheme *runtime.Scheme
	// AuditPolicy replaces the audit policy (config/audit/audit-policy.yaml, the one the project ships), e.g. to
	// record only one client's requests.
	AuditPolicy string
	// AuthenticationConfig, when set, is the apiserver's structured authentication configuration
	// (--authentication-config), e.g. config/authentication with a test OIDC issuer.
	AuthenticationConfig string
	// AuditWebhook, when set, sends the audit events to a webhook as well as to the log (as a cluster feeding the
	// operator's --audit-sink does).
	AuditWebhook *AuditWebhook
	// Controllers overrides DefaultControllers. WithoutControllerManager runs etcd and kube-apiserver alone.
	Controllers              []string
	WithoutControllerManager bool
	// Node starts a node after the control plane (see Node): real pods, from images in the node's registry.
	Node bool
}

// AuditWebhook is where the apiserver posts its audit events, in batch mode, flushed every second.
type AuditWebhook struct {
	// URL receives the EventLists. Its certificate is not verified: the operator's metrics endpoint serves a
	// self-signed one in the tests.
	URL string
	// User is who the apiserver authenticates as there: a static token (--token-auth-file) generated per run.
	User string
}

// Cluster is a running local control plane.
type Cluster struct {
	// Config is a system:masters client configuration.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for Config, for kubectl and for processes started by the caller.
	KubeconfigPath string
	// WorkDir holds every file the cluster writes; AuditLogPath is the apiserver's audit log inside it.
	WorkDir      string
	AuditLogPath string
	// EtcdURL is etcd's client URL, for tests that read raw keys.
	EtcdURL *url.URL
	// Node is the cluster's node, when Options.Node asked for one.
	Node *Node

	opts       Options
	assets     string
	env        *envtest.Environment
	components []component
	processes  []*Process
	reaper     *reaper
}

// component is one more process of the cluster beside etcd and kube-apiserver. kube-controller-manager is the
// first; a node (containerd, kubelet, a NetworkPolicy enforcer) will be more, started in order and stopped in reverse.
type component interface {
	name() string
	start(ctx context.Context, c *Cluster) error
	stop() error
}

// Start starts a local cluster and returns once it serves requests and its controllers run. On error, everything
// started so far is stopped.
func Start(ctx context.Context, opts Options) (_ *Cluster, retErr error) {
	assets, err := assetsDir(opts.AssetsDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, assets: assets, WorkDir: opts.WorkDir}
	if c.WorkDir == "" {
		if c.WorkDir, err = os.MkdirTemp("", "tenant-operator-cluster-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(c.WorkDir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			retErr = errors.Join(retErr, c.Stop())
		}
	}()

	if c.reaper, err = startReaper(); err != nil {
		return nil, fmt.Errorf("starting process reaper: %w", err)
	}
	if c.ownsWorkDir() {
		if err := c.reaper.removeOnDeath(c.WorkDir); err != nil {
			return nil, err
		}
	}
	if err := c.startAPIServer(assets); err != nil {
		return nil, err
	}
	if !opts.WithoutControllerManager {
		controllers := opts.Controllers
		if len(controllers) == 0 {
			controllers = DefaultControllers
		}
		if opts.Node {
			// nodelifecycle takes the not-ready taint off the node once it reports Ready and watches its heartbeats;
			// endpointslice gives Services the endpoints kube-proxy needs.
			controllers = append(slices.Clone(controllers), "nodelifecycle", "endpointslice")
		}
		c.components = append(c.components, &controllerManager{
			path:        filepath.Join(assets, "kube-controller-manager"),
			controllers: controllers,
		})
	}
	if opts.Node {
		c.Node = &Node{assets: assets}
		c.components = append(c.components, c.Node)
	}
	for _, comp := range c.components {
		if err := comp.start(ctx, c); err != nil {
			return nil, fmt.Errorf("starting %s: %w", comp.name(), err)
		}
	}
	return c, nil
}

func (c *Cluster) startAPIServer(assets string) error {
	encryptionConfig, err := c.writeEncryptionConfig()
	if err != nil {
		return err
	}
	auditPolicy := filepath.Join(c.WorkDir, "audit-policy.yaml")
	policy := c.opts.AuditPolicy
	if policy == "" {
		// The policy the project ships (config/audit), so that what the tests read from the log is what a cluster
		// running it records.
		root, err := RepoRoot()
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(root, "config", "audit", "audit-policy.yaml"))
		if err != nil {
			return err
		}
		policy = string(raw)
	}
	if err := os.WriteFile(auditPolicy, []byte(policy), 0o600); err != nil {
		return err
	}
	c.AuditLogPath = filepath.Join(c.WorkDir, "audit.log")
	var authenticationConfig string
	if c.opts.AuthenticationConfig != "" {
		authenticationConfig = filepath.Join(c.WorkDir, "authentication-config.yaml")
		if err := os.WriteFile(authenticationConfig, []byte(c.opts.AuthenticationConfig), 0o600); err != nil {
			return err
		}
	}

	var auditWebhookConfig, tokenFile string
	if c.opts.AuditWebhook != nil {
		if auditWebhookConfig, tokenFile, err = c.writeAuditWebhookConfig(*c.opts.AuditWebhook); err != nil {
			return err
		}
	}

	etcdLog, err := c.logFile("etcd")
	if err != nil {
		return err
	}
	apiserverLog, err := c.logFile("kube-apiserver")
	if err != nil {
		return err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     c.opts.CRDDirectoryPaths,
		ErrorIfCRDPathMissing: len(c.opts.CRDDirectoryPaths) > 0,
		Scheme:                c.opts.Scheme,
		// A cold 2-core machine under a parallel build can take longer than envtest's 20 s default.
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// etcd's data and the apiserver's certificates live in the work directory too, so that one directory holds the
	// whole cluster and removing it leaves nothing behind.
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog, DataDir: filepath.Join(c.WorkDir, "etcd")}
	api := env.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiserverLog, apiserverLog
	api.CertDir = filepath.Join(c.WorkDir, "pki")
	for _, dir := range []string{env.ControlPlane.Etcd.DataDir, api.CertDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	args := api.Configure()
	// envtest disables the ServiceAccount admission plugin because it runs no controller-manager; we do.
	args.Set("disable-admission-plugins", "")
	args.Set("encryption-provider-config", encryptionConfig)
	args.Set("audit-policy-file", auditPolicy)
	args.Set("audit-log-path", c.AuditLogPath)
	args.Set("audit-log-format", "json")
	if authenticationConfig != "" {
		args.Set("authentication-config", authenticationConfig)
	}
	if auditWebhookConfig != "" {
		args.Set("audit-webhook-config-file", auditWebhookConfig)
		args.Set("audit-webhook-mode", "batch")
		args.Set("audit-webhook-batch-max-wait", "1s")
		args.Set("audit-webhook-initial-backoff", "1s")
		args.Set("token-auth-file", tokenFile)
	}
	// Pod Security Admission is on by default; the rest of the admission chain is the apiserver's default set.
	args.Set("authorization-mode", "RBAC")
	// Room for a Service per tenant at benchmark scale (envtest's default range holds 254).
	args.Set("service-cluster-ip-range", "10.96.0.0/16")
	args.Set("allow-privileged", "true")
	if c.opts.Node {
		// Pods reach the apiserver as in-cluster clients do: the kubernetes Service's address, which kube-proxy
		// translates to the advertised address, the pod network's gateway, where the node relays it to loopback.
		if api.CA, err = writeServingCerts(api.CertDir, inClusterNames, inClusterIPs()); err != nil {
			return err
		}
		args.Set("advertise-address", podGateway)
	}
	c.env = env

	// envtest starts etcd and kube-apiserver in process groups of their own, out of reach of a terminal's Ctrl-C;
	// the reaper watches them as soon as they run. One cluster starts at a time, so each claims only its own.
	// They are registered while envtest is still starting them, so that even a caller killed in the middle of a
	// slow start leaves nothing behind.
	startMu.Lock()
	stopWatching := c.reaper.watchChildrenUntilStopped(100 * time.Millisecond)
	cfg, err := env.Start()
	watchErr := stopWatching()
	startMu.Unlock()
	if err != nil {
		return fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	if watchErr != nil {
		return watchErr
	}
	c.Config = cfg
	c.EtcdURL = env.ControlPlane.Etcd.URL
	c.KubeconfigPath = filepath.Join(c.WorkDir, "kubeconfig")
	return os.WriteFile(c.KubeconfigPath, env.KubeConfig, 0o600)
}

// Stop stops every process of the cluster, in reverse order of start, and removes the work directory unless
// it was asked to be kept. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	// Processes the caller started (the operator) go first: nothing should talk to a half-stopped cluster.
	for i := len(c.processes) - 1; i >= 0; i-- {
		if err := c.processes[i].Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", c.processes[i].Name, err))
		}
	}
	c.processes = nil
	for i := len(c.components) - 1; i >= 0; i-- {
		if err := c.components[i].stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", c.components[i].name(), err))
		}
	}
	c.components = nil
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping etcd and kube-apiserver: %w", err))
		}
		c.env = nil
	}
	if c.reaper != nil {
		// Only a clean stop disarms the reaper; after a failed one it kills whatever is left.
		if err := c.reaper.close(len(errs) == 0); err != nil {
			errs = append(errs, err)
		}
		c.reaper = nil
	}
	if len(errs) == 0 && c.ownsWorkDir() {
		if err := os.RemoveAll(c.WorkDir); err != nil {
			errs = append(errs, err)
		}
		c.WorkDir = ""
	}
	return errors.Join(errs...)
}

// Watch registers a process the caller started (the operator under test, say) with the cluster's reaper, so that it
// is killed with the cluster's own processes if the caller dies without stopping it.
func (c *Cluster) Watch(pid int) error {
	return c.reaper.watch(pid)
}

// ownsWorkDir reports whether the work directory is a temporary one the cluster made, to be removed with it.
func (c *Cluster) ownsWorkDir() bool {
	return c.opts.WorkDir == "" && !c.opts.KeepWorkDir && c.WorkDir != ""
}

// PIDs lists the processes the cluster started (and the reaper watches).
func (c *Cluster) PIDs() []int {
	c.reaper.mu.Lock()
	defer c.reaper.mu.Unlock()
	return append([]int(nil), c.reaper.pids...)
}

// EtcdValue reads the raw value stored under key in etcd, bypassing the apiserver: what someone with a copy of etcd's
// data would see. It uses etcd's JSON gateway, so no etcd client library is needed.
func (c *Cluster) EtcdValue(ctx context.Context, key string) ([]byte, error) {
	body, err := json.Marshal(map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.EtcdURL.JoinPath("/v3/kv/range").String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("etcd range %s: %s", key, resp.Status)
	}
	var out struct {
		KVs []struct {
			Value []byte `json:"value"`
		} `json:"kvs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if len(out.KVs) == 0 {
		return nil, fmt.Errorf("etcd key %s not found", key)
	}
	return out.KVs[0].Value, nil
}

// AddUser returns a client configuration authenticated as the given user and groups (a client certificate), for
// requests subject to RBAC.
func (c *Cluster) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, rest.CopyConfig(c.Config))
	if err != nil {
		return nil, err
	}
	return u.Config(), nil
}

// InstallCRDs installs the CRDs of the given directories (or files) and waits until they are served.
func (c *Cluster) InstallCRDs(paths ...string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	return envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
}

func (c *Cluster) logFile(name string) (io.Writer, error) {
	return os.OpenFile(filepath.Join(c.WorkDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// writeEncryptionConfig writes an EncryptionConfiguration that encrypts Secrets with a key made for this run.
func (c *Cluster) writeEncryptionConfig() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	path := filepath.Join(c.WorkDir, "encryption-config.yaml")
	config := strings.ReplaceAll(encryptionConfigYAML, "KEY", base64.StdEncoding.EncodeToString(key))
	return path, os.WriteFile(path, []byte(config), 0o600)
}

// EncryptionPrefix is how etcd values encrypted by the local cluster's EncryptionConfiguration begin.
const EncryptionPrefix = "k8s:enc:secretbox:v1:key1:"

const encryptionConfigYAML = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - secretbox:
          keys:
            - name: key1
              secret: KEY
      - identity: {}
`

// assetsDir finds the folder of control-plane binaries.
func assetsDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "envtest")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("control-plane binary %s not found in %s (run 'make control-plane'): %w", b, dir, err)
		}
	}
	return dir, nil
}

// Kubectl returns the path of the kubectl built with the control plane, for commands that need no cluster
// (kubectl kustomize).
func Kubectl() (string, error) {
	dir, err := assetsDir("")
	return filepath.Join(dir, "kubectl"), err
}

// RepoRoot returns the root of the tenant-operator checkout the caller runs in, found by walking up from the
// working directory to the project's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(mod), "module github.com/tenant-operator/tenant-operator\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the tenant-operator repository")
		}
		dir = parent
	}
}

// waitForServiceAccount waits until the default ServiceAccount exists in the default namespace: the sign that
// kube-controller-manager is connected and its controllers are running.
func waitForServiceAccount(ctx context.Context, cfg *rest.Config) error {
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		err := cl.Get(ctx, client.ObjectKey{Namespace: "default", Name: "default"}, &corev1.ServiceAccount{})
		return err == nil, client.IgnoreNotFound(err)
	})
}

// writeAuditWebhookConfig writes the audit webhook's kubeconfig and the static token file its user authenticates
// with, returning their paths.
func (c *Cluster) writeAuditWebhookConfig(w AuditWebhook) (kubeconfig, tokens string, err error) {
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return "", "", err
	}
	secret := hex.EncodeToString(token)
	tokens = filepath.Join(c.WorkDir, "audit-webhook-tokens.csv")
	if err := os.WriteFile(tokens, []byte(secret+","+w.User+","+w.User+"\n"), 0o600); err != nil {
		return "", "", err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sink"] = &clientcmdapi.Cluster{Server: w.URL, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{Token: secret}
	cfg.Contexts["sink"] = &clientcmdapi.Context{Cluster: "sink", AuthInfo: "apiserver"}
	cfg.CurrentContext = "sink"
	kubeconfig = filepath.Join(c.WorkDir, "audit-webhook.kubeconfig")
	return kubeconfig, tokens, clientcmd.WriteToFile(*cfg, kubeconfig)
}
