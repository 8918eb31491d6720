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

// Package install installs the operator the ways the README tells cluster admins to, the Helm chart and
// config/default, onto the local control plane, and runs the operator's binary with the credentials of the
// ServiceAccount each install creates: a permission, flag or policy an install forgot fails here.
package install

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

const (
	chartDir = "charts/tenant-operator"
	// The README's Helm install: release tenant-operator in namespace tenant-operator-system.
	releaseName      = "tenant-operator"
	releaseNamespace = "tenant-operator-system"
)

var (
	repoRoot      string
	managerBinary string
)

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if repoRoot, err = localcluster.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if testing.Short() {
		os.Exit(m.Run())
	}
	binary, cleanup, err := localcluster.ManagerBinary(repoRoot)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	managerBinary = binary
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// helmBinary is $HELM_BINARY (set by make test), or the helm make tools built into bin/.
func helmBinary(t *testing.T) string { return toolBinary(t, "helm", "HELM_BINARY") }

// kustomizeBinary is $KUSTOMIZE_BINARY (set by make test), or the kustomize make tools built into bin/.
func kustomizeBinary(t *testing.T) string { return toolBinary(t, "kustomize", "KUSTOMIZE_BINARY") }

// toolBinary is $env, or the newest bin/<tool>-<version>/<tool>.
func toolBinary(t *testing.T, tool, env string) string {
	t.Helper()
	if b := os.Getenv(env); b != "" {
		return b
	}
	found, _ := filepath.Glob(filepath.Join(repoRoot, "bin", tool+"-*", tool))
	if len(found) == 0 {
		if testing.Short() {
			t.Skip(tool + " is not built (make tools)")
		}
		t.Fatalf("%s is not built: run 'make tools' or set %s", tool, env)
	}
	return found[len(found)-1]
}

// helm runs the helm binary in the repository root with a private home, so nothing leaks from or into the user's.
func helm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	home := t.TempDir()
	if args[0] == "template" {
		args = append(args, "--kube-version", kubeVersion(t))
	}
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// renderChart is `helm template` of the chart as the README installs it, with extra arguments (values).
func renderChart(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := helm(t, append([]string{"template", releaseName, chartDir, "--namespace", releaseNamespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// kubeVersion is the version of the local control plane, which helm template needs to check the chart's
// kubeVersion (without a cluster it assumes an old one).
func kubeVersion(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(repoRoot, "hack", "tools", "k8s", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[len(f)-2] == "k8s.io/kubernetes" {
			return f[len(f)-1]
		}
	}
	t.Fatal("k8s.io/kubernetes not required by hack/tools/k8s/go.mod")
	return ""
}

// decode splits multi-document YAML into objects.
func decode(t *testing.T, manifests []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := d.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decoding manifests: %v", err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

// find returns the objects of a kind.
func find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			found = append(found, o)
		}
	}
	return found
}

// operatorDeployment is the one Deployment an install holds, typed.
func operatorDeployment(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	found := find(objs, "Deployment")
	if len(found) != 1 {
		t.Fatalf("the manifests hold %d Deployments, want 1", len(found))
	}
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(found[0].Object, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// installation is an install of the operator on its own local control plane, with the operator's binary running as
// the install's ServiceAccount and flags.
type installation struct {
	cluster    *localcluster.Cluster
	operator   *localcluster.Operator
	k8s        client.Client
	deployment *appsv1.Deployment
	binary     string
	args       []string
	restarts   int
	// metricsPort is fixed when the apiserver's audit webhook points at the operator; 0 otherwise.
	metricsPort int
	// owner is the test the installation lives as long as, whichever subtest restarts the operator.
	owner *testing.T
}

// install starts a local control plane, applies the manifests server-side (the operator's Deployment included, so
// the apiserver validates it), checks Pod Security admits the operator's pods, and runs the operator with the
// ServiceAccount and arguments of its Deployment.
func install(ctx context.Context, t *testing.T, manifests []byte) *installation {
	t.Helper()
	objs := decode(t, manifests)
	deployment := operatorDeployment(t, objs)
	// The test plays the kubelet for tenant back-ends (there is no node): without the deployment and replicaset
	// controllers, the Deployment status it writes stays.
	opts := localcluster.Options{Controllers: localcluster.ControllersWithout("deployment", "replicaset")}
	var metricsPort int
	if slices.Contains(operatorArgs(t, deployment), "--audit-sink") {
		// The apiserver posts its audit events to the operator's metrics endpoint, as the audit sender the chart
		// binds (metrics.auditSink.senders): the port is chosen before either starts.
		port, err := localcluster.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		metricsPort = port
		opts.AuditWebhook = &localcluster.AuditWebhook{URL: fmt.Sprintf("https://127.0.0.1:%d/audit-events", port), User: auditSender}
	}
	cluster, err := localcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	if len(find(objs, "Namespace")) == 0 {
		// Helm does not create namespaces with labels: the README creates the release namespace under the Pod
		// Security profile the operator gives tenants.
		if _, err := cluster.Kubectl(ctx, nil, "create", "namespace", deployment.Namespace); err != nil {
			t.Fatal(err)
		}
		if _, err := cluster.Kubectl(ctx, nil, "label", "namespace", deployment.Namespace, "pod-security.kubernetes.io/enforce=restricted"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cluster.ApplyManifests(ctx, manifests); err != nil {
		t.Fatal(err)
	}
	inst := &installation{cluster: cluster, deployment: deployment, binary: managerBinary, owner: t, metricsPort: metricsPort}
	if inst.k8s, err = client.New(cluster.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		t.Fatal(err)
	}
	inst.checkPodSecurity(ctx, t)
	inst.args = operatorArgs(t, deployment)
	inst.start(ctx, t)
	return inst
}

// checkPodSecurity creates (dry run) a Pod from the operator's pod template in its namespace: the namespace must
// enforce the restricted profile and admit the pod.
func (i *installation) checkPodSecurity(ctx context.Context, t *testing.T) {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := i.k8s.Get(ctx, client.ObjectKey{Name: i.deployment.Namespace}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %s does not enforce the restricted Pod Security profile: %v", ns.Name, ns.Labels)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: i.deployment.Namespace, GenerateName: "manager-", Labels: i.deployment.Spec.Template.Labels},
		Spec:       i.deployment.Spec.Template.Spec,
	}
	if err := i.k8s.Create(ctx, pod, client.DryRunAll); err != nil {
		t.Errorf("the operator's pod is not admitted in its namespace: %v", err)
	}
}

// operatorArgs are the manager container's arguments, less those RunOperator sets for a process on this machine
// (listen addresses, leader election, which the Deployment must enable).
func operatorArgs(t *testing.T, d *appsv1.Deployment) []string {
	t.Helper()
	containers := d.Spec.Template.Spec.Containers
	if len(containers) != 1 || containers[0].Name != "manager" {
		t.Fatalf("the operator's pod has containers %v, want one named manager", containers)
	}
	var args []string
	for _, a := range containers[0].Args {
		switch name, _, _ := strings.Cut(a, "="); name {
		case "--leader-elect", "--metrics-bind-address", "--health-probe-bind-address":
		default:
			args = append(args, a)
		}
	}
	if !slices.Contains(containers[0].Args, "--leader-elect") && *d.Spec.Replicas > 1 {
		t.Errorf("%d replicas without --leader-elect", *d.Spec.Replicas)
	}
	return args
}

func (i *installation) start(ctx context.Context, t *testing.T) {
	t.Helper()
	i.restarts++
	op, err := i.cluster.RunOperator(ctx, localcluster.OperatorOptions{
		Binary:         i.binary,
		Args:           i.args,
		Namespace:      i.deployment.Namespace,
		ServiceAccount: i.deployment.Spec.Template.Spec.ServiceAccountName,
		LogPath:        filepath.Join(i.cluster.WorkDir, fmt.Sprintf("operator-%d.log", i.restarts)),
		MetricsPort:    i.metricsPort,
	})
	if err != nil {
		t.Fatal(err)
	}
	i.operator = op
	i.owner.Cleanup(func() {
		if i.owner.Failed() {
			logs, _ := os.ReadFile(op.LogPath)
			i.owner.Logf("operator log (%s):\n%s", op.LogPath, logs)
		}
		_ = op.Stop()
	})
}

// restart stops the operator and starts it again, as a rollout would.
func (i *installation) restart(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := i.operator.Stop(); err != nil {
		t.Fatal(err)
	}
	i.start(ctx, t)
}

func eventually(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitReady waits for a Tenant to be Ready for its current generation, playing the kubelet for its back-end: the
// back-end Deployment is marked available once the operator created it.
func (i *installation) waitReady(ctx context.Context, t *testing.T, name string) *tenancyv1alpha1.Tenant {
	t.Helper()
	tenant := &tenancyv1alpha1.Tenant{}
	eventually(ctx, t, "tenant "+name+" Ready", func(ctx context.Context) (bool, error) {
		if err := i.k8s.Get(ctx, client.ObjectKey{Name: name}, tenant); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if tenant.Spec.Backend != nil {
			if err := i.simulateBackend(ctx, tenant); err != nil {
				return false, err
			}
		}
		return tenant.Status.ObservedGeneration == tenant.Generation &&
			meta.IsStatusConditionTrue(tenant.Status.Conditions, tenancyv1alpha1.ConditionReady), nil
	})
	return tenant
}

func (i *installation) simulateBackend(ctx context.Context, tenant *tenancyv1alpha1.Tenant) error {
	if tenant.Status.Namespace == "" {
		return nil
	}
	d := &appsv1.Deployment{}
	err := i.k8s.Get(ctx, client.ObjectKey{Namespace: tenant.Status.Namespace, Name: render.BackendName}, d)
	if apierrors.IsNotFound(err) || (err == nil && d.Status.ObservedGeneration == d.Generation) {
		return nil
	}
	if err != nil {
		return err
	}
	n := *d.Spec.Replicas
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
	if err := i.k8s.Status().Update(ctx, d); err != nil && !apierrors.IsConflict(err) {
		return err
	}
	return nil
}

// applySamples applies config/samples as the README does and waits for every sample to be Ready.
func (i *installation) applySamples(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := i.cluster.Kubectl(ctx, nil, "apply", "--server-side", "-k", filepath.Join(repoRoot, "config", "samples")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"acme", "globex", "initech", "initrode"} {
		i.waitReady(ctx, t, name)
	}
	// kubectl get tenants shows where each stands.
	out, err := i.cluster.Kubectl(ctx, nil, "get", "tenants")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"NAME", "NAMESPACE", "PHASE", "READY", "BACKEND", "AGE"}) {
		t.Errorf("kubectl get tenants columns = %v", got)
	}
	for _, line := range lines[1:] {
		if f := strings.Fields(line); f[0] == "globex" && (f[1] != "globex-prod" || f[2] != "Ready" || f[3] != "True" || f[4] != "2/2") {
			t.Errorf("kubectl get tenants: %q", line)
		}
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func runCommand(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func scheme() *runtime.Scheme {
	s := controllers.NewScheme()
	_ = apiextensionsv1.AddToScheme(s)
	return s
}
