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

// Package faults runs the operator's binary against a local control plane and hurts it: killed at random moments,
// as a node failure or an OOM kill would, while tenants provision. It has its own cluster: its operators come and go.
package faults

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"flag"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

var (
	cluster *localcluster.Cluster
	k8s     client.Client
	binary  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	installed, err := localcluster.StartInstalled(ctx, localcluster.Options{})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := installed.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping local cluster:", err)
		}
	}()
	cluster, binary = installed.Cluster, installed.Binary
	if k8s, err = client.New(cluster.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return fail(err)
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "faults setup:", err)
	return 1
}

func needCluster(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}

// TestSIGKILLWhileProvisioning: the operator killed ten times at random moments while 100 tenants provision, then
// left running. Every tenant converges; no generated value (secret, key, certificate) is ever replaced by a second
// one; every tenant has exactly the objects it should, and no other; what someone else wrote in a tenant's namespace
// is untouched.
func TestSIGKILLWhileProvisioning(t *testing.T) {
	ctx := needCluster(t, 10*time.Minute)
	const tenants, kills = 100, 10
	logPath := filepath.Join(cluster.WorkDir, "sigkill.log")
	start := func() *localcluster.Operator {
		// Without leader election: the lease a killed process held would only delay the next one.
		op, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: binary, LogPath: logPath, Args: []string{"--leader-elect=false"}})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	op := start()
	values := watchGeneratedValues(ctx, t)
	all := createTenants(ctx, t, tenants)

	// Someone else's objects, written in tenants' namespaces as they appear.
	theirs := &foreignObjects{}
	rng := mathrand.New(mathrand.NewPCG(42, 7)) //nolint:gosec // reproducible kill moments, not security
	midway, written := 0, 0
	for i := range kills {
		// Killed while writing: once this process has written something, at a random moment after.
		written = waitForWrites(ctx, t, written)
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		if err := op.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		done := countProvisioned(ctx, t, "killed")
		t.Logf("kill %d: %d objects written, %d of %d tenants provisioned", i+1, written, done, tenants)
		if done < tenants {
			midway++
		}
		<-op.Exited()
		theirs.writeInAClaimedNamespace(ctx, t)
		op = start()
	}
	t.Cleanup(func() {
		_ = op.Signal(syscall.SIGTERM)
		<-op.Exited()
		if t.Failed() {
			logs, _ := os.ReadFile(logPath)
			t.Logf("operator log (tail):\n%s", tail(logs, 60))
		}
	})
	if midway < kills/2 {
		t.Errorf("only %d of %d kills came while tenants were provisioning: the test proves too little", midway, kills)
	}
	waitAllProvisioned(ctx, t, all)
	values.stop()
	values.check(t)
	for _, tenant := range all {
		checkExactlyDesired(ctx, t, tenant)
	}
	theirs.checkUntouched(ctx, t)
}

// createTenants creates n tenants at once, half with a back-end and a generated secret.
func createTenants(ctx context.Context, t *testing.T, n int) []*tenancyv1alpha1.Tenant {
	t.Helper()
	return createTenantsNamed(ctx, t, "killed", n)
}

// tenantsNamed lists the tenants createTenantsNamed made with prefix.
func tenantsNamed(ctx context.Context, t *testing.T, prefix string) []*tenancyv1alpha1.Tenant {
	t.Helper()
	var list tenancyv1alpha1.TenantList
	if err := k8s.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	var out []*tenancyv1alpha1.Tenant
	for i := range list.Items {
		if strings.HasPrefix(list.Items[i].Name, prefix+"-") {
			out = append(out, &list.Items[i])
		}
	}
	return out
}

func createTenantsNamed(ctx context.Context, t *testing.T, prefix string, n int) []*tenancyv1alpha1.Tenant {
	t.Helper()
	all := make([]*tenancyv1alpha1.Tenant, n)
	for i := range all {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenancyv1alpha1.TenantSpec{
			Owners:         []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:" + name}},
			DeletionPolicy: tenancyv1alpha1.DeletionPolicyDelete,
		}}
		if i%2 == 0 {
			tenant.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "registry.example/api:1", Replicas: ptr.To[int32](2)}
			tenant.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "db", Keys: []string{"password", "token"}}}
		}
		all[i] = tenant
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, tenant := range all {
		wg.Go(func() { errs <- k8s.Create(ctx, tenant) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return all
}

// generatedValues records the first content seen of every Secret the operator generates, and every later content
// that differs: a value replaced because a pass was cut short. Rotation is not due during the test.
type generatedValues struct {
	mu       sync.Mutex
	first    map[string][32]byte
	replaced []string
	cancel   context.CancelFunc
	done     chan struct{}
}

func watchGeneratedValues(ctx context.Context, t *testing.T) *generatedValues {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	v := &generatedValues{first: map[string][32]byte{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		_ = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			var secrets corev1.SecretList
			if err := k8s.List(ctx, &secrets, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}); err != nil {
				return false, nil //nolint:nilerr // the apiserver is busy: look again
			}
			v.observe(secrets.Items)
			return false, nil
		})
	}()
	return v
}

func (v *generatedValues) observe(secrets []corev1.Secret) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range secrets {
		key := s.Namespace + "/" + s.Name
		sum := digest(s.Data)
		if first, seen := v.first[key]; !seen {
			v.first[key] = sum
		} else if first != sum {
			v.replaced = append(v.replaced, key)
			v.first[key] = sum
		}
	}
}

func digest(data map[string][]byte) [32]byte {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		_, _ = fmt.Fprintf(h, "%s=%x;", k, data[k])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (v *generatedValues) stop() {
	v.cancel()
	<-v.done
}

func (v *generatedValues) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.first) == 0 {
		t.Fatal("no generated Secret was ever seen")
	}
	for _, key := range v.replaced {
		t.Errorf("Secret %s got a second set of values", key)
	}
}

// waitAllProvisioned waits for every tenant to be provisioned: every condition True but BackendReady (no node runs
// pods here), which must only be waiting for its pods.
func waitAllProvisioned(ctx context.Context, t *testing.T, all []*tenancyv1alpha1.Tenant) {
	t.Helper()
	pending := ""
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		for _, tenant := range all {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
				return false, err
			}
			if !provisioned(tenant) {
				pending = fmt.Sprintf("%s: %+v", tenant.Name, tenant.Status.Conditions)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("tenants provisioned: %v; first pending %s", err, pending)
	}
}

// waitForWrites waits until more of the operator's NetworkPolicies and Secrets exist than before, and returns how
// many do.
func waitForWrites(ctx context.Context, t *testing.T, before int) int {
	t.Helper()
	now := before
	labels := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var nps networkingv1.NetworkPolicyList
		var secrets corev1.SecretList
		if err := k8s.List(ctx, &nps, labels); err != nil {
			return false, err
		}
		if err := k8s.List(ctx, &secrets, labels); err != nil {
			return false, err
		}
		now = len(nps.Items) + len(secrets.Items)
		return now > before, nil
	})
	if err != nil {
		t.Fatalf("the operator wrote nothing after a restart: %v", err)
	}
	return now
}

// countProvisioned counts the provisioned tenants among those named with prefix.
func countProvisioned(ctx context.Context, t *testing.T, prefix string) int {
	t.Helper()
	n := 0
	for _, tenant := range tenantsNamed(ctx, t, prefix) {
		if provisioned(tenant) {
			n++
		}
	}
	return n
}

func provisioned(tenant *tenancyv1alpha1.Tenant) bool {
	if tenant.Status.ObservedGeneration != tenant.Generation {
		return false
	}
	for _, c := range []string{tenancyv1alpha1.ConditionNamespaceReady, tenancyv1alpha1.ConditionNetworkIsolated,
		tenancyv1alpha1.ConditionAccessConfigured, tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ConditionSecretsReady} {
		if !meta.IsStatusConditionTrue(tenant.Status.Conditions, c) {
			return false
		}
	}
	backend := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionBackendReady)
	return backend != nil && (backend.Status == metav1.ConditionTrue || backend.Reason == tenancyv1alpha1.ReasonBackendUnavailable)
}

// checkExactlyDesired compares the objects carrying the tenant's labels with what the operator renders for it: no
// object missing, none twice, none left over.
func checkExactlyDesired(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) {
	t.Helper()
	ca, err := pki.NewCA("cluster.local", time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := controllers.RenderNewTenant(tenant, nil, render.DefaultConfig(), ca, time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, len(rendered))
	for _, u := range rendered {
		want = append(want, u.GetKind()+" "+u.GetNamespace()+"/"+u.GetName())
	}
	got := labelledObjects(ctx, t, tenant.Name)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tenant %s objects:\n got %v\nwant %v", tenant.Name, got, want)
	}
}

// labelledObjects lists every object of the kinds the operator manages that carries tenant's labels.
func labelledObjects(ctx context.Context, t *testing.T, tenant string) []string {
	t.Helper()
	labels := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: tenant}
	var out []string
	for _, list := range controllers.ManagedKindLists() {
		if err := k8s.List(ctx, list, labels); err != nil {
			t.Fatal(err)
		}
		if err := meta.EachListItem(list, func(obj runtimeObject) error {
			o := obj.(client.Object)
			out = append(out, reflect.TypeOf(o).Elem().Name()+" "+o.GetNamespace()+"/"+o.GetName())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// foreignObjects are written by someone else (the test, as an admin would) in tenants' namespaces.
type foreignObjects struct {
	written []client.Object
	version map[string]string
}

// writeInAClaimedNamespace writes someone else's objects in a namespace the operator has claimed and that holds
// none yet.
func (f *foreignObjects) writeInAClaimedNamespace(ctx context.Context, t *testing.T) {
	t.Helper()
	if f.version == nil {
		f.version = map[string]string{}
	}
	var claimed corev1.NamespaceList
	if err := k8s.List(ctx, &claimed, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}); err != nil {
		t.Fatal(err)
	}
	ns := ""
	for _, n := range claimed.Items {
		if _, used := f.version[n.Name+"/customer-data*v1.ConfigMap"]; !used {
			ns = n.Name
			break
		}
	}
	if ns == "" {
		return
	}
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "customer-data"}, Data: map[string]string{"k": "v"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "customer-secret"}, StringData: map[string]string{"k": "v"}},
	} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		f.written = append(f.written, obj)
		f.version[obj.GetNamespace()+"/"+obj.GetName()+fmt.Sprintf("%T", obj)] = obj.GetResourceVersion()
	}
}

func (f *foreignObjects) checkUntouched(ctx context.Context, t *testing.T) {
	t.Helper()
	if len(f.written) == 0 {
		t.Fatal("no foreign object was written: no namespace was claimed during the kills")
	}
	for _, obj := range f.written {
		key := obj.GetNamespace() + "/" + obj.GetName() + fmt.Sprintf("%T", obj)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil || obj.GetResourceVersion() != f.version[key] {
			t.Errorf("%s was changed or deleted (%v)", key, err)
		}
	}
}

func tail(b []byte, lines int) string {
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

type runtimeObject = runtime.Object
