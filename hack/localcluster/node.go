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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tenant-operator/tenant-operator/hack/images"
)

// NodeName is the name of the local cluster's node.
const NodeName = "local-node"

// The node's network: a CNI bridge, its pod range, and the name CNI tags its iptables rules with.
const (
	nodeBridge  = "tnop0"
	nodeNetwork = "tenant-operator-node"
	podCIDR     = "10.244.0.0/24"
)

// Node is the local cluster's node: containerd and runc (Debian's), the CNI bridge plugins, kubelet and
// kube-scheduler, kube-router enforcing NetworkPolicies, and a registry on loopback that containerd pulls from over plain HTTP, so that pods with
// imagePullPolicy Always run images built in Go (package images). It needs root.
type Node struct {
	// Registry serves the node's images; push a pod's image there and name it Registry.Host+"/repository:tag".
	Registry *images.Registry
	// NetprobeImage is test/fixtures/netprobe's image in Registry: a pod that tells the node what it can reach.
	NetprobeImage string

	assets, dir, cleanupScript string
	procs                      []*Process
	lock                       *os.File
	relay                      *apiRelay
}

// NodeRequirements says what the node needs that this machine lacks, "" when it has everything.
func NodeRequirements() string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, p := range []string{"/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/sbin/iptables", "/usr/sbin/ip"} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "the node needs " + strings.Join(missing, ", ") + " (make node installs the packages as root)"
}

// RequireNode skips a test of the node tier only when asked to (TEST_NODE=skip, or -short), and fails it where the
// machine cannot run a node: a node tier that cannot run must never pass.
func RequireNode(t testing.TB) {
	t.Helper()
	switch {
	case testing.Short():
		t.Skip("the node tier runs containers: not in -short")
	case os.Getenv("TEST_NODE") == "skip":
		t.Skip("the node tier was skipped (TEST_NODE=skip): no container ran, no packet was sent")
	}
	if missing := NodeRequirements(); missing != "" {
		t.Fatalf("%s; run with TEST_NODE=skip to skip the node tier", missing)
	}
}

// PodLogs is the end of the logs of a pod's containers, read from the node (the kubelet serves no logs here: it
// authenticates nobody).
func (n *Node) PodLogs(namespace, pod string, lines int) string {
	files, _ := filepath.Glob(filepath.Join(n.dir, "pod-logs", namespace+"_"+pod+"_*", "*", "*.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.WriteString("==> " + filepath.Base(filepath.Dir(f)) + "\n" + tail(data, lines) + "\n")
	}
	return b.String()
}

func (n *Node) name() string { return "node" }

// start starts the node in steps: what it needs from the machine, its images and configuration, its processes,
// then the cluster's add-ons on it.
func (n *Node) start(ctx context.Context, c *Cluster) error {
	netprobe, err := n.prepare(ctx, c)
	if err != nil {
		return err
	}
	if err := n.startProcesses(ctx, c); err != nil {
		return err
	}
	if err := n.startNetworkPolicies(ctx, c); err != nil {
		return err
	}
	if err := n.startServiceProxy(c); err != nil {
		return err
	}
	if err := n.startOutside(c, netprobe); err != nil {
		return err
	}
	return n.startDNS(ctx, c)
}

// prepare takes the machine's node lock, arms the cleanup, pushes the node's images, writes its configuration and
// makes the bridge. It returns netprobe's binary, for the outside servers.
func (n *Node) prepare(ctx context.Context, c *Cluster) (netprobe string, err error) {
	if missing := NodeRequirements(); missing != "" {
		return "", fmt.Errorf("%s", missing)
	}
	for _, b := range []string{"kubelet", "kube-scheduler", "kube-proxy", "kube-router", "coredns"} {
		if _, err := os.Stat(filepath.Join(n.assets, b)); err != nil {
			return "", fmt.Errorf("%s not in %s: make node builds it", b, n.assets)
		}
	}
	if n.lock, err = lockNode(ctx); err != nil {
		return "", err
	}
	if err := waitForNoNode(ctx); err != nil {
		return "", err
	}
	n.dir = filepath.Join(c.WorkDir, "node")
	for _, d := range []string{"containerd", "cni", "kubelet", "certs.d"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o700); err != nil {
			return "", err
		}
	}
	// The cleanup runs whatever happens to the caller: written first, and handed to the reaper.
	if err := n.writeCleanup(); err != nil {
		return "", err
	}
	if err := c.reaper.cleanupOnDeath(n.cleanupScript); err != nil {
		return "", err
	}
	if n.Registry, err = images.ServeRegistry("127.0.0.1:0"); err != nil {
		return "", err
	}
	// The sandbox image, and netprobe: the outside servers, and an image for pods that report what they reach.
	_, pause, err := n.PushFixture(ctx, "pause")
	if err != nil {
		return "", err
	}
	netprobe, n.NetprobeImage, err = n.PushFixture(ctx, "netprobe")
	if err != nil {
		return "", err
	}
	if err := n.writeConfig(pause); err != nil {
		return "", err
	}
	// The bridge CNI would make, made first, so that its gateway address exists before any pod: pods reach the
	// apiserver (the kubernetes Service's endpoint) through a relay there.
	if out, err := exec.Command("/bin/sh", "-c", fmt.Sprintf("set -e; ip link add %[1]s type bridge; ip addr add %[2]s/24 dev %[1]s; ip link set %[1]s up",
		nodeBridge, podGateway)).CombinedOutput(); err != nil {
		return "", fmt.Errorf("making the bridge %s: %w: %s", nodeBridge, err, out)
	}
	n.relay, err = startAPIRelay(c.Config.Host)
	return netprobe, err
}

// startProcesses runs containerd, the kubelet and the scheduler, and waits for the node to be Ready.
func (n *Node) startProcesses(ctx context.Context, c *Cluster) error {
	socket := filepath.Join(n.dir, "containerd.sock")
	if err := n.run(c, "containerd", "/usr/bin/containerd", "--config", filepath.Join(n.dir, "containerd.toml")); err != nil {
		return err
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		_, err := os.Stat(socket)
		return err == nil, nil
	}); err != nil {
		return fmt.Errorf("containerd did not start (see node/containerd.log in %s): %w", c.WorkDir, err)
	}
	if err := n.run(c, "kubelet", filepath.Join(n.assets, "kubelet"),
		"--config", filepath.Join(n.dir, "kubelet.yaml"), "--kubeconfig", c.KubeconfigPath,
		"--hostname-override", NodeName, "--root-dir", filepath.Join(n.dir, "kubelet"),
		"--cert-dir", filepath.Join(n.dir, "kubelet", "pki")); err != nil {
		return err
	}
	if err := n.run(c, "kube-scheduler", filepath.Join(n.assets, "kube-scheduler"),
		"--kubeconfig", c.KubeconfigPath, "--authentication-kubeconfig", c.KubeconfigPath,
		"--authorization-kubeconfig", c.KubeconfigPath, "--secure-port=0", "--leader-elect=false"); err != nil {
		return err
	}
	return n.waitReady(ctx, c)
}

// startNetworkPolicies runs kube-router with only its firewall on: it enforces NetworkPolicies with iptables and
// ipsets, and needs the node's pod range, which nothing else here sets.
func (n *Node) startNetworkPolicies(ctx context.Context, c *Cluster) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	patch := fmt.Sprintf(`{"spec":{"podCIDR":%q,"podCIDRs":[%q]}}`, podCIDR, podCIDR)
	if _, err := cs.CoreV1().Nodes().Patch(ctx, NodeName, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("setting the node's pod range: %w", err)
	}
	return n.run(c, "kube-router", filepath.Join(n.assets, "kube-router"),
		"--kubeconfig", c.KubeconfigPath, "--hostname-override", NodeName,
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--run-loadbalancer=false",
		"--enable-cni=false", "--metrics-port=0", "--health-port=0")
}

// run starts one of the node's processes, logging into the node's directory.
func (n *Node) run(c *Cluster, name, path string, args ...string) error {
	p, err := c.StartProcess(name, path, filepath.Join(n.dir, name+".log"), nil, args...)
	if err != nil {
		return err
	}
	// The cluster stops processes it started for the caller first; the node stops its own, in reverse.
	c.processes = c.processes[:len(c.processes)-1]
	n.procs = append(n.procs, p)
	return nil
}

// PushFixture builds the command test/fixtures/<name> into the node's directory, packs it as an image running
// /<name> as nonroot, and pushes it to the node's registry as <name>:dev. It returns the binary and the image.
func (n *Node) PushFixture(ctx context.Context, name string) (binary, image string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	binary = filepath.Join(n.dir, name)
	if err := images.GoBuild(ctx, root, "./test/fixtures/"+name, binary); err != nil {
		return "", "", err
	}
	image, err = n.pushBinary(ctx, binary, name)
	return binary, image, err
}

// writeConfig writes containerd's, CNI's and the kubelet's configuration.
func (n *Node) writeConfig(pause string) error {
	files := map[string]string{
		// containerd 1.6 (Debian's). Without CAP_SYS_RESOURCE runc cannot raise oom_score_adj: restrict it. The
		// registry on loopback is plain HTTP.
		"containerd.toml": fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[5]q
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %[6]q
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
`, filepath.Join(n.dir, "containerd", "root"), filepath.Join(n.dir, "containerd", "state"), filepath.Join(n.dir, "containerd.sock"),
			pause, filepath.Join(n.dir, "cni"), filepath.Join(n.dir, "certs.d")),
		filepath.Join("certs.d", n.Registry.Host, "hosts.toml"): fmt.Sprintf("server = %q\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n",
			"http://"+n.Registry.Host, "http://"+n.Registry.Host),
		filepath.Join("cni", "10-bridge.conflist"): fmt.Sprintf(`{"cniVersion": "0.4.0", "name": %q, "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
`, nodeNetwork, nodeBridge, podCIDR, filepath.Join(n.dir, "cni-ipam")),
		// cgroup v1 hosts are deprecated, not refused; no QoS cgroups or eviction on a test machine.
		"kubelet.yaml": fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://%s
podCIDR: %s
clusterDomain: cluster.local
clusterDNS: [%s]
podLogsDir: %s
failSwapOn: false
readOnlyPort: 0
healthzPort: 0
serializeImagePulls: false
evictionHard: {}
`, filepath.Join(n.dir, "containerd.sock"), podCIDR, ClusterDNS, filepath.Join(n.dir, "pod-logs")),
	}
	for name, content := range files {
		path := filepath.Join(n.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// waitReady waits for the node to register and report Ready.
func (n *Node) waitReady(ctx context.Context, c *Cluster) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		node, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				last = cond.Reason + ": " + cond.Message
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready (%s; see node/kubelet.log in %s): %w", NodeName, last, c.WorkDir, err)
	}
	return nil
}

func (n *Node) stop() error {
	for i := len(n.procs) - 1; i >= 0; i-- {
		_ = n.procs[i].Stop()
	}
	n.procs = nil
	var err error
	if n.cleanupScript != "" {
		if out, cerr := exec.Command("/bin/sh", n.cleanupScript).CombinedOutput(); cerr != nil {
			err = fmt.Errorf("cleaning up the node: %w\n%s", cerr, out)
		}
	}
	if n.Registry != nil {
		_ = n.Registry.Close()
	}
	if n.relay != nil {
		n.relay.close()
	}
	if n.lock != nil {
		_ = n.lock.Close() // only now may another node start
		n.lock = nil
	}
	return err
}
