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
	"crypto/rand"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/ssa"
)

// TestNodeRunsATenantsBackend starts a node, runs a tenant's back-end exactly as the operator renders it (the example
// back-end's image pulled from the node's registry, Pod Security restricted, non-root, a read-only root filesystem,
// the tenant's certificate mounted) until it is Ready, and verifies with the tenant's ca.crt that it serves TLS for
// backend.<namespace>.svc on its pod's address. With packets: a pod of the tenant's namespace connects to it, one of
// another tenant's cannot (kube-router enforces the rendered NetworkPolicies). Stopping the cluster leaves nothing
// of the node behind.
func TestNodeRunsATenantsBackend(t *testing.T) {
	RequireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Node: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := c.Node.dir
	stopped := false
	defer func() {
		if !stopped {
			_ = c.Stop()
		}
	}()
	_, image, err := c.Node.PushFixture(ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "node"}, Spec: tenancyv1alpha1.TenantSpec{
		Backend: &tenancyv1alpha1.BackendSpec{Image: image, Args: []string{"-addr", ":8080"}},
		Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
	}}
	ca, err := pki.NewCA("cluster.local", time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := render.DesiredState(tenant, render.DefaultConfig(), render.Observed{
		Secrets: map[string]*corev1.Secret{}, CA: ca, Now: time.Now(), Rand: rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(c.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	manager := ssa.FieldManager{Name: "node-test"}
	for _, o := range desired.Objects {
		if err := manager.ApplyObject(ctx, k8s, o.Obj); err != nil {
			t.Fatalf("applying %T %s: %v", o.Obj, o.Obj.GetName(), err)
		}
	}
	podIP := waitForBackend(ctx, t, k8s, c, render.TenantNamespace(tenant))
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if err := VerifyTLS(ctx, net.JoinHostPort(podIP, "8080"), roots, "backend."+render.TenantNamespace(tenant)+".svc", "/healthz"); err != nil {
		t.Fatal(err)
	}

	// Packets: another tenant's pod cannot reach the back-end, a pod of the tenant's own namespace can.
	other := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "node-other"}}
	otherDesired, err := render.DesiredState(other, render.DefaultConfig(), render.Observed{
		Secrets: map[string]*corev1.Secret{}, Now: time.Now(), Rand: rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range otherDesired.Objects {
		if err := manager.ApplyObject(ctx, k8s, o.Obj); err != nil {
			t.Fatalf("applying %T %s: %v", o.Obj, o.Obj.GetName(), err)
		}
	}
	target := net.JoinHostPort(podIP, "8080")
	for _, probe := range []struct {
		namespace string
		want      bool
	}{{render.TenantNamespace(tenant), true}, {render.TenantNamespace(other), false}} {
		if got := probeFrom(ctx, t, k8s, probe.namespace, image, target); got != probe.want {
			t.Errorf("a pod in %s connecting to the back-end of %s: connected %v, want %v", probe.namespace, tenant.Name, got, probe.want)
		}
	}

	checkNoWayOut(t, podIP)

	containers := containerProcesses(t)
	if len(containers) == 0 {
		t.Fatal("no container process found on the host")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	checkNothingLeft(t, dir)
	for _, pid := range containers {
		if _, err := os.Stat(filepath.Join("/proc", pid)); err == nil {
			t.Errorf("container process %s is left", pid)
		}
	}
}

// waitForBackend waits for the back-end's Deployment to be ready and returns a pod's address.
func waitForBackend(ctx context.Context, t *testing.T, k8s client.Client, c *Cluster, namespace string) string {
	t.Helper()
	var podIP, last string
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: render.BackendName}, d); err != nil {
			return false, nil
		}
		var pods corev1.PodList
		if err := k8s.List(ctx, &pods, client.InNamespace(namespace)); err != nil {
			return false, err
		}
		if state := describePods(d, pods.Items); state != last {
			last = state
			t.Log(state)
		}
		for _, p := range pods.Items {
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					podIP = p.Status.PodIP
				}
			}
		}
		return d.Status.ReadyReplicas == *d.Spec.Replicas && podIP != "", nil
	})
	if err != nil {
		logs, _ := os.ReadFile(filepath.Join(c.Node.dir, "kubelet.log"))
		t.Fatalf("the back-end did not become ready: %v; %s\nkubelet log (end):\n%s", err, last, tail(logs, 30))
	}
	return podIP
}

func describePods(d *appsv1.Deployment, pods []corev1.Pod) string {
	var b strings.Builder
	b.WriteString("deployment ready " + strconv.Itoa(int(d.Status.ReadyReplicas)) + "; pods:")
	for _, p := range pods {
		b.WriteString(" " + p.Name + "=" + string(p.Status.Phase))
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				b.WriteString("(" + w.Reason + ": " + w.Message + ")")
			}
		}
		for _, cond := range p.Status.Conditions {
			if cond.Status != corev1.ConditionTrue && cond.Message != "" {
				b.WriteString("[" + cond.Message + "]")
			}
		}
	}
	return b.String()
}

// checkNoWayOut: nothing outside the machine but the outside servers is reachable for pods: a route lookup (no
// packet sent) for an address on the internet, as from podIP, finds no way out.
func checkNoWayOut(t *testing.T, podIP string) {
	t.Helper()
	route, err := exec.Command("ip", "route", "get", "8.8.8.8", "from", podIP, "iif", nodeBridge).CombinedOutput()
	if !strings.Contains(string(route), "unreachable") && !strings.Contains(string(route), "No route to host") {
		t.Errorf("pods have a way out of the machine: ip route get 8.8.8.8 from %s iif %s: %v %s", podIP, nodeBridge, err, route)
	}
}

// checkNothingLeft: no process of the node, no mount below its directory, no bridge, no directory.
func checkNothingLeft(t *testing.T, dir string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), dir) {
			t.Errorf("a process of the node is left: %s", strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if mounts, err := os.ReadFile("/proc/self/mounts"); err == nil && strings.Contains(string(mounts), dir) {
		t.Error("mounts below the node's directory are left")
	}
	for _, link := range []string{nodeBridge, outsideLink} {
		if _, err := net.InterfaceByName(link); err == nil {
			t.Errorf("the link %s is left", link)
		}
	}
	if _, err := os.Stat(filepath.Join("/var/run/netns", outsideNetns)); err == nil {
		t.Errorf("the network namespace %s is left", outsideNetns)
	}
	if rules, _ := exec.Command("ip", "rule", "show").Output(); strings.Contains(string(rules), "lookup "+outsideTable) {
		t.Errorf("the routing rule to the outside servers is left: %s", rules)
	}
	if _, err := os.Stat(filepath.Join("/var/lib/cni/networks", nodeNetwork)); err == nil {
		t.Errorf("CNI's address reservations are left in /var/lib/cni/networks/%s", nodeNetwork)
	}
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, dir) {
			t.Errorf("a container log link is left: %s -> %s", l, target)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the node's directory is left: %v", err)
	}
	for _, binary := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"filter", "nat"} {
			out, _ := exec.Command(binary, "-t", table, "-S").Output()
			if strings.Contains(string(out), nodeNetwork) {
				t.Errorf("%s %s: rules of the node's network are left", binary, table)
			}
		}
	}
}

// containerProcesses are the host's processes of the back-end's and the sandbox's images (run as nonroot).
func containerProcesses(t *testing.T) []string {
	t.Helper()
	return containerPIDs()
}

func containerPIDs() []string {
	var pids []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err == nil && (strings.HasPrefix(string(b), "/backend\x00") || string(b) == "/pause\x00") {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

// runPause runs a pod of the sandbox image and waits for it to run.
func runPause(ctx context.Context, c *Cluster) error {
	k8s, err := client.New(c.Config, client.Options{})
	if err != nil {
		return err
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pause", Namespace: "default"}, Spec: corev1.PodSpec{
		Containers:                   []corev1.Container{{Name: "pause", Image: c.Node.Registry.Host + "/pause:dev", ImagePullPolicy: corev1.PullAlways}},
		AutomountServiceAccountToken: ptr.To(false),
	}}
	if err := k8s.Create(ctx, pod); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod)
		return err == nil && pod.Status.Phase == corev1.PodRunning, nil
	})
}

// probeFrom runs a pod in namespace that opens a TCP connection to target (the example back-end's -probe), as the
// restricted Pod Security profile allows, and reports whether it connected, from the pod's exit.
func probeFrom(ctx context.Context, t *testing.T, k8s client.Client, namespace, image, target string) bool {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: namespace}, Spec: corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		AutomountServiceAccountToken: ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "probe", Image: image, ImagePullPolicy: corev1.PullAlways, Args: []string{"-probe", target},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false, err
		}
		return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed, nil
	})
	if err != nil {
		t.Fatalf("probe pod in %s did not finish: %v (%s)", namespace, err, pod.Status.Phase)
	}
	return pod.Status.Phase == corev1.PodSucceeded
}
