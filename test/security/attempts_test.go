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

package security

import (
	"context"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane")
	}
}

// create creates obj; what it creates is recorded, so that an escape leaves nothing behind.
func create(c client.Client, obj client.Object) func(context.Context) error {
	return func(ctx context.Context) error {
		err := c.Create(ctx, obj)
		if err == nil {
			recordCreated(obj)
		}
		return err
	}
}

func deleteObj(c client.Client, obj client.Object) func(context.Context) error {
	return func(ctx context.Context) error { return c.Delete(ctx, obj) }
}

func mergePatch(c client.Client, obj client.Object, patch string) func(context.Context) error {
	return func(ctx context.Context) error {
		return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)))
	}
}

func list(c client.Client, l client.ObjectList, opts ...client.ListOption) func(context.Context) error {
	return func(ctx context.Context) error { return c.List(ctx, l, opts...) }
}

func get(c client.Client, ns, name string, obj client.Object) func(context.Context) error {
	return func(ctx context.Context) error { return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj) }
}

// inAlpha names an object of the alpha namespace, for patches and deletes.
func inAlpha(name string, obj client.Object) client.Object {
	obj.SetNamespace(alphaNS)
	obj.SetName(name)
	return obj
}

// MTB profile level 1.
func TestPL1(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	attempts := []struct {
		name string
		by   layer
		do   func(context.Context) error
	}{
		{"CC-CPI-1 list nodes", byRBAC, list(owner, &corev1.NodeList{})},
		{"CC-CPI-1 list namespaces", byRBAC, list(owner, &corev1.NamespaceList{})},
		{"CC-CPI-1 list CRDs", byRBAC, list(owner, &apiextensionsv1.CustomResourceDefinitionList{})},
		{"CC-CPI-1 list clusterroles", byRBAC, list(owner, &rbacv1.ClusterRoleList{})},
		{"CC-CPI-1 list tenants", byRBAC, list(owner, &tenancyv1alpha1.TenantList{})},
		{"BC-CPI-2 delete the operator's RoleBinding", byPolicy("protect-managed-objects"), deleteObj(owner, inAlpha(render.BindingOwners, &rbacv1.RoleBinding{}))},
		{"BC-CPI-2 edit the operator's RoleBinding", byPolicy("protect-managed-objects"), mergePatch(owner, inAlpha(render.BindingOwners, &rbacv1.RoleBinding{}),
			`{"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"mallory"}]}`)},
		{"BC-CPI-2 delete the default-deny NetworkPolicy", byPolicy("protect-managed-objects"), deleteObj(owner, inAlpha(render.PolicyDefaultDeny, &networkingv1.NetworkPolicy{}))},
		{"BC-CPI-2 edit the default-deny NetworkPolicy", byPolicy("protect-managed-objects"), mergePatch(owner, inAlpha(render.PolicyDefaultDeny, &networkingv1.NetworkPolicy{}),
			`{"spec":{"policyTypes":["Ingress"]}}`)},
		// allow-dns reaches the DNS namespace: a tenant's update of it meets networkpolicy-scope too.
		{"BC-CPI-2 remove the managed-by label of a NetworkPolicy", either(byPolicy("protect-managed-objects"), byPolicy("networkpolicy-scope")), mergePatch(owner, inAlpha(render.PolicyDNS, &networkingv1.NetworkPolicy{}),
			`{"metadata":{"labels":{"app.kubernetes.io/managed-by":null}}}`)},
		{"BC-CPI-2 overwrite a generated Secret", byPolicy("protect-managed-objects"), mergePatch(owner, inAlpha("db", &corev1.Secret{}), `{"stringData":{"password":"guessable"}}`)},
		{"BC-CPI-3 add capabilities", byPodSecurity, create(owner, restrictedPod(alphaNS, "caps", func(p *corev1.Pod) {
			container(p).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}))},
		{"BC-CPI-4 run as root", byPodSecurity, create(owner, restrictedPod(alphaNS, "root", func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot = ptrTo(false)
			p.Spec.SecurityContext.RunAsUser = ptrTo[int64](0)
		}))},
		{"BC-CPI-5 privileged container", byPodSecurity, create(owner, restrictedPod(alphaNS, "privileged", func(p *corev1.Pod) {
			container(p).SecurityContext.Privileged = ptrTo(true)
			container(p).SecurityContext.AllowPrivilegeEscalation = nil // with privileged, the object would be invalid
		}))},
		{"BC-CPI-6 privilege escalation", byPodSecurity, create(owner, restrictedPod(alphaNS, "escalate", func(p *corev1.Pod) {
			container(p).SecurityContext.AllowPrivilegeEscalation = ptrTo(true)
		}))},
		{"CC-TI-1 modify the ResourceQuota", byRBAC, mergePatch(owner, inAlpha(render.QuotaName, &corev1.ResourceQuota{}),
			`{"spec":{"hard":{"pods":"1000"}}}`)},
		{"CC-TI-1 delete the LimitRange", byRBAC, deleteObj(owner, inAlpha(render.LimitRangeName, &corev1.LimitRange{}))},
		{"CC-TI-2 list the other tenant's Secrets", byRBAC, list(owner, &corev1.SecretList{}, client.InNamespace(betaNS))},
		{"CC-TI-2 read the other tenant's generated Secret", byRBAC, get(owner, betaNS, "api-key", &corev1.Secret{})},
		{"CC-TI-2 list the other tenant's pods", byRBAC, list(owner, &corev1.PodList{}, client.InNamespace(betaNS))},
		{"CC-TI-2 write in the other tenant's namespace", byRBAC, create(owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: betaNS, Name: "x"}})},
		{"CC-TI-2 read the other tenant's Tenant", byRBAC, get(owner, "", betaNS, &tenancyv1alpha1.Tenant{})},
		{"CC-FNS-1 exceed the CPU quota", byQuota, create(owner, restrictedPod(alphaNS, "greedy", func(p *corev1.Pod) {
			container(p).Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: qty("3"), corev1.ResourceMemory: qty("64Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: qty("3"), corev1.ResourceMemory: qty("64Mi")},
			}
			// The LimitRange allows 4 CPUs per container: only the tenant's quota (2) stands in the way.
		}))},
		{"CC-FNS-2 exceed the memory quota", byQuota, create(owner, restrictedPod(alphaNS, "hungry", func(p *corev1.Pod) {
			container(p).Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: qty("100m"), corev1.ResourceMemory: qty("3Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: qty("100m"), corev1.ResourceMemory: qty("3Gi")},
			}
		}))},
		{"BC-HI-1 hostPath volume", byPodSecurity, create(owner, restrictedPod(alphaNS, "hostpath", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		}))},
		{"BC-HI-2 NodePort Service", byPolicy("service-exposure"), create(owner, alphaService("nodeport", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }))},
		{"BC-HI-3 hostNetwork", byPodSecurity, create(owner, restrictedPod(alphaNS, "hostnet", func(p *corev1.Pod) { p.Spec.HostNetwork = true }))},
		{"BC-HI-3 hostPort", byPodSecurity, create(owner, restrictedPod(alphaNS, "hostport", func(p *corev1.Pod) {
			container(p).Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}
		}))},
		{"BC-HI-4 hostPID", byPodSecurity, create(owner, restrictedPod(alphaNS, "hostpid", func(p *corev1.Pod) { p.Spec.HostPID = true }))},
		{"BC-HI-5 hostIPC", byPodSecurity, create(owner, restrictedPod(alphaNS, "hostipc", func(p *corev1.Pod) { p.Spec.HostIPC = true }))},
		{"BC-NI-1 NetworkPolicy opening ingress from other namespaces", byPolicy("networkpolicy-scope"), create(owner, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "open"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}},
			}}},
		})},
		{"BC-NI-1 NetworkPolicy opening egress to an ipBlock", byPolicy("networkpolicy-scope"), create(owner, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "exfil"},
			Spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}},
			}}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}},
		})},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) { mustBlock(t, a.by, a.do) })
	}
}

// MTB profile level 2: privilege escalation through RBAC, and the self-service a tenant admin keeps.
func TestPL2(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	binding := func(name, kind, role string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: alphaOwner.name}},
		}
	}
	role := func(name string, rule rbacv1.PolicyRule) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name}, Rules: []rbacv1.PolicyRule{rule}}
	}
	for _, a := range []struct {
		name string
		by   layer
		do   func(context.Context) error
	}{
		{"CC-TI-1 bind cluster-admin", byRBAC, create(owner, binding("to-cluster-admin", "ClusterRole", "cluster-admin"))},
		{"CC-TI-1 bind admin", byRBAC, create(owner, binding("to-admin", "ClusterRole", "admin"))},
		{"CC-TI-1 a Role with more than its author holds", byRBAC, create(owner, role("quota-writer", rbacv1.PolicyRule{
			APIGroups: []string{""}, Resources: []string{"resourcequotas"}, Verbs: []string{"update"}}))},
		{"CC-TI-1 a Role with escalate", byRBAC, create(owner, role("escalator", rbacv1.PolicyRule{
			APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}, Verbs: []string{"escalate"}}))},
		{"CC-TI-1 a Role with bind", byRBAC, create(owner, role("binder", rbacv1.PolicyRule{
			APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}}))},
		{"CC-TI-1 a Role with impersonate", byRBAC, create(owner, role("impersonator", rbacv1.PolicyRule{
			APIGroups: []string{""}, Resources: []string{"users"}, Verbs: []string{"impersonate"}}))},
	} {
		t.Run(a.name, func(t *testing.T) { mustBlock(t, a.by, a.do) })
	}
	t.Run("BC-OPS-3 owner creates a namespace-local Role", func(t *testing.T) {
		mustAllow(t, create(owner, role("config-reader", rbacv1.PolicyRule{
			APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}})))
	})
	t.Run("BC-OPS-3 owner binds tenant-developer to a colleague", func(t *testing.T) {
		b := binding("carol-dev", "ClusterRole", render.TenantDeveloperRole)
		b.Subjects[0].Name = "carol@alpha.example"
		mustAllow(t, create(owner, b))
	})
	t.Run("BC-OPS-4 owner creates a namespace-local NetworkPolicy", func(t *testing.T) {
		mustAllow(t, create(owner, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "web-to-db"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
					PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				}}}},
			},
		}))
	})
}

// Escapes beyond the benchmark.
func TestExtras(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	clientset := func(p person) *kubernetes.Clientset {
		cs, err := kubernetes.NewForConfig(impersonating(p))
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	tokenFor := func(ns, sa string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := clientset(alphaOwner).CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
			return err
		}
	}
	for _, a := range []struct {
		name string
		by   layer
		do   func(context.Context) error
	}{
		{"relabel the own namespace", byRBAC, mergePatch(owner, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: alphaNS}},
			`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`)},
		{"delete the own namespace", byRBAC, deleteObj(owner, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: alphaNS}})},
		{"LoadBalancer Service", byPolicy("service-exposure"), create(owner, alphaService("lb", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer }))},
		{"externalIPs Service", byPolicy("service-exposure"), create(owner, alphaService("extip", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"203.0.113.7"} }))},
		{"impersonate another user", byRBAC, func(ctx context.Context) error {
			// alice signs in herself (a client certificate) and asks to act as bob: the apiserver checks her right to.
			cfg, err := cluster.AddUser(alphaOwner.name, alphaOwner.groups...)
			if err != nil {
				return err
			}
			cfg.Impersonate = rest.ImpersonationConfig{UserName: betaOwner.name}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			_, err = cs.CoreV1().Secrets(betaNS).List(ctx, metav1.ListOptions{})
			return err
		}},
		{"pod without the tenant's runtimeClass", byPolicy("runtime-class"), create(owner, restrictedPod(alphaNS, "no-sandbox", func(p *corev1.Pod) { p.Spec.RuntimeClassName = nil }))},
		{"read the operator's CA Secret", byRBAC, get(owner, localcluster.OperatorNamespace, "tenant-operator-ca", &corev1.Secret{})},
		{"create a token for the back-end's ServiceAccount", byRBAC, tokenFor(alphaNS, render.BackendName)},
		{"create a token for another tenant's ServiceAccount", byRBAC, tokenFor(betaNS, "default")},
		{"delete a Tenant protected by preventDeletion (even as cluster admin)", byPolicy("prevent-deletion"), deleteObj(admin, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: betaNS}})},
		{"owner edits its own Tenant", byRBAC, mergePatch(owner, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: alphaNS}}, `{"spec":{"quota":null}}`)},
		{"owner creates a TenantClass of its own (a bigger plan)", byRBAC, create(owner, &tenancyv1alpha1.TenantClass{ObjectMeta: metav1.ObjectMeta{Name: "unlimited"}})},
		{"owner rewrites the class generation its namespace records", byRBAC, mergePatch(owner, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: alphaNS}},
			`{"metadata":{"annotations":{"tenancy.tenant-operator.dev/class":"{\"name\":\"unlimited\",\"generation\":1,\"spec\":{}}"}}}`)},
		{"member creates a RoleBinding", byRBAC, create(as(t, alphaMember), &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "member-binding"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "eve"}},
		})},
		{"viewer reads a Secret", byRBAC, get(as(t, alphaViewer), alphaNS, "db", &corev1.Secret{})},
		{"viewer lists Secrets", byRBAC, list(as(t, alphaViewer), &corev1.SecretList{}, client.InNamespace(alphaNS))},
	} {
		t.Run(a.name, func(t *testing.T) { mustBlock(t, a.by, a.do) })
	}
}

// What tenants must still be able to do.
func TestLegitimate(t *testing.T) {
	skipShort(t)
	owner, member, viewer := as(t, alphaOwner), as(t, alphaMember), as(t, alphaViewer)
	for _, a := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"owner runs a restricted pod", create(owner, restrictedPod(alphaNS, "ok"))},
		{"owner deploys a restricted workload", create(owner, restrictedDeployment(alphaNS, "web"))},
		{"owner creates a ConfigMap", create(owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "settings"}})},
		{"owner creates a Secret", create(owner, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "own-secret"}})},
		{"owner reads the generated Secret", get(owner, alphaNS, "db", &corev1.Secret{})},
		{"owner lists events", list(owner, &corev1.EventList{}, client.InNamespace(alphaNS))},
		{"owner reads the quota", get(owner, alphaNS, render.QuotaName, &corev1.ResourceQuota{})},
		{"owner reads its own Tenant", get(owner, "", alphaNS, &tenancyv1alpha1.Tenant{})},
		{"owner creates a ClusterIP Service", create(owner, alphaService("internal"))},
		{"owner installs a third-party workload that says IfNotPresent", create(owner, func() *appsv1.Deployment {
			d := restrictedDeployment(alphaNS, "third-party-chart")
			d.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
			return d
		}())},
		{"member deploys a restricted workload", create(member, restrictedDeployment(alphaNS, "worker"))},
		{"member edits a workload", mergePatch(member, inAlpha("worker", &appsv1.Deployment{}), `{"spec":{"replicas":2}}`)},
		{"member creates a Secret", create(member, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "member-secret"}})},
		{"viewer lists pods", list(viewer, &corev1.PodList{}, client.InNamespace(alphaNS))},
		{"viewer reads ConfigMaps", list(viewer, &corev1.ConfigMapList{}, client.InNamespace(alphaNS))},
		{"beta's owner reads its own namespace's Secrets", list(as(t, betaOwner), &corev1.SecretList{}, client.InNamespace(betaNS))},
	} {
		t.Run(a.name, func(t *testing.T) { mustAllow(t, a.do) })
	}
}

// TestPoliciesInstalledAfterTenants: the guardrails hold whether they are installed before the tenants exist (the
// rest of the suite) or after. Every policy and binding is removed and installed again while both tenants run; every
// guardrail must be enforced again (the same probes as at the start), and an attempt refused.
func TestPoliciesInstalledAfterTenants(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	for _, list := range []client.ObjectList{
		&admissionregistrationv1.ValidatingAdmissionPolicyBindingList{}, &admissionregistrationv1.ValidatingAdmissionPolicyList{},
		&admissionregistrationv1.MutatingAdmissionPolicyBindingList{}, &admissionregistrationv1.MutatingAdmissionPolicyList{},
	} {
		if err := admin.List(ctx, list); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			t.Fatalf("no %T installed", list)
		}
		for _, item := range items {
			if err := admin.Delete(ctx, item.(client.Object)); err != nil {
				t.Fatal(err)
			}
		}
	}
	root, err := localcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.InstallOperatorManifests(ctx, filepath.Join(root, "config", "default")); err != nil {
		t.Fatal(err)
	}
	if err := allowPriorityClass(ctx); err != nil {
		t.Fatal(err)
	}
	if err := waitForGuardrails(ctx); err != nil {
		t.Fatalf("the reinstalled guardrails: %v", err)
	}
	mustBlock(t, byPolicy("service-exposure"), create(as(t, alphaOwner),
		alphaService("late-nodeport", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })))
}

// TestGuardrailDenialsAreCounted: the apiserver counts each refusal of a guardrail
// (apiserver_validating_admission_policy_check_total, enforcement_action deny), the series the chart's
// TenantGuardrailDenials alert sums by policy: an escape attempt moves it.
func TestGuardrailDenialsAreCounted(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	denials := func() float64 {
		raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return localcluster.Metrics(raw).Sum("apiserver_validating_admission_policy_check_total",
			`policy="tenant-operator-service-exposure"`, `enforcement_action="deny"`)
	}
	before := denials()
	err = as(t, alphaOwner).Create(ctx, alphaService("counted-lb", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer }))
	if layer := byPolicy("service-exposure"); !layer.refused(err) {
		t.Fatalf("a LoadBalancer Service in a tenant namespace: %v, want refused by %s", err, layer.name)
	}
	if after := denials(); after < before+1 {
		t.Errorf("the apiserver's denials of service-exposure went from %v to %v after a refused attempt", before, after)
	}
}
