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

package install

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/hack/images"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// The operator's lease, as main.go names it.
const leaseName = "tenant-operator.tenant-operator.dev"

// TestHelmInstallOnTheNode: the chart runs the operator as a cluster runs it: two replicas of its image (the
// Dockerfile's final stage around bin/manager) on the node, with in-cluster config under its ServiceAccount,
// Ready by their probes, one of them leading. See runsOnTheNode for what they must then do.
func TestHelmInstallOnTheNode(t *testing.T) {
	localcluster.RequireNode(t)
	ctx := withTimeout(t, 8*time.Minute)
	c := startNode(ctx, t)
	image := pushOperatorImage(ctx, t, c)
	repository, tag, _ := strings.Cut(image, ":dev")
	// The metrics endpoint serves a certificate of the admin's (metrics.tls.secretName), which scrapes verify.
	manifests := renderChart(t, "--set", "image.repository="+repository, "--set", "image.tag=dev"+tag,
		"--set", "metrics.tls.secretName="+metricsTLSSecret)
	if _, err := c.Kubectl(ctx, nil, "create", "namespace", releaseNamespace); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kubectl(ctx, nil, "label", "namespace", releaseNamespace, "pod-security.kubernetes.io/enforce=restricted"); err != nil {
		t.Fatal(err)
	}
	metricsTLS := createMetricsCertificate(ctx, t, c, releaseName+"-metrics."+releaseNamespace+".svc")
	if err := c.ApplyManifests(ctx, manifests); err != nil {
		t.Fatal(err)
	}
	runsOnTheNode(ctx, t, c, releaseNamespace, releaseName+"-metrics-reader", true, metricsTLS)
}

const metricsTLSSecret = "tenant-operator-metrics-tls"

// createMetricsCertificate creates the kubernetes.io/tls Secret metrics.tls.secretName names, as cert-manager would
// (tls.crt, tls.key, ca.crt), with a certificate for serverName from a CA of the test's, and returns how a scraper
// verifies it: that CA, that name.
func createMetricsCertificate(ctx context.Context, t *testing.T, c *localcluster.Cluster, serverName string) *tls.Config {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("cluster.local", now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, _, err := ca.Issue([]string{serverName}, now, 24*time.Hour, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(c.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: metricsTLSSecret},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM, "ca.crt": ca.CertPEM},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	return &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// TestKustomizeInstallOnTheNode: config/default, its image set as the README says (kustomize edit set image in
// config/manager), runs the operator on the node as the chart does.
func TestKustomizeInstallOnTheNode(t *testing.T) {
	localcluster.RequireNode(t)
	ctx := withTimeout(t, 8*time.Minute)
	c := startNode(ctx, t)
	image := pushOperatorImage(ctx, t, c)
	config := filepath.Join(t.TempDir(), "config")
	if out, err := exec.CommandContext(ctx, "cp", "-r", filepath.Join(repoRoot, "config"), config).CombinedOutput(); err != nil {
		t.Fatalf("copying config/: %v: %s", err, out)
	}
	edit := exec.CommandContext(ctx, kustomizeBinary(t), "edit", "set", "image", "controller="+image)
	edit.Dir = filepath.Join(config, "manager")
	if out, err := edit.CombinedOutput(); err != nil {
		t.Fatalf("kustomize edit set image: %v: %s", err, out)
	}
	manifests, err := c.Kubectl(ctx, nil, "kustomize", filepath.Join(config, "default"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyManifests(ctx, manifests); err != nil {
		t.Fatal(err)
	}
	runsOnTheNode(ctx, t, c, localcluster.OperatorNamespace, "tenant-operator-metrics-reader", false, nil)
}

func startNode(ctx context.Context, t *testing.T) *localcluster.Cluster {
	t.Helper()
	c, err := localcluster.Start(ctx, localcluster.Options{Node: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// pushOperatorImage builds the operator's image as the Dockerfile does and pushes it to the node's registry.
func pushOperatorImage(ctx context.Context, t *testing.T, c *localcluster.Cluster) string {
	t.Helper()
	img, err := images.Operator(filepath.Join(repoRoot, "Dockerfile"), managerBinary, "dev", runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Node.Registry.Push(ctx, img, "tenant-operator", "dev"); err != nil {
		t.Fatal(err)
	}
	return c.Node.Registry.Host + "/tenant-operator:dev"
}

// runsOnTheNode: the operator's two pods get Ready and one holds the lease; a Tenant with a back-end gets Ready with
// its back-end's pod running on the node; the leader's metrics answer a scraper over HTTPS (verifying the endpoint's
// certificate with metricsTLS, when given); and, with failover, the other replica takes the lease when the leader's
// pod is deleted, and serves the next Tenant.
func runsOnTheNode(ctx context.Context, t *testing.T, c *localcluster.Cluster, namespace, metricsReader string, failover bool,
	metricsTLS *tls.Config) {
	t.Helper()
	k8s, err := client.New(c.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	var pods []corev1.Pod
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range pods {
				t.Logf("operator pod %s's log:\n%s", p.Name, c.Node.PodLogs(namespace, p.Name, 40))
			}
		}
	})
	start := time.Now()
	pods = operatorPods(ctx, t, k8s, namespace, 2)
	leader := leaderPod(ctx, t, k8s, namespace, pods, "")
	t.Logf("%.1fs: the operator's pods are Ready, %s leads", time.Since(start).Seconds(), leader.Name)
	backendImage := pushBackendImage(ctx, t, c)
	tenantOnTheNode(ctx, t, k8s, "on-node", backendImage)
	t.Logf("%.1fs: a tenant is Ready, its back-end running", time.Since(start).Seconds())

	token, err := c.MetricsReaderToken(ctx, "scraper", metricsReader)
	if err != nil {
		t.Fatal(err)
	}
	op := &localcluster.Operator{MetricsURL: "https://" + leader.Status.PodIP + ":8443", MetricsTLS: metricsTLS}
	metrics, err := op.Scrape(ctx, token)
	if err != nil {
		t.Fatalf("the leader's metrics over HTTPS: %v", err)
	}
	if !metrics.Has("tenant_operator_tenant_phase") {
		t.Errorf("the leader's metrics lack tenant_operator_tenant_phase")
	}
	if !failover {
		return
	}
	if err := k8s.Delete(ctx, leader); err != nil {
		t.Fatal(err)
	}
	// The other replica, or the one replacing the deleted pod, whichever is first.
	pods = operatorPods(ctx, t, k8s, namespace, 2)
	next := leaderPod(ctx, t, k8s, namespace, pods, leader.Name)
	t.Logf("%.1fs: %s deleted, %s leads", time.Since(start).Seconds(), leader.Name, next.Name)
	tenantOnTheNode(ctx, t, k8s, "after-failover", backendImage)
	t.Logf("%.1fs: the next tenant is Ready", time.Since(start).Seconds())
}

// operatorPods waits for the operator's Deployment in namespace to have want Ready pods of the node, and returns them.
func operatorPods(ctx context.Context, t *testing.T, k8s client.Client, namespace string, want int) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	eventually(ctx, t, "the operator's pods Ready", func(ctx context.Context) (bool, error) {
		var deployments appsv1.DeploymentList
		if err := k8s.List(ctx, &deployments, client.InNamespace(namespace)); err != nil || len(deployments.Items) != 1 {
			return false, err
		}
		d := deployments.Items[0]
		if err := k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
			return false, err
		}
		return int(d.Status.ReadyReplicas) == want && len(pods.Items) == want, nil
	})
	for _, p := range pods.Items {
		if p.Spec.NodeName != localcluster.NodeName {
			t.Errorf("operator pod %s runs on %q", p.Name, p.Spec.NodeName)
		}
	}
	return pods.Items
}

// leaderPod waits for the lease to be held by one of pods other than not, and returns it.
func leaderPod(ctx context.Context, t *testing.T, k8s client.Client, namespace string, pods []corev1.Pod, not string) *corev1.Pod {
	t.Helper()
	var leader *corev1.Pod
	var holder string
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
	}
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: leaseName}, lease); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		holder = ptr.Deref(lease.Spec.HolderIdentity, "")
		for i := range pods {
			// controller-runtime's identity is the pod's hostname (its name), an underscore and a UUID.
			if p := &pods[i]; p.Name != not && strings.HasPrefix(holder, p.Name+"_") {
				leader = p
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no leader among the operator's pods %v (other than %q): the lease's holder is %q: %v", names, not, holder, err)
	}
	return leader
}

// tenantOnTheNode applies a Tenant with a back-end of image and waits until it is Ready: the operator provisioned it
// and the back-end's pod runs, Ready, on the node.
func tenantOnTheNode(ctx context.Context, t *testing.T, k8s client.Client, name, image string) {
	t.Helper()
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenancyv1alpha1.TenantSpec{
		Backend: &tenancyv1alpha1.BackendSpec{Image: image, Replicas: ptr.To[int32](1)},
	}}
	if err := k8s.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "tenant "+name+" Ready with its back-end running", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(tenant.Status.Conditions, tenancyv1alpha1.ConditionReady) &&
			tenant.Status.Backend != nil && tenant.Status.Backend.ReadyReplicas == 1, nil
	})
}

// pushBackendImage builds the example back-end into the node's registry.
func pushBackendImage(ctx context.Context, t *testing.T, c *localcluster.Cluster) string {
	t.Helper()
	_, image, err := c.Node.PushFixture(ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	return image
}
