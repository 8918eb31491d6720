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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// One cluster serves every test of this file but the reaper's, which needs a cluster of its own to kill.
var (
	cluster *Cluster
	k8s     client.Client
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(helperEnv) != "" {
		runHelper()
		return
	}
	if testing.Short() {
		os.Exit(m.Run())
	}
	var err error
	cluster, err = Start(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting local cluster:", err)
		os.Exit(1)
	}
	k8s, err = client.New(cluster.Config, client.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = cluster.Stop()
		os.Exit(1)
	}
	code := m.Run()
	if err := cluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping local cluster:", err)
		code = 1
	}
	os.Exit(code)
}

func needCluster(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func createNamespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

func eventually(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestResourceQuotaIsEnforced(t *testing.T) {
	ctx := needCluster(t)
	createNamespace(ctx, t, "quota")
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: "quota", Name: "q"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceServices: resource.MustParse("1")}},
	}
	if err := k8s.Create(ctx, quota); err != nil {
		t.Fatal(err)
	}
	// Admission enforces a quota only once the resourcequota controller has computed its status.
	eventually(ctx, t, "quota status computed", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(quota), quota)
		return err == nil && quota.Status.Hard != nil, err
	})
	service := func(name string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "quota", Name: name},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}
	}
	if err := k8s.Create(ctx, service("first")); err != nil {
		t.Fatalf("the first Service fits the quota: %v", err)
	}
	err := k8s.Create(ctx, service("second"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("creating a Service past the quota: want Forbidden 'exceeded quota', got %v", err)
	}
}

func TestNamespaceDeletionCompletes(t *testing.T) {
	ctx := needCluster(t)
	createNamespace(ctx, t, "doomed")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "doomed", Name: "data"}, Data: map[string]string{"k": "v"}}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "namespace gone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Name: "doomed"}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

func TestGarbageCollectionDeletesDependents(t *testing.T) {
	ctx := needCluster(t)
	createNamespace(ctx, t, "gc")
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "gc", Name: "owner"}}
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "gc", Name: "dependent",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID}}}}
	if err := k8s.Create(ctx, dependent); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, owner); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "dependent collected", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

func TestSecretsAreEncryptedAtRest(t *testing.T) {
	ctx := needCluster(t)
	createNamespace(ctx, t, "crypt")
	const value = "correct-horse-battery-staple"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "crypt", Name: "s"}, StringData: map[string]string{"password": value}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// The same value in a ConfigMap, which is not encrypted, proves the raw read sees plaintext where there is some.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "crypt", Name: "c"}, Data: map[string]string{"password": value}}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	rawConfigMap, err := cluster.EtcdValue(ctx, "/registry/configmaps/crypt/c")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rawConfigMap, []byte(value)) {
		t.Fatalf("raw ConfigMap in etcd should hold the plaintext value; got %q", rawConfigMap)
	}
	rawSecret, err := cluster.EtcdValue(ctx, "/registry/secrets/crypt/s")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rawSecret, []byte(value)) {
		t.Fatal("the Secret's value is stored in plaintext in etcd")
	}
	if !bytes.HasPrefix(rawSecret, []byte(EncryptionPrefix)) {
		t.Fatalf("raw Secret in etcd should start with %q; got %q", EncryptionPrefix, rawSecret[:min(len(rawSecret), 40)])
	}
	// And the apiserver still reads it back.
	got := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(secret), got); err != nil || string(got.Data["password"]) != value {
		t.Fatalf("reading the Secret back through the apiserver: %v %q", err, got.Data["password"])
	}
}

func TestPodSecurityAdmissionRejectsPrivilegedPods(t *testing.T) {
	ctx := needCluster(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted",
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "restricted", Name: "root"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}},
	}
	err := k8s.Create(ctx, pod)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("want a PodSecurity violation, got %v", err)
	}
}

func TestRBACIsEnforced(t *testing.T) {
	ctx := needCluster(t)
	cfg, err := cluster.AddUser("alice", "oidc:developers")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = alice.List(ctx, &corev1.SecretList{}, client.InNamespace("default"))
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a user without bindings listing Secrets: want Forbidden, got %v", err)
	}
	if !strings.Contains(err.Error(), `User "alice"`) {
		t.Fatalf("the denial should name the authenticated user: %v", err)
	}
}

func TestAuditLogRecordsWrites(t *testing.T) {
	ctx := needCluster(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "audited"}}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "audit event for the ConfigMap create", func(context.Context) (bool, error) {
		data, err := os.ReadFile(cluster.AuditLogPath)
		if err != nil {
			return false, nil // not written yet
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var ev struct {
				Verb      string `json:"verb"`
				ObjectRef struct {
					Resource string `json:"resource"`
					Name     string `json:"name"`
				} `json:"objectRef"`
				User struct {
					Username string `json:"username"`
				} `json:"user"`
			}
			if json.Unmarshal(line, &ev) == nil && ev.Verb == "create" && ev.ObjectRef.Resource == "configmaps" &&
				ev.ObjectRef.Name == "audited" && ev.User.Username == "admin" {
				return true, nil
			}
		}
		return false, nil
	})
}

const helperEnv = "LOCALCLUSTER_TEST_HELPER"

// runHelper starts a cluster, prints the pids of its processes and waits to be killed: the stand-in for a test
// binary that dies by Ctrl-C or by its timeout without stopping its cluster.
func runHelper() {
	ctx := context.Background()
	c, err := Start(ctx, Options{Node: os.Getenv(helperEnv) == "node"})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if c.Node != nil {
		// A pod, so that there are containers (and their shims, mounts and network namespace) to leave behind.
		if err := runPause(ctx, c); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("containers:", strings.Join(containerPIDs(), " "))
	}
	pids := make([]string, 0, len(c.PIDs()))
	for _, pid := range c.PIDs() {
		pids = append(pids, strconv.Itoa(pid))
	}
	fmt.Println("pids:", strings.Join(pids, " "))
	fmt.Println("workdir:", c.WorkDir)
	select {}
}

func TestProcessesDieWithTheirCaller(t *testing.T) {
	needCluster(t)
	checkDiesWithCaller(t, "1")
}

// TestNodeDiesWithItsCaller: a node whose caller dies leaves nothing either: its containers are killed, its mounts,
// network namespaces, bridge and iptables rules removed (the reaper runs the node's cleanup).
func TestNodeDiesWithItsCaller(t *testing.T) {
	RequireNode(t)
	workDir, containers := checkDiesWithCaller(t, "node")
	if len(containers) == 0 {
		t.Fatal("the helper ran no container")
	}
	for _, pid := range containers {
		if _, err := os.Stat("/proc/" + pid); err == nil {
			t.Errorf("container process %s outlived the caller", pid)
		}
	}
	checkNothingLeft(t, filepath.Join(workDir, "node"))
}

// checkDiesWithCaller runs a helper process that starts a cluster (with a node and a pod when mode is "node") and
// is killed without stopping it, and waits for everything it started to go. It returns the helper's work directory
// and its container processes.
func checkDiesWithCaller(t *testing.T, mode string) (string, []string) {
	t.Helper()
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+mode)
	stderr, err := os.Create(t.TempDir() + "/helper.stderr")
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = stderr
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	// A helper that never reports dumps its goroutines (SIGQUIT) into its stderr, shown below.
	stuck := time.AfterFunc(3*time.Minute, func() { _ = helper.Process.Signal(syscall.SIGQUIT) })
	defer stuck.Stop()
	var pids []int
	var workDir string
	var containers []string
	scanner := bufio.NewScanner(stdout)
	for workDir == "" && scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "pids: "):
			for _, f := range strings.Fields(strings.TrimPrefix(line, "pids: ")) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
		case strings.HasPrefix(line, "containers: "):
			containers = strings.Fields(strings.TrimPrefix(line, "containers: "))
		case strings.HasPrefix(line, "workdir: "):
			workDir = strings.TrimPrefix(line, "workdir: ")
		case strings.HasPrefix(line, "error: "):
			t.Fatal(line)
		}
	}
	// etcd, kube-apiserver, kube-controller-manager.
	if len(pids) < 3 {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		out, _ := os.ReadFile(stderr.Name())
		t.Fatalf("helper reported %d processes, want at least 3; its stderr:\n%s", len(pids), out)
	}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("process %d is not running before the helper dies", pid)
		}
	}
	// SIGINT with no handler installed kills the helper outright, as Ctrl-C kills a test binary: no cleanup runs.
	if err := helper.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eventually(ctx, t, "orphaned control-plane processes killed and their work directory removed", func(context.Context) (bool, error) {
		for _, pid := range pids {
			if alive(pid) {
				return false, nil
			}
		}
		_, err := os.Stat(workDir)
		return os.IsNotExist(err), nil
	})
	return workDir, containers
}

func TestStopLeavesNoProcess(t *testing.T) {
	ctx := needCluster(t)
	c, err := Start(ctx, Options{WithoutControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	pids := c.PIDs()
	if len(pids) < 2 {
		t.Fatalf("want etcd and kube-apiserver, got pids %v", pids)
	}
	workDir := c.WorkDir
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still running after Stop", pid)
		}
	}
	if _, err := os.Stat(workDir); !os.IsNotExist(err) {
		t.Errorf("work directory %s left behind: %v", workDir, err)
	}
}

// alive reports whether pid runs (a zombie, reaped by no one yet, counts as dead).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
