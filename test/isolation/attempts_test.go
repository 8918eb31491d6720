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

package isolation

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// asOwner is a client with alpha's owner's credentials: what a tenant user can do, not an admin.
func (w *world) asOwner(t *testing.T) client.Client {
	t.Helper()
	cfg, err := w.AddUser(owner)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// segmentation: alpha's owner keeps a "vault" pod for its clients only. The owner's NetworkPolicy alone cannot (the
// operator's allow-same-namespace already lets every pod of the namespace in, and policies only add up); labelled
// segmented, the vault takes only what the owner's policy gives it, and the namespace's other pods are as before.
func (w *world) segmentation(ctx context.Context, t *testing.T) {
	c := w.asOwner(t)
	const section = "A tenant segments its namespace (alpha's owner: a vault for its clients only)"
	vault, vaultClient := alpha+"/vault", alpha+"/client"
	pods := []*corev1.Pod{
		localcluster.NetprobePod(alpha, "vault", w.Node.NetprobeImage),
		localcluster.NetprobePod(alpha, "client", w.Node.NetprobeImage),
	}
	pods[0].Labels = map[string]string{"app": "vault"}
	pods[1].Labels = map[string]string{"app": "netprobe", "role": "vault-client"}
	fromClients := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "vault-from-clients", Namespace: alpha},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "vault"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "vault-client"}}}}}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		}}
	for _, obj := range []client.Object{pods[0], pods[1], fromClients} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("alpha's owner creates %s: %v", obj.GetName(), err)
		}
	}
	t.Cleanup(func() {
		for _, obj := range []client.Object{pods[0], pods[1], fromClients} {
			_ = w.k8s.Delete(context.Background(), obj, client.GracePeriodSeconds(0))
		}
	})
	w.agents[vault] = w.waitForAgent(ctx, t, alpha, "vault")
	w.agents[vaultClient] = w.waitForAgent(ctx, t, alpha, "client")
	toVault := port(w.agents[vault], localcluster.NetprobePort)
	w.check(ctx, t, section, []cell{
		{from: alpha, to: "vault, not labelled", addr: toVault, want: true, why: "the owner's policy alone cannot narrow allow-same-namespace"},
	})

	if err := c.Patch(ctx, pods[0], client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"`+render.LabelSegmented+`":"true"}}}`))); err != nil {
		t.Fatalf("alpha's owner labels its pod segmented: %v", err)
	}
	// The enforcer follows a label change within moments: the refused cells below are measured once it has (the
	// connection the label closes is refused), not before.
	var d localcluster.Dial
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		d = w.dial(ctx, t, alpha, toVault)
		return !d.Connected, nil
	}); err != nil {
		t.Fatalf("alpha -> vault still %s 30 s after the vault was labelled segmented: %v", d, err)
	}
	w.check(ctx, t, section, []cell{
		{from: vaultClient, to: "vault, labelled segmented", addr: toVault, want: true, why: "the owner's policy names the client"},
		{from: alpha, to: "vault, labelled segmented", addr: toVault, why: "segmented: only the owner's policies let pods in"},
		{from: vault, to: "alpha netprobe", addr: port(w.agents[alpha], localcluster.NetprobePort), why: "segmented both ways: no egress policy of the owner's"},
		{from: vault, to: "backend." + alpha + ".svc.cluster.local", lookup: "backend." + alpha + ".svc.cluster.local", expect: w.serviceIP(ctx, t, alpha), want: true, why: "the cluster DNS still answers"},
		{from: alpha, to: "alpha client", addr: port(w.agents[vaultClient], localcluster.NetprobePort), want: true, why: "the other pods are as before"},
		{from: vaultClient, to: "alpha back-end", addr: port(w.backends[alpha], backendPort), want: true, why: "the other pods are as before"},
		{from: gamma, to: "vault, labelled segmented", addr: toVault, why: "other tenant, as before"},
		{from: vault, to: "gamma netprobe", addr: port(w.agents[gamma], localcluster.NetprobePort), why: "the label opens nothing"},
	})
}

// tenantPolicies: the owner's own NetworkPolicies are admitted only between pods of the namespace, and one that
// selects every pod of it for every pod of it opens nothing to other namespaces.
func (w *world) tenantPolicies(ctx context.Context, t *testing.T) {
	c := w.asOwner(t)
	const section = "A tenant's own NetworkPolicies (created by alpha's owner)"
	all := &metav1.LabelSelector{}
	policy := func(name string, ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: alpha}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{}, Ingress: ingress, Egress: egress,
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		}}
	}
	for _, attempt := range []struct {
		what string
		np   *networkingv1.NetworkPolicy
	}{
		{"ingress from every namespace (namespaceSelector {})", policy("from-everywhere",
			[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: all}}}}, nil)},
		{"ingress from anyone on a port (a rule without peers)", policy("any-source",
			[]networkingv1.NetworkPolicyIngressRule{{}}, nil)},
		{"egress to 0.0.0.0/0 (ipBlock)", policy("to-anywhere", nil,
			[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}}})},
	} {
		err := c.Create(ctx, attempt.np)
		got := "refused at admission"
		if err == nil {
			got = "created"
		}
		report.add(row{section: section, from: "alpha's owner", to: attempt.what, want: "refused at admission", got: got, ok: err != nil})
		if err == nil {
			t.Errorf("alpha's owner created a NetworkPolicy with %s", attempt.what)
		}
	}
	// Admitted: every pod of the namespace to and from every pod of it. It must open nothing else.
	local := policy("all-local",
		[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: all}}}},
		[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: all}}}})
	err := c.Create(ctx, local)
	report.add(row{section: section, from: "alpha's owner", to: "every pod of the namespace, both ways (podSelector {})",
		want: "admitted", got: map[bool]string{true: "admitted", false: "refused"}[err == nil], ok: err == nil})
	if err != nil {
		t.Fatalf("alpha's owner cannot create a namespace-local NetworkPolicy: %v", err)
	}
	w.check(ctx, t, section, []cell{
		{from: alpha, to: "alpha back-end, admin port", addr: port(w.backends[alpha], adminPort), want: true, why: "its namespace, as before"},
		{from: gamma, to: "alpha netprobe", addr: port(w.agents[alpha], localcluster.NetprobePort), why: "the policy opens nothing to other tenants"},
		{from: ingress, to: "alpha netprobe", addr: port(w.agents[alpha], localcluster.NetprobePort), why: "nor to other namespaces"},
		{from: alpha, to: "gamma netprobe", addr: port(w.agents[gamma], localcluster.NetprobePort), why: "nor egress out of it"},
	})
}

// backendHardening: alpha's back-end serves TLS that a client verifies with the tenant's ca.crt for
// backend.<namespace>.svc, and runs, on the host, as a non-root user on a read-only root filesystem.
func (w *world) backendHardening(ctx context.Context, t *testing.T) {
	const section = "The back-end (alpha's pod, seen from the node)"
	tlsSecret := &corev1.Secret{}
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: alpha, Name: render.TLSSecretName}, tlsSecret); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(tlsSecret.Data["ca.crt"]) {
		t.Fatalf("the %s Secret has no ca.crt", render.TLSSecretName)
	}
	serverName := "backend." + alpha + ".svc"
	err := localcluster.VerifyTLS(ctx, port(w.backends[alpha], backendPort), roots, serverName, "/healthz")
	report.add(row{section: section, from: "a client trusting only alpha's ca.crt", to: "https://" + serverName,
		want: "verified", got: errText(err, "verified"), ok: err == nil})
	if err != nil {
		t.Error(err)
	}
	// The same client, trusting beta's CA instead, must not accept alpha's certificate (each tenant its own CA
	// would be stronger; today they share the operator's CA, so a name mismatch is what protects).
	wrongName := "backend." + beta + ".svc"
	err = localcluster.VerifyTLS(ctx, port(w.backends[alpha], backendPort), roots, wrongName, "/healthz")
	report.add(row{section: section, from: "a client of beta", to: "alpha's back-end, as https://" + wrongName,
		want: "rejected", got: errText(err, "verified"), ok: err != nil})
	if err == nil {
		t.Errorf("alpha's back-end passed as %s", wrongName)
	}

	pid := backendProcess(t, alpha)
	uid, rootMount := processIdentity(t, pid)
	report.add(row{section: section, from: "node", to: "the back-end's process: user", want: "not root", got: "uid " + uid, ok: uid != "0"})
	if uid == "0" {
		t.Error("alpha's back-end runs as root")
	}
	readOnly := strings.HasPrefix(rootMount, "ro,") || rootMount == "ro"
	report.add(row{section: section, from: "node", to: "the back-end's process: root filesystem", want: "read-only", got: rootMount, ok: readOnly})
	if !readOnly {
		t.Errorf("alpha's back-end's root filesystem is mounted %s", rootMount)
	}
}

func errText(err error, ok string) string {
	if err == nil {
		return ok
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.ReplaceAll(msg, "|", "/")
}

// backendProcess finds the host's process of tenant's back-end: the example back-end's binary, given the tenant's
// name by the operator.
func backendProcess(t *testing.T, tenant string) string {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(b), "/backend\x00") {
			continue
		}
		env, err := os.ReadFile(filepath.Join(filepath.Dir(p), "environ"))
		if err == nil && strings.Contains("\x00"+string(env), "\x00TENANT_NAME="+tenant+"\x00") {
			return filepath.Base(filepath.Dir(p))
		}
	}
	t.Fatalf("no process of %s's back-end on the node", tenant)
	return ""
}

// processIdentity is a process' real user id and the options of its root mount.
func processIdentity(t *testing.T, pid string) (uid, rootMount string) {
	t.Helper()
	status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Uid:" {
			uid = fields[1]
		}
	}
	f, err := os.Open(filepath.Join("/proc", pid, "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// mountinfo: id parent major:minor root mountpoint options ...
		if fields := strings.Fields(s.Text()); len(fields) > 5 && fields[4] == "/" {
			rootMount = fields[5]
		}
	}
	return uid, rootMount
}

// podSecurity: as alpha's owner, a privileged pod is refused at admission, and a Deployment of root pods never gets
// a pod started.
func (w *world) podSecurity(ctx context.Context, t *testing.T) {
	const section = "Pod Security (alpha's owner)"
	c := w.asOwner(t)
	privileged := localcluster.NetprobePod(alpha, "privileged", w.Node.NetprobeImage)
	privileged.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	privileged.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	err := c.Create(ctx, privileged)
	report.add(row{section: section, from: "alpha's owner", to: "a privileged pod", want: "refused at admission",
		got: map[bool]string{true: "refused at admission", false: "created"}[err != nil], ok: err != nil})
	if err == nil {
		t.Error("alpha's owner created a privileged pod")
	}

	root := localcluster.NetprobePod(alpha, "netprobe", w.Node.NetprobeImage)
	root.Spec.SecurityContext.RunAsNonRoot, root.Spec.SecurityContext.RunAsUser = nil, ptr.To[int64](0)
	labels := map[string]string{"app": "as-root"}
	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "as-root", Namespace: alpha}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: root.Spec},
	}}
	got := "refused at admission"
	if err := c.Create(ctx, deployment); err == nil {
		got = w.podsNeverStart(ctx, t, alpha, labels)
	}
	ok := got != "a pod started"
	report.add(row{section: section, from: "alpha's owner", to: "a Deployment of pods running as root", want: "no pod starts", got: got, ok: ok})
	if !ok {
		t.Error("a pod running as root started in alpha")
	}
}

// podsNeverStart waits for the ReplicaSet of a Deployment to report that it cannot create its pods, and checks that
// none exists.
func (w *world) podsNeverStart(ctx context.Context, t *testing.T, namespace string, labels map[string]string) string {
	t.Helper()
	var failure string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var sets appsv1.ReplicaSetList
		if err := w.k8s.List(ctx, &sets, client.InNamespace(namespace), client.MatchingLabels(labels)); err != nil {
			return false, err
		}
		for _, rs := range sets.Items {
			for _, cond := range rs.Status.Conditions {
				if cond.Type == appsv1.ReplicaSetReplicaFailure && cond.Status == corev1.ConditionTrue {
					failure = cond.Reason
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("the ReplicaSet never reported a failure to create its pods: %v", err)
	}
	var pods corev1.PodList
	if err := w.k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) > 0 {
		return "a pod started"
	}
	return "no pod (" + failure + ")"
}

// convergence: how long a Tenant edit takes to reach the wire, both ways: alpha lets gamma in, then takes it back.
func (w *world) convergence(ctx context.Context, t *testing.T) {
	const section = "Policy convergence"
	target := port(w.backends[alpha], backendPort)
	for _, step := range []struct {
		what    string
		allowed []string
		want    bool
	}{
		{"alpha adds gamma to allowFromTenants", []string{beta, gamma}, true},
		{"alpha removes gamma from allowFromTenants", []string{beta}, false},
	} {
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"network": map[string]any{"allowFromTenants": step.allowed}}})
		if err != nil {
			t.Fatal(err)
		}
		if before := w.dial(ctx, t, gamma, target); before.Connected == step.want {
			t.Fatalf("before %s, gamma -> alpha's back-end is already %s: nothing to measure", step.what, before)
		}
		start := time.Now()
		tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: alpha}}
		if err := w.k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Fatal(err)
		}
		var got localcluster.Dial
		err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got = w.dial(ctx, t, gamma, target)
			return got.Connected == step.want, nil
		})
		took := time.Since(start)
		ok := err == nil
		report.add(row{section: section, from: gamma, to: "alpha back-end, after: " + step.what, want: verdict(step.want),
			got: fmt.Sprintf("%s after %.2f s", got, took.Seconds()), ok: ok})
		report.timing(step.what+": "+verdict(step.want)+" on the wire after", took)
		if !ok {
			t.Errorf("%s: gamma -> alpha's back-end still %s after %s", step.what, got, took)
		}
	}
}

// rotation: a rotated secret, then a renewed certificate, roll alpha's back-end; the new pod comes back Ready and
// serves the current certificate, verified with the tenant's ca.crt.
func (w *world) rotation(ctx context.Context, t *testing.T) {
	const section = "Rotation (alpha's back-end)"
	// Time cannot be hurried from outside the operator (drift on a Secret's generated-at is restored, not obeyed),
	// so each step restarts it the way an admin would cause the same.
	for _, step := range []struct {
		what string
		do   func() error
	}{
		{"the operator's CA is replaced (its Secret deleted, the operator restarted): certificates renewed", func() error {
			return w.restartOperator(ctx, func() error {
				return w.k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
					Namespace: localcluster.OperatorNamespace, Name: render.DefaultConfig().CASecretName}})
			})
		}},
		{"the encryption key's rotation period passes (the operator restarted with --encryption-key-rotation=30s)", func() error {
			return w.restartOperator(ctx, nil, "--encryption-key-rotation=30s")
		}},
	} {
		before := w.backendPod(ctx, t, alpha)
		start := time.Now()
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		var after *corev1.Pod
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			after = w.readyBackendPod(ctx, t, alpha)
			return after != nil && after.UID != before.UID && w.onlyPod(ctx, t, alpha, after), nil
		})
		got := "not rolled"
		if err == nil {
			got = fmt.Sprintf("new pod Ready after %.1f s", time.Since(start).Seconds())
			err = w.servesCurrentCertificate(ctx, t, after.Status.PodIP)
			if err != nil {
				got = "new pod: " + errText(err, "")
			}
		}
		report.add(row{section: section, from: "admin", to: step.what, want: "the pods roll, Ready, serving the current certificate", got: got, ok: err == nil})
		if err != nil {
			t.Errorf("%s: %s: %v\n%s", step.what, got, err, w.kubeletLog())
		}
	}
}

// readyBackendPod is a Ready back-end pod of tenant, nil if none.
func (w *world) readyBackendPod(ctx context.Context, t *testing.T, tenant string) *corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	selector := render.BackendSelector(&tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}})
	if err := w.k8s.List(ctx, &pods, client.InNamespace(tenant), client.MatchingLabels(selector)); err != nil {
		t.Fatal(err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				return p
			}
		}
	}
	return nil
}

// onlyPod: the roll is over, pod is the tenant's only back-end pod.
func (w *world) onlyPod(ctx context.Context, t *testing.T, tenant string, pod *corev1.Pod) bool {
	t.Helper()
	var pods corev1.PodList
	selector := render.BackendSelector(&tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}})
	if err := w.k8s.List(ctx, &pods, client.InNamespace(tenant), client.MatchingLabels(selector)); err != nil {
		t.Fatal(err)
	}
	return len(pods.Items) == 1 && pods.Items[0].UID == pod.UID
}

// servesCurrentCertificate: the pod at podIP serves the certificate now in alpha's backend-tls Secret.
func (w *world) servesCurrentCertificate(ctx context.Context, t *testing.T, podIP string) error {
	t.Helper()
	s := &corev1.Secret{}
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: alpha, Name: render.TLSSecretName}, s); err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.Data["ca.crt"])
	current := render.ParseCertificate(s)
	if current == nil {
		return fmt.Errorf("no certificate in %s", render.TLSSecretName)
	}
	served, err := localcluster.ServedCertificate(ctx, port(podIP, backendPort), roots, "backend."+alpha+".svc")
	if err != nil {
		return err
	}
	if !served.Equal(current) {
		return fmt.Errorf("serves the certificate with serial %s, the Secret holds %s", served.SerialNumber, current.SerialNumber)
	}
	return nil
}

// restartOperator stops the operator, runs between (if any), and starts it again with args.
func (w *world) restartOperator(ctx context.Context, between func() error, args ...string) error {
	if err := w.operator.Stop(); err != nil {
		return err
	}
	if between != nil {
		if err := between(); err != nil {
			return err
		}
	}
	op, err := w.RunOperator(ctx, localcluster.OperatorOptions{Binary: w.Binary, Args: append(slices.Clone(operatorArgs), args...)})
	if err != nil {
		return err
	}
	w.operator = op
	return nil
}

// dnsAndServices: tenants resolve through the cluster DNS and nothing else, reach the DNS pods on the DNS port
// only, and Service addresses (kube-proxy's DNAT) are held to the same policies as pod addresses.
func (w *world) dnsAndServices(ctx context.Context, t *testing.T) {
	dns := &corev1.Pod{}
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: "coredns"}, dns); err != nil {
		t.Fatal(err)
	}
	service := func(tenant string) (name, clusterIP string) {
		return render.BackendName + "." + tenant + ".svc.cluster.local", w.serviceIP(ctx, t, tenant)
	}
	alphaName, alphaIP := service(alpha)
	betaName, _ := service(beta)
	outsideDNS := port(localcluster.OutsideInternet, 53)
	clusterDNS := port(localcluster.ClusterDNS, 53)
	w.check(ctx, t, "DNS and Services (CoreDNS as a kube-system pod, kube-proxy)", []cell{
		{from: alpha, to: alphaName + " (its resolv.conf)", lookup: alphaName, expect: alphaIP, want: true, why: "the cluster DNS answers with the Service's address"},
		{from: alpha, to: alphaName + " via " + clusterDNS, addr: clusterDNS, lookup: alphaName, expect: alphaIP, want: true, why: "allow-dns, through the kube-dns Service"},
		{from: alpha, to: "the DNS pod, health port", addr: port(dns.Status.PodIP, localcluster.DNSHealthPort), why: "the DNS port only"},
		{from: alpha, to: "a DNS server on the internet host", addr: outsideDNS, lookup: "example.com.", why: "DNS through the cluster DNS only"},
		{from: beta, to: "a DNS server on the internet host", addr: outsideDNS, lookup: "example.com.", why: "its CIDR only"},
		{from: gamma, to: "a DNS server on the internet host", addr: outsideDNS, lookup: "example.com.", want: true, why: "allowInternet opens it"},
		{from: beta, to: alphaName + ":8080", addr: port(alphaName, backendPort), want: true, why: "alpha allows beta, by Service name"},
		{from: gamma, to: alphaName + ":8080", addr: port(alphaName, backendPort), why: "alpha does not allow gamma, by Service name"},
		{from: alpha, to: betaName + ":8080", addr: port(betaName, backendPort), why: "one way, by Service name"},
		{from: outsider, to: alphaName + ":8080", addr: port(alphaName, backendPort), why: "an unmanaged namespace, by Service name"},
		{from: outsider, to: "the apiserver (kubernetes.default.svc:443)", addr: "kubernetes.default.svc.cluster.local:443", want: true, why: "control: pods reach it where nothing blocks"},
		{from: alpha, to: "the apiserver (kubernetes.default.svc:443)", addr: "kubernetes.default.svc.cluster.local:443", why: "egress is denied by default"},
	})
}

// serviceIP is the cluster address of tenant's back-end Service.
func (w *world) serviceIP(ctx context.Context, t *testing.T, tenant string) string {
	t.Helper()
	s := &corev1.Service{}
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: tenant, Name: render.BackendName}, s); err != nil {
		t.Fatal(err)
	}
	return s.Spec.ClusterIP
}
