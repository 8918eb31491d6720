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

// Package security is the tenant-escape suite: with the operator running under its own ServiceAccount and the
// guardrail policies installed, two tenants' owners, members and viewers (by impersonation) try everything the
// multi-tenancy benchmarks (MTB) check, and more. Every attempt must be refused; every legitimate action must pass.
// The suite ends with a table that must read "0 escaped".
package security

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

var (
	cluster *localcluster.Cluster
	admin   client.Client
	ledger  = &results{}
)

// The cast: two tenants, their people, identified as the cluster's SSO would (users and groups).
const (
	alphaNS = "alpha"
	betaNS  = "beta"
	// deltaNS is a suspended tenant's.
	deltaNS  = "delta"
	sharedNS = "shared-services"
	// sharedSecret is a Secret of the shared namespace's.
	sharedSecret = "shared-config" //nolint:gosec // a name, no credential
	sandbox      = "gvisor"
)

var (
	alphaOwner  = person{"alice@alpha.example", []string{"sso:alpha-admins"}}
	alphaMember = person{"amy@alpha.example", []string{"sso:alpha-devs"}}
	alphaViewer = person{"avery@alpha.example", nil}
	betaOwner   = person{"bob@beta.example", []string{"sso:beta-admins"}}
	deltaOwner  = person{"dina@delta.example", []string{"sso:delta-admins"}}
	// deltaCI is who delta's owner bound as an owner too (tenant-admin) before the tenant was suspended.
	deltaCI = person{"ci@delta.example", nil}
)

type person struct {
	name   string
	groups []string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code := run(m)
	table := ledger.table()
	fmt.Print(table)
	// go test shows a passing package's output only with -v: make test prints the report file instead.
	if path := os.Getenv("SECURITY_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "writing the security report:", err)
			code = 1
		}
	}
	if ledger.escaped() > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	onNode, err := nodeTier()
	if err != nil {
		return fail(err)
	}
	root, err := localcluster.RepoRoot()
	if err != nil {
		return fail(err)
	}
	binary, cleanup, err := localcluster.ManagerBinary(root)
	if err != nil {
		return fail(err)
	}
	defer cleanup()
	if cluster, err = localcluster.Start(ctx, localcluster.Options{Node: onNode}); err != nil {
		return fail(err)
	}
	defer func() { _ = cluster.Stop() }()
	if onNode {
		if err := pushImages(ctx); err != nil {
			return fail(err)
		}
	}
	if err := cluster.InstallOperatorManifests(ctx, filepath.Join(root, "config", "default")); err != nil {
		return fail(err)
	}
	if admin, err = client.New(cluster.Config, client.Options{Scheme: suiteScheme()}); err != nil {
		return fail(err)
	}
	if err := allowExtraRole(ctx); err != nil {
		return fail(err)
	}
	if _, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: binary, Args: []string{"--extra-roles=" + extraRole}}); err != nil {
		return fail(err)
	}
	if err := createTenants(ctx); err != nil {
		return fail(err)
	}
	if err := waitForGuardrails(ctx); err != nil {
		return fail(err)
	}
	if onNode {
		if wire, err = startWire(ctx); err != nil {
			return fail(err)
		}
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "security suite setup:", err)
	return 1
}

// PriorityClasses of the cluster: the admin allows tenants one of them (in the guardrails' ConfigMap).
const (
	allowedPriorityClass   = "tenant-standard"
	forbiddenPriorityClass = "tenant-high"
)

// allowPriorityClass lists allowedPriorityClass in the priority-class policy, as an admin would (the chart's
// guardrails.allowedPriorityClasses).
func allowPriorityClass(ctx context.Context) error {
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "tenant-operator-priority-class"}, policy); err != nil {
		return err
	}
	for i, v := range policy.Spec.Variables {
		if v.Name == "allowedPriorityClasses" {
			policy.Spec.Variables[i].Expression = fmt.Sprintf("[%q, %q]", "other-class", allowedPriorityClass)
			return admin.Update(ctx, policy)
		}
	}
	return fmt.Errorf("the priority-class policy has no allowedPriorityClasses")
}

// extraRole is a ClusterRole the admin lets Tenants have bound (--extra-roles): alpha's owners get it.
const extraRole = "tenant-certificates-edit"

// allowExtraRole creates extraRole and grants the operator bind on it by name, as the chart's tenants.extraRoles does.
func allowExtraRole(ctx context.Context) error {
	rbac := rbacv1.GroupName
	for _, obj := range []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: extraRole}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: []string{"get", "list", "create", "delete"}}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "tenant-operator-extra-roles"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{rbac}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{extraRole}}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tenant-operator-extra-roles"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbac, Kind: "ClusterRole", Name: "tenant-operator-extra-roles"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: localcluster.OperatorServiceAccount, Namespace: localcluster.OperatorNamespace}}},
	} {
		if err := admin.Create(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

func createTenants(ctx context.Context) error {
	// The node has no gVisor: its runc stands in, since the runtime-class guardrail, not the sandbox, is under test.
	if err := admin.Create(ctx, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: sandbox}, Handler: "runc"}); err != nil {
		return err
	}
	// A namespace of the cluster's own, no tenant's.
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sharedNS}}); err != nil {
		return err
	}
	if err := admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sharedNS, Name: sharedSecret}}); err != nil {
		return err
	}
	for name, value := range map[string]int32{allowedPriorityClass: 1000, forbiddenPriorityClass: 1000000} {
		if err := admin.Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value}); err != nil {
			return err
		}
	}
	if err := allowPriorityClass(ctx); err != nil {
		return err
	}
	subject := func(p person) []tenancyv1alpha1.Subject {
		if len(p.groups) > 0 {
			return []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: p.groups[0]}}
		}
		return []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: p.name}}
	}
	alpha := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: alphaNS}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: subject(alphaOwner), Members: subject(alphaMember), Viewers: subject(alphaViewer),
		Quota: &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceRequestsCPU: qty("2"), corev1.ResourceRequestsMemory: qty("2Gi"),
			corev1.ResourceLimitsCPU: qty("10"), corev1.ResourceLimitsMemory: qty("10Gi"), corev1.ResourcePods: qty("20"),
		}},
		Backend:    &tenancyv1alpha1.BackendSpec{Image: backendImage, RuntimeClassName: ptrTo(sandbox)},
		Secrets:    []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
		Network:    &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{betaNS}},
		ExtraRoles: []tenancyv1alpha1.ExtraRole{{ClusterRole: extraRole, To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}}},
	}}
	beta := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: betaNS}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: subject(betaOwner), PreventDeletion: true, Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "api-key"}},
	}}
	delta := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: deltaNS}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: subject(deltaOwner), Suspended: true,
	}}
	for _, t := range []*tenancyv1alpha1.Tenant{alpha, beta, delta} {
		if err := admin.Create(ctx, t); err != nil {
			return err
		}
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, name := range []string{alphaNS, betaNS, deltaNS} {
			t := &tenancyv1alpha1.Tenant{}
			if err := admin.Get(ctx, client.ObjectKey{Name: name}, t); err != nil {
				return false, err
			}
			for _, c := range []string{tenancyv1alpha1.ConditionNamespaceReady, tenancyv1alpha1.ConditionNetworkIsolated,
				tenancyv1alpha1.ConditionAccessConfigured, tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ConditionSecretsReady} {
				if !meta.IsStatusConditionTrue(t.Status.Conditions, c) {
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	// A grant of the owner's from before the suspension (made here by the admin: the owner can no longer write).
	return admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "ci"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantAdminRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: deltaCI.name}}})
}

// waitForGuardrails waits until the apiserver enforces every guardrail policy (they take effect moments after they
// are created), probing each with a dry run that creates nothing, so that no attempt can slip through that window
// and no attempt needs retrying.
func waitForGuardrails(ctx context.Context) error {
	owner, err := client.New(impersonating(alphaOwner), client.Options{Scheme: suiteScheme()})
	if err != nil {
		return err
	}
	operatorConfig, err := cluster.ServiceAccountConfig(ctx, localcluster.OperatorNamespace, localcluster.OperatorServiceAccount)
	if err != nil {
		return err
	}
	operator, err := client.New(operatorConfig, client.Options{Scheme: suiteScheme()})
	if err != nil {
		return err
	}
	dryCreate := func(c client.Client, obj client.Object) func(context.Context) error {
		return func(ctx context.Context) error {
			return c.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll)
		}
	}
	ci, err := client.New(impersonating(deltaCI), client.Options{Scheme: suiteScheme()})
	if err != nil {
		return err
	}
	probes := map[string]func(context.Context) error{
		"suspended-namespace": dryCreate(ci, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: deltaNS, Name: "probe"}}),
		"service-exposure":    dryCreate(owner, alphaService("probe", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })),
		"runtime-class":       dryCreate(owner, restrictedPod(alphaNS, "probe", func(p *corev1.Pod) { p.Spec.RuntimeClassName = nil })),
		"protect-managed-objects": func(ctx context.Context) error {
			return owner.Delete(ctx, inAlpha(render.PolicyDefaultDeny, &networkingv1.NetworkPolicy{}), client.DryRunAll)
		},
		"reserved-labels": dryCreate(owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe",
			Labels: map[string]string{render.LabelTenant: betaNS}}}),
		"protect-managed-scale": dryCreate(owner, &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 2, ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: "apps/v1", Kind: "Deployment", Name: render.BackendName}},
		}),
		"networkpolicy-scope": dryCreate(owner, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}}),
		"ingress-scope": dryCreate(owner, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe"},
			Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "x", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}),
		"access-scope": dryCreate(owner, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe",
			Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}),
		"pod-placement": dryCreate(owner, restrictedPod(alphaNS, "probe", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		})),
		"priority-class": dryCreate(owner, restrictedPod(alphaNS, "probe", func(p *corev1.Pod) { p.Spec.PriorityClassName = forbiddenPriorityClass })),
		// Tenants write no budgets: the cluster admin's dry run meets the policy, which exempts nobody.
		"disruption-budget": dryCreate(admin, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe"},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromInt32(0)), Selector: &metav1.LabelSelector{}}}),
		"operator-scope": dryCreate(operator, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}),
		"protect-backend-pods": func(ctx context.Context) error {
			pods := &corev1.PodList{}
			if err := admin.List(ctx, pods, client.InNamespace(alphaNS), client.MatchingLabels{render.LabelTenant: alphaNS}); err != nil || len(pods.Items) == 0 {
				return fmt.Errorf("no back-end pod yet: %v", err)
			}
			return owner.Patch(ctx, &pods.Items[0], client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"probe":"x"}}}`)), client.DryRunAll)
		},
		"prevent-deletion": func(ctx context.Context) error {
			return admin.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: betaNS}}, client.DryRunAll)
		},
	}
	// The imagePullPolicy guardrail rewrites rather than refuses.
	pullsAlways := func(ctx context.Context) bool {
		pod := restrictedPod(alphaNS, "probe", func(p *corev1.Pod) { container(p).ImagePullPolicy = corev1.PullIfNotPresent })
		return owner.Create(ctx, pod, client.DryRunAll) == nil && container(pod).ImagePullPolicy == corev1.PullAlways
	}
	var waitingFor []string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		waitingFor = nil
		for name, probe := range probes {
			if !byPolicy(name).refused(probe(ctx)) {
				waitingFor = append(waitingFor, name)
			}
		}
		if !pullsAlways(ctx) {
			waitingFor = append(waitingFor, "image-pull-policy")
		}
		// The admin's allowance must be in force too.
		allowed := restrictedPod(alphaNS, "probe", func(p *corev1.Pod) { p.Spec.PriorityClassName = allowedPriorityClass })
		if err := owner.Create(ctx, allowed, client.DryRunAll); err != nil {
			waitingFor = append(waitingFor, "priority-class allowance")
		}
		return len(waitingFor) == 0, nil
	})
	if err != nil {
		sort.Strings(waitingFor)
		return fmt.Errorf("guardrails not enforced: %v: %w", waitingFor, err)
	}
	return nil
}

// impersonating is the cluster admin's configuration acting as p, authenticated as the cluster's SSO would report p.
func impersonating(p person) *rest.Config {
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: p.name, Groups: append([]string{"system:authenticated"}, p.groups...)}
	return cfg
}

// as returns a client acting as p through impersonation by the cluster admin.
func as(t *testing.T, p person) client.Client {
	t.Helper()
	c, err := client.New(impersonating(p), client.Options{Scheme: suiteScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// suiteScheme is the operator's scheme plus the CRD types, which tenants try to list.
func suiteScheme() *runtime.Scheme {
	s := controllers.NewScheme()
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	return s
}

// results is the suite's ledger for the closing table.
type results struct {
	mu                             sync.Mutex
	attempts, blocked, legit, okay int
	// wired are the attempts also sent as packets on the node; through, those whose connection opened.
	wired, through int
	escapes        []string
}

func (r *results) escaped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.escapes)
}

func (r *results) table() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.Strings(r.escapes)
	var b strings.Builder
	b.WriteString("\n| tenant-escape suite | count |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| escape attempts tried | %d |\n| escape attempts blocked | %d |\n", r.attempts, r.blocked)
	fmt.Fprintf(&b, "| legitimate actions tried | %d |\n| legitimate actions allowed | %d |\n", r.legit, r.okay)
	if wireSkipped == "" {
		fmt.Fprintf(&b, "| network attempts also sent as packets on the node | %d |\n| connections they opened | %d |\n", r.wired, r.through)
	} else {
		fmt.Fprintf(&b, "\n%s\n", wireSkipped)
	}
	fmt.Fprintf(&b, "\n%d escaped\n", len(r.escapes))
	for _, e := range r.escapes {
		fmt.Fprintf(&b, "  ESCAPED: %s\n", e)
	}
	return b.String()
}

// layer is what must refuse an attempt: RBAC, Pod Security admission, the quota, or a named guardrail policy. An
// attempt refused by another layer, or refused for being malformed, is not a block: the layer it was written for
// never ran, so a hole there would go unseen.
type layer struct {
	name    string
	refused func(err error) bool
}

func (l layer) String() string { return l.name }

var (
	byRBAC = layer{"RBAC", func(err error) bool {
		msg := err.Error()
		return apierrors.IsForbidden(err) && (strings.Contains(msg, " cannot ") || strings.Contains(msg, "attempting to grant RBAC permissions"))
	}}
	byPodSecurity = layer{"Pod Security", func(err error) bool {
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), `violates PodSecurity "restricted`)
	}}
	byQuota = layer{"ResourceQuota", func(err error) bool {
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota: "+render.QuotaName)
	}}
)

// byPolicy is the guardrail policy of config/policies named name (config/default prefixes it with tenant-operator-).
func byPolicy(name string) layer {
	full := "tenant-operator-" + name
	return layer{"policy " + full, func(err error) bool {
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+full+"'")
	}}
}

// either is refused by any of layers, for an attempt that two guardrails stop and whose order the apiserver picks.
func either(layers ...layer) layer {
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.name
	}
	return layer{strings.Join(names, " or "), func(err error) bool {
		return slices.ContainsFunc(layers, func(l layer) bool { return l.refused(err) })
	}}
}

// created holds what the current attempt created, so that an attempt that escapes leaves nothing behind.
var created struct {
	sync.Mutex
	objs []client.Object
}

func recordCreated(obj client.Object) {
	created.Lock()
	defer created.Unlock()
	created.objs = append(created.objs, obj)
}

func takeCreated() []client.Object {
	created.Lock()
	defer created.Unlock()
	objs := created.objs
	created.objs = nil
	return objs
}

// mustBlock runs an escape attempt once and requires the apiserver to refuse it, by the layer that must refuse it.
// Any success is an escape (what it created is removed again); so is a refusal by another layer or for another
// reason (an Invalid object never reached the guardrails). The suite waits for the guardrails to be enforced before
// the first attempt (waitForGuardrails), so nothing is retried.
func mustBlock(t *testing.T, by layer, attempt func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	takeCreated()
	takeAim()
	err := attempt(ctx)
	objs, target := takeCreated(), takeAim()
	// Anything created counts as admitted: an attempt refused at its last step may have opened something before.
	through := sendOnWire(ctx, t, target, err == nil || len(objs) > 0)
	// A context of its own, so that a long wire check never leaves an escape's objects behind.
	cleanup, cancelCleanup := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancelCleanup()
	for _, obj := range objs {
		if derr := admin.Delete(cleanup, obj); client.IgnoreNotFound(derr) != nil {
			t.Errorf("removing %T %s after the escape: %v", obj, obj.GetName(), derr)
		}
	}
	if through {
		wire.waitRefused(cleanup, t, *target) // the next attempt must not inherit this one's opening
	}
	blocked := err != nil && by.refused(err)
	ledger.mu.Lock()
	ledger.attempts++
	if blocked {
		ledger.blocked++
	}
	if !blocked || through {
		ledger.escapes = append(ledger.escapes, t.Name())
	}
	ledger.mu.Unlock()
	switch {
	case err == nil:
		t.Errorf("ESCAPED: the attempt succeeded; %s should have refused it", by)
	case !blocked:
		t.Errorf("ESCAPED: the attempt was not refused by %s, the layer that must refuse it, but: %v", by, err)
	}
}

// sendOnWire tries, on the node, the connection an attempt aimed at (none when target is nil), before what the
// attempt created is removed, and reports whether it opened: an escape, whatever the apiserver said.
func sendOnWire(ctx context.Context, t *testing.T, target *aim, admitted bool) bool {
	t.Helper()
	if target == nil || wire == nil {
		return false
	}
	d, err := wire.try(ctx, *target, admitted)
	if err != nil {
		t.Errorf("sending the attempt's packets (%s): %v", target, err)
		return false
	}
	ledger.mu.Lock()
	ledger.wired++
	if d.Connected {
		ledger.through++
	}
	ledger.mu.Unlock()
	if d.Connected {
		t.Errorf("ESCAPED on the wire: %s connected", target)
	} else {
		t.Logf("on the wire: %s %s", target, d)
	}
	return d.Connected
}

// mustAllow runs a legitimate action and requires it to succeed.
func mustAllow(t *testing.T, action func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := action(ctx)
	takeCreated()
	ledger.mu.Lock()
	ledger.legit++
	if err == nil {
		ledger.okay++
	}
	ledger.mu.Unlock()
	if err != nil {
		t.Errorf("a legitimate action was refused: %v", err)
	}
}
