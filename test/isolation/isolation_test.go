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
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

func TestMain(m *testing.M) {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the clients' logs say nothing the test does not
	code := m.Run()
	if !report.empty() {
		table := report.String()
		fmt.Print(table)
		// go test shows a passing package's output only with -v: make test prints the report file instead.
		if path := os.Getenv("ISOLATION_REPORT"); path != "" {
			if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
				fmt.Fprintln(os.Stderr, "writing the isolation report:", err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// The matrix's namespaces: three tenants, the ingress controllers' and the metrics scrapers' namespaces, and one
// nobody manages.
const (
	alpha      = "alpha" // a back-end; allows beta in
	beta       = "beta"  // a back-end; egress to the partner's CIDR
	gamma      = "gamma" // no back-end; egress to the internet
	ingress    = "ingress-nginx"
	monitoring = "monitoring"
	outsider   = "outsider"

	backendPort = 8080
	adminPort   = 9090 // the example back-end's second port, which its Service does not name
	owner       = "owner@alpha.example"
)

// operatorArgs are the operator's flags here: the monitoring namespace's scrapers may reach tenant pods on the
// example back-end's second port (its "metrics").
var operatorArgs = []string{"--monitoring-namespaces=" + monitoring, "--monitoring-ports=" + strconv.Itoa(adminPort)}

// world is the running cluster and what the test put in it.
type world struct {
	*localcluster.Installed
	operator *localcluster.Operator
	k8s      client.Client
	// agents are the netprobe pods' addresses, by namespace for each namespace's first one ("netprobe"), by
	// namespace/name for the others.
	agents map[string]string
	// backends are a back-end pod's address per tenant with a back-end.
	backends map[string]string
}

func TestIsolation(t *testing.T) {
	if testing.Short() || os.Getenv("TEST_NODE") == "skip" {
		report.note("The node tier was skipped (TEST_NODE=skip or -short): no packet was sent, nothing below was proven.")
	}
	localcluster.RequireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	w := start(ctx, t)

	t.Run("pods", func(t *testing.T) {
		a, b := w.backends[alpha], w.backends[beta]
		w.check(ctx, t, "Between pods", []cell{
			{from: alpha, to: "alpha back-end", addr: port(a, backendPort), want: true, why: "same namespace"},
			{from: alpha, to: "alpha back-end, admin port", addr: port(a, adminPort), want: true, why: "same namespace, any port"},
			{from: beta, to: "alpha back-end", addr: port(a, backendPort), want: true, why: "alpha allows beta"},
			{from: beta, to: "alpha back-end, admin port", addr: port(a, adminPort), why: "the back-end's port only"},
			{from: beta, to: "alpha netprobe", addr: port(w.agents[alpha], localcluster.NetprobePort), why: "the back-end's pods only"},
			{from: alpha, to: "beta back-end", addr: port(b, backendPort), why: "one way: beta allows no one"},
			{from: gamma, to: "alpha back-end", addr: port(a, backendPort), why: "alpha does not allow gamma"},
			{from: gamma, to: "beta netprobe", addr: port(w.agents[beta], localcluster.NetprobePort), why: "other tenant"},
			{from: ingress, to: "alpha back-end", addr: port(a, backendPort), want: true, why: "ingress controllers reach back-ends"},
			{from: ingress, to: "alpha back-end, admin port", addr: port(a, adminPort), why: "the back-end's port only"},
			{from: ingress, to: "alpha netprobe", addr: port(w.agents[alpha], localcluster.NetprobePort), why: "the back-end's pods only"},
			{from: monitoring, to: "alpha back-end, metrics port", addr: port(a, adminPort), want: true, why: "scrapers reach the monitoring ports"},
			{from: monitoring, to: "alpha back-end", addr: port(a, backendPort), why: "the monitoring ports only"},
			{from: monitoring, to: "gamma netprobe", addr: port(w.agents[gamma], localcluster.NetprobePort), why: "the monitoring ports only"},
			{from: alpha, to: "monitoring netprobe", addr: port(w.agents[monitoring], localcluster.NetprobePort), why: "egress is denied by default"},
			{from: outsider, to: "alpha back-end", addr: port(a, backendPort), why: "an unmanaged namespace"},
			{from: alpha, to: "outsider netprobe", addr: port(w.agents[outsider], localcluster.NetprobePort), why: "egress is denied by default"},
		})
	})

	t.Run("outside", func(t *testing.T) {
		internet := port(localcluster.OutsideInternet, localcluster.OutsidePort)
		partner := port(localcluster.OutsidePartner, localcluster.OutsidePort)
		metadata := port(localcluster.OutsideMetadata, localcluster.OutsidePort)
		w.check(ctx, t, "To the outside (servers in a network namespace of the test)", []cell{
			{from: outsider, to: "internet host", addr: internet, want: true, why: "control: the server answers where nothing blocks"},
			{from: outsider, to: "partner host", addr: partner, want: true, why: "control"},
			{from: outsider, to: "metadata 169.254.169.254", addr: metadata, want: true, why: "control"},
			{from: alpha, to: "internet host", addr: internet, why: "no egress allowed"},
			{from: alpha, to: "partner host", addr: partner, why: "no egress allowed"},
			{from: alpha, to: "metadata 169.254.169.254", addr: metadata, why: "no egress allowed"},
			{from: beta, to: "partner host", addr: partner, want: true, why: "allowedCIDRs " + localcluster.OutsidePartnerCIDR},
			{from: beta, to: "internet host", addr: internet, why: "its CIDR only"},
			{from: gamma, to: "internet host", addr: internet, want: true, why: "allowInternet"},
			{from: gamma, to: "partner host", addr: partner, want: true, why: "allowInternet"},
			{from: gamma, to: "metadata 169.254.169.254", addr: metadata, why: "never, even with allowInternet"},
		})
	})

	t.Run("dns and services", func(t *testing.T) { w.dnsAndServices(ctx, t) })
	t.Run("tenant policies segment", func(t *testing.T) { w.segmentation(ctx, t) })
	t.Run("tenant policies cannot open", func(t *testing.T) { w.tenantPolicies(ctx, t) })
	t.Run("back-end", func(t *testing.T) { w.backendHardening(ctx, t) })
	t.Run("pod security", func(t *testing.T) { w.podSecurity(ctx, t) })
	t.Run("convergence", func(t *testing.T) { w.convergence(ctx, t) })
	t.Run("rotation rolls the back-end", func(t *testing.T) { w.rotation(ctx, t) })
}

// start runs the cluster with its node and the operator, provisions the tenants and their netprobe pods, and waits
// until each tenant is Ready.
func start(ctx context.Context, t *testing.T) *world {
	t.Helper()
	installed, err := localcluster.StartInstalled(ctx, localcluster.Options{Node: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := installed.Stop(); err != nil {
			t.Error(err)
		}
	})
	op, err := installed.RunOperator(ctx, localcluster.OperatorOptions{Binary: installed.Binary, Args: operatorArgs})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{Installed: installed, operator: op, agents: map[string]string{}, backends: map[string]string{}}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := os.ReadFile(w.operator.LogPath)
			t.Logf("operator log:\n%s", tail(logs, 60))
		}
	})
	k8s, err := client.New(installed.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	w.k8s = k8s
	_, backendImage, err := installed.Node.PushFixture(ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	backend := func() *tenancyv1alpha1.BackendSpec {
		return &tenancyv1alpha1.BackendSpec{Image: backendImage, Replicas: ptr.To[int32](1),
			Args: []string{"-addr", ":" + strconv.Itoa(backendPort), "-admin-addr", ":" + strconv.Itoa(adminPort)}}
	}
	tenants := []*tenancyv1alpha1.Tenant{
		{ObjectMeta: metav1.ObjectMeta{Name: alpha}, Spec: tenancyv1alpha1.TenantSpec{
			Owners:  []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: owner}},
			Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
			Backend: backend(), Network: &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{beta}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: beta}, Spec: tenancyv1alpha1.TenantSpec{
			Backend: backend(), Network: &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{
				AllowedCIDRs: []string{localcluster.OutsidePartnerCIDR}}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: gamma}, Spec: tenancyv1alpha1.TenantSpec{
			Network: &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowInternet: true}},
		}},
	}
	for _, tenant := range tenants {
		if err := k8s.Create(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{ingress, monitoring, outsider} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tenant := range tenants {
		w.waitReady(ctx, t, tenant.Name)
	}
	for _, ns := range []string{alpha, beta, gamma, ingress, monitoring, outsider} {
		if err := k8s.Create(ctx, localcluster.NetprobePod(ns, "netprobe", installed.Node.NetprobeImage)); err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{alpha, beta, gamma, ingress, monitoring, outsider} {
		w.agents[ns] = w.waitForAgent(ctx, t, ns, "netprobe")
	}
	for _, tenant := range []string{alpha, beta} {
		w.backends[tenant] = w.backendPod(ctx, t, tenant).Status.PodIP
	}
	return w
}

func (w *world) waitReady(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	tenant := &tenancyv1alpha1.Tenant{}
	err := wait.PollUntilContextTimeout(ctx, time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := w.k8s.Get(ctx, client.ObjectKey{Name: name}, tenant); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(tenant.Status.Conditions, tenancyv1alpha1.ConditionReady), nil
	})
	if err != nil {
		t.Fatalf("tenant %s is not Ready: %v; conditions: %+v", name, err, tenant.Status.Conditions)
	}
}

// waitForAgent waits for the netprobe pod namespace/name to answer the node, and returns its address.
func (w *world) waitForAgent(ctx context.Context, t *testing.T, namespace, name string) string {
	t.Helper()
	ip, err := localcluster.WaitForNetprobe(ctx, w.k8s, namespace, name)
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

// backendPod is a Ready back-end pod of tenant.
func (w *world) backendPod(ctx context.Context, t *testing.T, tenant string) *corev1.Pod {
	t.Helper()
	p := w.readyBackendPod(ctx, t, tenant)
	if p == nil {
		t.Fatalf("no Ready back-end pod in %s", tenant)
	}
	return p
}

// cell is one connection of the matrix: from a netprobe pod (a key of world.agents) to addr; or, with lookup set, a DNS lookup
// of that name through addr ("" for the pod's own resolver), which succeeds when it answers (with expect, when the
// answer holds that address).
type cell struct {
	from, to, addr, why string
	lookup, expect      string
	want                bool
}

// outcome is what a cell got: whether it connected (or was answered), and how, for the report.
type outcome struct {
	ok   bool
	text string
}

func (w *world) probe(ctx context.Context, t *testing.T, c cell) outcome {
	t.Helper()
	if c.lookup == "" {
		d := w.dial(ctx, t, c.from, c.addr)
		return outcome{ok: d.Connected, text: d.String()}
	}
	r := w.resolve(ctx, t, c.from, c.lookup, c.addr)
	if r.Error != "" {
		return outcome{text: "no answer (" + errText(errors.New(r.Error), "") + ")"}
	}
	if c.expect != "" && !slices.Contains(r.Addrs, c.expect) {
		return outcome{text: "wrong answer " + strings.Join(r.Addrs, ",")}
	}
	return outcome{ok: true, text: "answered " + strings.Join(r.Addrs, ",")}
}

// check measures every cell and records it. Policies follow a new pod within a second or two, so an allowed
// connection is retried for a while; a refused one is measured only after every allowed one of the section got
// through (the policies are in force by then), twice.
func (w *world) check(ctx context.Context, t *testing.T, section string, cells []cell) {
	t.Helper()
	got := make([]outcome, len(cells))
	for i, c := range cells {
		if !c.want {
			continue
		}
		_ = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			got[i] = w.probe(ctx, t, c)
			return got[i].ok, nil
		})
	}
	for i, c := range cells {
		if c.want {
			continue
		}
		for range 2 {
			if got[i] = w.probe(ctx, t, c); got[i].ok {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	for i, c := range cells {
		ok := got[i].ok == c.want
		report.add(row{section: section, from: c.from, to: c.to, want: c.verdict() + " (" + c.why + ")", got: got[i].text, ok: ok})
		if !ok {
			t.Errorf("%s -> %s (%s): got %s, want %s (%s)", c.from, c.to, c.addr, got[i].text, c.verdict(), c.why)
		}
	}
}

func (c cell) verdict() string {
	switch {
	case c.lookup != "" && c.want:
		return "answered"
	case c.lookup != "":
		return "no answer"
	}
	return verdict(c.want)
}

func verdict(connect bool) string {
	if connect {
		return "connects"
	}
	return "refused"
}

// dial asks the netprobe pod agent (a key of world.agents) to connect to addr.
func (w *world) dial(ctx context.Context, t *testing.T, agent, addr string) localcluster.Dial {
	t.Helper()
	d, err := localcluster.NetprobeDial(ctx, w.agents[agent], addr)
	if err != nil {
		t.Fatalf("asking the netprobe pod %s: %v", agent, err)
	}
	return d
}

// resolve asks the netprobe pod agent (a key of world.agents) to look name up, through server ("" for its
// resolv.conf).
func (w *world) resolve(ctx context.Context, t *testing.T, agent, name, server string) localcluster.Resolve {
	t.Helper()
	r, err := localcluster.NetprobeResolve(ctx, w.agents[agent], name, server)
	if err != nil {
		t.Fatalf("asking the netprobe pod %s: %v", agent, err)
	}
	return r
}

func port(host string, p int) string { return net.JoinHostPort(host, strconv.Itoa(p)) }

func tail(b []byte, lines int) string {
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// kubeletLog is the end of the node's kubelet log, for failures about pods.
func (w *world) kubeletLog() string {
	b, _ := os.ReadFile(filepath.Join(w.WorkDir, "node", "kubelet.log"))
	return tail(b, 30)
}
