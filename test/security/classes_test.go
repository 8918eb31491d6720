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
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// The escape classes of a red-team review of the guardrails: each is tried in several variants, by the roles it
// concerns, next to the legitimate actions that must keep working.

type attempt struct {
	name string
	by   layer
	do   func(context.Context) error
}

func runAttempts(t *testing.T, attempts []attempt) {
	t.Helper()
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) { mustBlock(t, a.by, a.do) })
	}
}

type action struct {
	name string
	do   func(context.Context) error
}

func runLegitimate(t *testing.T, actions []action) {
	t.Helper()
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) { mustAllow(t, a.do) })
	}
}

func networkPolicy(name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name}, Spec: spec}
}

var (
	egressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	https      = []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromInt32(443))}}
	// The ports the node's servers listen on, so that an attempt that opened them would connect.
	outsidePort = []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromInt32(localcluster.OutsidePort))}}
	probePort   = []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromInt32(localcluster.NetprobePort))}}
	ownPods     = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
)

// Class 1: tenant NetworkPolicies that look local but are not. Each attempt is also sent as packets (aimsAt).
func TestNetworkPoliciesThatLookLocal(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	scope := byPolicy("networkpolicy-scope")
	runAttempts(t, []attempt{
		{"owner opens ingress with a rule without peers", scope, aimsAt(sharedNS, toAlphaPod, create(owner, networkPolicy("ingress-all",
			networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})))},
		{"owner opens egress with a rule without peers", scope, aimsAt(alphaNS, toInternet, create(owner, networkPolicy("egress-all",
			networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{}}, PolicyTypes: egressOnly})))},
		{"owner opens egress to a port, any destination", scope, aimsAt(alphaNS, toInternet, create(owner, networkPolicy("egress-port",
			networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: outsidePort}}, PolicyTypes: egressOnly})))},
		{"owner opens ingress on a port, any source", scope, aimsAt(sharedNS, toAlphaPod, create(owner, networkPolicy("ingress-port",
			networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: probePort}}})))},
		{"owner opens egress with an empty peer list", scope, aimsAt(alphaNS, toInternet, create(owner, networkPolicy("egress-empty-to",
			networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{}}}, PolicyTypes: egressOnly})))},
		{"owner opens egress to pods of every namespace", scope, aimsAt(alphaNS, toSharedPod, create(owner, networkPolicy("egress-any-ns",
			networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
				PodSelector: &metav1.LabelSelector{}, NamespaceSelector: &metav1.LabelSelector{},
			}}}}, PolicyTypes: egressOnly})))},
		{"owner opens egress to the metadata address", scope, aimsAt(alphaNS, toMetadata, create(owner, networkPolicy("egress-metadata",
			networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
				IPBlock: &networkingv1.IPBlock{CIDR: localcluster.OutsideMetadata + "/32"},
			}}}}, PolicyTypes: egressOnly})))},
		{"owner turns a local policy into an open one", scope, aimsAt(alphaNS, toInternet, func(ctx context.Context) error {
			local := networkPolicy("egress-local-then-open", networkingv1.NetworkPolicySpec{
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: ownPods}}, PolicyTypes: egressOnly})
			if err := create(owner, local)(ctx); err != nil {
				return err
			}
			return mergePatch(owner, local, `{"spec":{"egress":[{}]}}`)(ctx)
		})},
		{"member writes a NetworkPolicy", byRBAC, create(as(t, alphaMember), networkPolicy("member-policy",
			networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: ownPods}}}))},
	})
	runLegitimate(t, []action{
		{"owner segments egress to its own pods on a port", create(owner, networkPolicy("egress-to-db",
			networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}, Ports: https,
			}}, PolicyTypes: egressOnly}))},
		{"owner denies all ingress to some pods", create(owner, networkPolicy("deny-db",
			networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}))},
	})
}

// managedLabels are the labels of the operator's objects of tenant.
func managedLabels(tenant string) map[string]string {
	return map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: tenant}
}

// Class 2: objects posing as the operator's.
func TestObjectsPosingAsTheOperators(t *testing.T) {
	skipShort(t)
	owner, member := as(t, alphaOwner), as(t, alphaMember)
	reserved := byPolicy("reserved-labels")
	labelled := func(labels map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: alphaNS, GenerateName: "posing-", Labels: labels}
	}
	templated := func(labels map[string]string) *appsv1.Deployment {
		d := restrictedDeployment(alphaNS, "posing-template")
		d.Spec.Template.Labels = map[string]string{"app": "posing-template"}
		for k, v := range labels {
			d.Spec.Template.Labels[k] = v
		}
		return d
	}
	cronJob := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "posing-cron"},
		Spec: batchv1.CronJobSpec{Schedule: "@daily", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{render.LabelTenant: betaNS}},
				Spec:       withRestartPolicy(restrictedPod(alphaNS, "").Spec, corev1.RestartPolicyNever),
			},
		}}},
	}
	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "posing-claims"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "posing-claims",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "posing-claims"}},
			Template:    corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "posing-claims"}}, Spec: restrictedPod(alphaNS, "").Spec},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: managedLabels(alphaNS)},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: qty("1Gi")}}},
			}},
		},
	}
	runAttempts(t, []attempt{
		{"owner creates a large Secret the operator would cache", reserved, create(owner, &corev1.Secret{
			ObjectMeta: labelled(managedLabels(alphaNS)), Data: map[string][]byte{"blob": make([]byte, 512<<10)}})},
		{"owner pre-seeds a generated Secret's value", reserved, create(owner, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "db-next", Labels: managedLabels(alphaNS)},
			StringData: map[string]string{"password": "known-to-the-attacker"}})},
		{"owner claims another tenant's label", reserved, create(owner, &corev1.ConfigMap{ObjectMeta: labelled(map[string]string{render.LabelTenant: betaNS})})},
		{"owner creates a ConfigMap with a finalizer nobody may remove", reserved, create(owner, &corev1.ConfigMap{ObjectMeta: func() metav1.ObjectMeta {
			m := labelled(map[string]string{render.LabelManagedBy: render.ManagedByValue})
			m.Finalizers = []string{"example.com/forever"}
			return m
		}()})},
		{"owner creates a Service the operator would cache and protect", reserved, create(owner, alphaService("posing-service",
			func(s *corev1.Service) { s.ObjectMeta = labelled(managedLabels(alphaNS)) }))},
		{"owner creates volume claims carrying the operator's labels through an ephemeral volume", reserved, create(owner,
			restrictedPod(alphaNS, "posing-ephemeral", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
					VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
						ObjectMeta: metav1.ObjectMeta{Labels: managedLabels(alphaNS)},
						Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
							Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: qty("1Gi")}}},
					},
				}}}}
			}))},
		{"beta's owner pre-creates the back-end Deployment", reserved, func(ctx context.Context) error {
			d := restrictedDeployment(betaNS, render.BackendName)
			d.Labels = managedLabels(betaNS)
			return create(as(t, betaOwner), d)(ctx)
		}},
		{"owner creates pods carrying the operator's label through a Deployment", reserved, create(owner, templated(map[string]string{render.LabelManagedBy: render.ManagedByValue}))},
		{"owner creates pods carrying a tenant label through a CronJob", reserved, create(owner, cronJob)},
		{"owner creates volume claims carrying the operator's labels through a StatefulSet", reserved, create(owner, statefulSet)},
		{"owner adds the operator's label to its own ConfigMap", either(reserved, byPolicy("protect-managed-objects")), func(ctx context.Context) error {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "relabelled"}}
			if err := create(owner, cm)(ctx); err != nil {
				return err
			}
			return mergePatch(owner, cm, `{"metadata":{"labels":{"app.kubernetes.io/managed-by":"tenant-operator"}}}`)(ctx)
		}},
		{"owner adds a tenant label to its own ConfigMap", reserved, func(ctx context.Context) error {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "relabelled-tenant"}}
			if err := create(owner, cm)(ctx); err != nil {
				return err
			}
			return mergePatch(owner, cm, `{"metadata":{"labels":{"tenancy.tenant-operator.dev/tenant":"beta"}}}`)(ctx)
		}},
		{"member creates a Secret posing as the operator's", reserved, create(member, &corev1.Secret{ObjectMeta: labelled(managedLabels(alphaNS))})},
	})
	runLegitimate(t, []action{
		{"owner installs a Helm-labelled ConfigMap", create(owner, &corev1.ConfigMap{ObjectMeta: labelled(map[string]string{render.LabelManagedBy: "Helm"})})},
		{"owner labels its own ConfigMap", func(ctx context.Context) error {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "labelled-by-owner"}}
			if err := create(owner, cm)(ctx); err != nil {
				return err
			}
			return mergePatch(owner, cm, `{"metadata":{"labels":{"team":"payments"}}}`)(ctx)
		}},
	})
}

func withRestartPolicy(spec corev1.PodSpec, policy corev1.RestartPolicy) corev1.PodSpec {
	spec.RestartPolicy = policy
	return spec
}

// Class 3: indirection through shared components (the cluster DNS, Services' endpoints, the ingress controller).
func TestIndirectionThroughSharedComponents(t *testing.T) {
	skipShort(t)
	owner, member := as(t, alphaOwner), as(t, alphaMember)
	exposure := byPolicy("service-exposure")
	ingress := func(name string, mutate func(*networkingv1.Ingress)) *networkingv1.Ingress {
		backend := &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "internal", Port: networkingv1.ServiceBackendPort{Number: 8080}}}
		in := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
				Host: "alpha.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: ptrTo(networkingv1.PathTypePrefix), Backend: *backend,
				}}}},
			}}},
		}
		mutate(in)
		return in
	}
	endpoints := &corev1.Endpoints{ //nolint:staticcheck // the legacy API is the one attackers use
		ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "to-beta"},
		Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // as above
			Addresses: []corev1.EndpointAddress{{IP: "10.0.0.42"}}, Ports: []corev1.EndpointPort{{Port: 8080}}, //nolint:staticcheck // as above
		}},
	}
	runAttempts(t, []attempt{
		{"owner points a Service at another tenant's back-end by name", exposure, create(owner, alphaService("beta-alias", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: render.BackendName + "." + betaNS + ".svc.cluster.local"}
		}))},
		{"owner points a Service at the apiserver by name", exposure, create(owner, alphaService("apiserver-alias", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "kubernetes.default.svc.cluster.local"}
		}))},
		{"owner turns its ClusterIP Service into an ExternalName", exposure, func(ctx context.Context) error {
			svc := alphaService("turned")
			if err := create(owner, svc)(ctx); err != nil {
				return err
			}
			return mergePatch(owner, svc, `{"spec":{"type":"ExternalName","externalName":"backend.beta.svc.cluster.local","clusterIP":null,"clusterIPs":null,"ports":null}}`)(ctx)
		}},
		{"owner writes Endpoints listing another tenant's pod", byRBAC, create(owner, endpoints.DeepCopy())},
		{"member writes Endpoints listing another tenant's pod", byRBAC, create(member, endpoints.DeepCopy())},
		{"owner writes an EndpointSlice listing another tenant's pod", byRBAC, create(owner, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: alphaNS, Name: "to-beta", Labels: map[string]string{discoveryv1.LabelServiceName: "internal"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.42"}}},
		})},
		{"owner claims the ingress controller's default backend", byPolicy("ingress-scope"), create(owner, ingress("catch-all-default", func(in *networkingv1.Ingress) {
			in.Spec.DefaultBackend = &in.Spec.Rules[0].HTTP.Paths[0].Backend
			in.Spec.Rules = nil
		}))},
		{"owner claims every host with a rule without one", byPolicy("ingress-scope"), create(owner, ingress("catch-all-rule", func(in *networkingv1.Ingress) {
			in.Spec.Rules[0].Host = ""
		}))},
	})
	runLegitimate(t, []action{
		{"owner publishes its back-end on its own host", create(owner, ingress("alpha-web", func(*networkingv1.Ingress) {}))},
		{"member reads Endpoints", list(member, &corev1.EndpointsList{}, client.InNamespace(alphaNS))}, //nolint:staticcheck // as above
	})
}

// Class 4: access that outlives its grant (the parts the apiserver refuses; Retain and removed subjects are the
// operator's, tested in controllers).
func TestAccessThatOutlivesItsGrant(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	access := byPolicy("access-scope")
	bindViewerTo := func(name string, subject rbacv1.Subject) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
			Subjects:   []rbacv1.Subject{subject},
		}
	}
	group := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
	}
	runAttempts(t, []attempt{
		{"owner binds everyone with an account", access, create(owner, bindViewerTo("to-authenticated", group("system:authenticated")))},
		{"owner binds anonymous requests", access, create(owner, bindViewerTo("to-unauthenticated", group("system:unauthenticated")))},
		{"owner binds every ServiceAccount of every tenant", access, create(owner, bindViewerTo("to-all-sas", group("system:serviceaccounts")))},
		{"owner binds beta's ServiceAccounts as a group", access, create(owner, bindViewerTo("to-beta-sas", group("system:serviceaccounts:beta")))},
		{"owner binds the anonymous user", access, create(owner, bindViewerTo("to-anonymous",
			rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:anonymous"}))},
		{"owner binds another tenant's ServiceAccount", access, create(owner, bindViewerTo("to-beta-default",
			rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: betaNS}))},
		{"owner mints a never-expiring ServiceAccount token Secret", access, create(owner, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "forever-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
			Type:       corev1.SecretTypeServiceAccountToken,
		})},
	})
	runLegitimate(t, []action{
		{"owner binds its own namespace's ServiceAccount", create(owner, bindViewerTo("to-own-sa",
			rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: alphaNS}))},
		{"owner binds an SSO group", create(owner, bindViewerTo("to-auditors", group("sso:alpha-auditors")))},
	})
}

// Class 4, the grants the operator ends: what an owner granted stops working when the Tenant drops that owner, and
// everything granted through the tenant stops working when the Tenant is deleted with deletionPolicy Retain. Tried on
// a tenant of its own (gamma), by the people it drops.
func TestGrantsEndWithTheTenant(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	leaving, staying := person{"gail@gamma.example", nil}, person{"gus@gamma.example", nil}
	colleague, helper := person{"cole@gamma.example", nil}, person{"hal@gamma.example", nil}
	gamma := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "gamma"}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: leaving.name}, {Kind: tenancyv1alpha1.SubjectUser, Name: staying.name}},
	}}
	if err := admin.Create(ctx, gamma); err != nil {
		t.Fatal(err)
	}
	readsGamma := func(p person) func(context.Context) error {
		return list(as(t, p), &corev1.ConfigMapList{}, client.InNamespace("gamma"))
	}
	waitFor := func(what string, cond func(context.Context) bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			return cond(ctx), nil
		}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	waitFor("gamma's owners can work in it", func(ctx context.Context) bool {
		return readsGamma(leaving)(ctx) == nil && readsGamma(staying)(ctx) == nil
	})
	bind := func(by, to person, name string) {
		t.Helper()
		err := as(t, by).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "gamma", Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantDeveloperRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: to.name}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	bind(leaving, colleague, "colleague")
	bind(staying, helper, "helper")
	waitFor("the colleagues' access", func(ctx context.Context) bool {
		return readsGamma(colleague)(ctx) == nil && readsGamma(helper)(ctx) == nil
	})

	if err := admin.Patch(ctx, gamma, client.RawPatch(types.MergePatchType,
		[]byte(`{"spec":{"owners":[{"kind":"User","name":"`+staying.name+`"}]}}`))); err != nil {
		t.Fatal(err)
	}
	waitFor("the dropped owner's grant revoked", func(ctx context.Context) bool { return readsGamma(colleague)(ctx) != nil })
	runAttempts(t, []attempt{
		{"a dropped owner keeps working in the namespace", byRBAC, readsGamma(leaving)},
		{"the colleague a dropped owner bound keeps working", byRBAC, readsGamma(colleague)},
	})
	runLegitimate(t, []action{{"the colleague a remaining owner bound keeps working", readsGamma(helper)}})

	if err := admin.Delete(ctx, gamma); err != nil {
		t.Fatal(err)
	}
	waitFor("gamma deleted", func(ctx context.Context) bool {
		return apierrors.IsNotFound(admin.Get(ctx, client.ObjectKeyFromObject(gamma), &tenancyv1alpha1.Tenant{}))
	})
	runAttempts(t, []attempt{
		{"an owner keeps working in the retained namespace", byRBAC, readsGamma(staying)},
		{"a colleague an owner bound keeps working in the retained namespace", byRBAC, readsGamma(helper)},
	})
}

// Class 5: scheduling abuse across tenants.
func TestSchedulingAbuse(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	placement, priority := byPolicy("pod-placement"), byPolicy("priority-class")
	pdb := func(name string, spec policyv1.PodDisruptionBudgetSpec) *policyv1.PodDisruptionBudget {
		spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name}, Spec: spec}
	}
	runAttempts(t, []attempt{
		{"owner preempts with system-node-critical", priority, create(owner, restrictedPod(alphaNS, "node-critical", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = "system-node-critical"
		}))},
		{"owner preempts with system-cluster-critical", priority, create(owner, restrictedPod(alphaNS, "cluster-critical", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = "system-cluster-critical"
		}))},
		{"owner uses a PriorityClass the admin has not allowed", priority, create(owner, restrictedPod(alphaNS, "high", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = forbiddenPriorityClass
		}))},
		{"owner picks a node with spec.nodeName", placement, create(owner, restrictedPod(alphaNS, "pinned", func(p *corev1.Pod) {
			p.Spec.NodeName = "control-plane-1"
		}))},
		{"owner tolerates the control plane's taint", placement, create(owner, restrictedPod(alphaNS, "on-control-plane", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}))},
		{"owner tolerates every taint", placement, create(owner, restrictedPod(alphaNS, "everywhere", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}))},
		// Tenants write no PodDisruptionBudgets: any of them can block drains (no room, a second budget over pods one
		// already covers, minAvailable as large as the workload).
		{"owner blocks node drains with maxUnavailable 0", byRBAC, create(owner, pdb("no-room",
			policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromInt32(0))}))},
		{"owner blocks the back-end's drains with a second budget over its pods", byRBAC, create(owner, func() *policyv1.PodDisruptionBudget {
			b := pdb("overlap", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromInt32(1))})
			b.Spec.Selector = &metav1.LabelSelector{}
			return b
		}())},
		{"member blocks node drains with minAvailable 100%", byRBAC, create(as(t, alphaMember), pdb("all-available",
			policyv1.PodDisruptionBudgetSpec{MinAvailable: ptrTo(intstr.FromString("100%"))}))},
		// For whoever a cluster admin lets write them, the policy refuses budgets with no room, however spelled.
		{"a budget writer spells no room as 00%", byPolicy("disruption-budget"), create(budgetWriter(t), pdb("no-room-spelled",
			policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromString("00%"))}))},
		{"a budget writer asks for 0100% available", byPolicy("disruption-budget"), create(budgetWriter(t), pdb("all-spelled",
			policyv1.PodDisruptionBudgetSpec{MinAvailable: ptrTo(intstr.FromString("0100%"))}))},
	})
	runLegitimate(t, []action{
		{"owner uses a PriorityClass the admin allowed", create(owner, restrictedPod(alphaNS, "standard", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = allowedPriorityClass
		}))},
		{"owner tolerates a node's not-ready taint for a while", create(owner, restrictedPod(alphaNS, "patient", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo[int64](600)}}
		}))},
		{"a budget writer protects a workload with a PodDisruptionBudget", create(budgetWriter(t), pdb("web",
			policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromInt32(1))}))},
	})
}

// budgetWriter is a person a cluster admin lets write PodDisruptionBudgets in alpha (with a Role of their own).
func budgetWriter(t *testing.T) client.Client {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "budget-writer"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: []string{"create"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "budget-writer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: budgetWriterPerson.name}}}
	for _, obj := range []client.Object{role, binding} {
		if err := admin.Create(ctx, obj); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
	// RBAC takes a moment to see a new binding.
	c := as(t, budgetWriterPerson)
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		probe := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "probe"},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{}}}
		return c.Create(ctx, probe, client.DryRunAll) == nil, nil
	}); err != nil {
		t.Fatalf("the budget writer's Role never took effect: %v", err)
	}
	return c
}

var budgetWriterPerson = person{"pat@platform.example", nil}

// Class 6: subresources of managed objects.
func TestSubresources(t *testing.T) {
	skipShort(t)
	owner := as(t, alphaOwner)
	scale := byPolicy("protect-managed-scale")
	scaleBy := func(p person, name string, replicas int) func(context.Context) error {
		return func(ctx context.Context) error {
			cs, err := kubernetes.NewForConfig(impersonating(p))
			if err != nil {
				return err
			}
			patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
			_, err = cs.AppsV1().Deployments(alphaNS).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "scale")
			return err
		}
	}
	hpa := func(name, target string) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: name},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
				MinReplicas:    ptrTo[int32](1), MaxReplicas: 10,
			},
		}
	}
	runAttempts(t, []attempt{
		{"owner scales the back-end through its scale subresource", scale, scaleBy(alphaOwner, render.BackendName, 5)},
		{"member scales the back-end through its scale subresource", scale, scaleBy(alphaMember, render.BackendName, 5)},
		{"owner aims an autoscaler at the back-end", scale, create(owner, hpa("backend", render.BackendName))},
	})
	backendPod, backendReplicaSet := backendObjects(t)
	runAttempts(t, []attempt{
		// As kubectl set image does it: a strategic merge patch, which keeps the rest of the container.
		{"member runs another image in a back-end pod", byPolicy("protect-backend-pods"), func(ctx context.Context) error {
			return as(t, alphaMember).Patch(ctx, backendPod, client.RawPatch(types.StrategicMergePatchType,
				[]byte(`{"spec":{"containers":[{"name":"backend","image":"registry.example/mallory/implant:1"}]}}`)))
		}},
		{"owner runs another image through the back-end's ReplicaSet", byPolicy("protect-backend-pods"),
			mergePatch(owner, backendReplicaSet, `{"spec":{"template":{"spec":{"containers":[{"name":"backend","image":"registry.example/mallory/implant:1"}]}}}}`)},
		{"owner relabels a back-end pod", byPolicy("protect-backend-pods"),
			mergePatch(owner, backendPod, `{"metadata":{"labels":{"extra":"x"}}}`)},
	})
	runLegitimate(t, []action{
		{"owner restarts a back-end pod", func(ctx context.Context) error {
			return owner.Delete(ctx, backendPod.DeepCopyObject().(client.Object), client.DryRunAll)
		}},
		{"owner scales its own workload", func(ctx context.Context) error {
			if err := create(owner, restrictedDeployment(alphaNS, "scalable"))(ctx); err != nil {
				return err
			}
			return scaleBy(alphaOwner, "scalable", 2)(ctx)
		}},
		{"owner autoscales its own workload", create(owner, hpa("scalable", "scalable"))},
	})
}

// backendObjects are a pod and the ReplicaSet of alpha's back-end, as the control plane made them.
func backendObjects(t *testing.T) (*corev1.Pod, *appsv1.ReplicaSet) {
	t.Helper()
	ctx := context.Background()
	selector := client.MatchingLabels{"app.kubernetes.io/name": render.BackendName, render.LabelTenant: alphaNS}
	var pods corev1.PodList
	var sets appsv1.ReplicaSetList
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := admin.List(ctx, &pods, client.InNamespace(alphaNS), selector); err != nil {
			return false, err
		}
		if err := admin.List(ctx, &sets, client.InNamespace(alphaNS), selector); err != nil {
			return false, err
		}
		return len(pods.Items) > 0 && len(sets.Items) > 0, nil
	}); err != nil {
		t.Fatalf("alpha's back-end has no pod or ReplicaSet: %v", err)
	}
	return &pods.Items[0], &sets.Items[0]
}

// Class 8: the operator's own reach. Its ServiceAccount holds create on every ClusterRole and ClusterRoleBinding and
// delete on every namespace; the apiserver confines it to its own.
func TestOperatorReach(t *testing.T) {
	skipShort(t)
	cfg, err := cluster.ServiceAccountConfig(context.Background(), localcluster.OperatorNamespace, localcluster.OperatorServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	operator, err := client.New(cfg, client.Options{Scheme: suiteScheme()})
	if err != nil {
		t.Fatal(err)
	}
	scope := byPolicy("operator-scope")
	plan := &tenancyv1alpha1.TenantClass{ObjectMeta: metav1.ObjectMeta{Name: "reach-probe"}}
	if err := admin.Create(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), plan) })
	readSecrets := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}
	runAttempts(t, []attempt{
		{"the operator creates a ClusterRole of its choosing", scope, create(operator, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "stolen-token-reads-secrets"}, Rules: readSecrets})},
		{"the operator widens an owner-access ClusterRole", scope, mergePatch(operator,
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "tenant-operator:owner:" + alphaNS}},
			`{"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get","list"]}]}`)},
		{"the operator binds a tenant role cluster-wide", scope, create(operator, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "stolen-token-binding"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantAdminRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
		})},
		{"the operator points an owner-access binding at another role", scope, create(operator, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "tenant-operator:owner:mallory"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantAdminRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
		})},
		// A dry run is admitted or refused as the real request would be, and deletes nothing if it escapes.
		{"the operator deletes a namespace that is not a tenant's", scope, func(ctx context.Context) error {
			return operator.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sharedNS}}, client.DryRunAll)
		}},
		{"the operator creates a namespace that is not a tenant's", scope, create(operator, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "not-a-tenant"}})},
		{"the operator binds a tenant role in kube-system", scope, create(operator, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "stolen-token-binding"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantAdminRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
		})},
		{"the operator rewrites a TenantClass's plan (every tenant of the class at once)", scope, mergePatch(operator, plan,
			`{"spec":{"quota":{"hard":{"pods":"100000"}}}}`)},
		{"the operator makes a TenantClass the default (every tenant naming none moves to it)", scope, mergePatch(operator, plan,
			`{"metadata":{"annotations":{"tenancy.tenant-operator.dev/is-default-class":"true"}}}`)},
		{"the operator writes a Secret in a namespace that is not a tenant's", scope, create(operator, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: sharedNS, Name: "planted"}})},
		{"the operator deletes a Secret in a namespace that is not a tenant's", scope, func(ctx context.Context) error {
			return operator.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sharedNS, Name: sharedSecret}}, client.DryRunAll)
		}},
	})
}

// byValidation is the Tenant CRD's own validation, refusing with message.
func byValidation(message string) layer {
	return layer{"Tenant validation (" + message + ")", func(err error) bool {
		return apierrors.IsInvalid(err) && strings.Contains(err.Error(), message)
	}}
}

// Class 7: Tenant input an admin should not be allowed to get wrong, refused when applied. (What needs the operator's
// configuration, a namespace it reserves or an allowedCIDR inside the cluster's ranges, is a condition of the Tenant:
// tested in controllers.)
func TestTenantInputAdminsGetWrong(t *testing.T) {
	skipShort(t)
	tenant := func(mutate func(*tenancyv1alpha1.TenantSpec)) *tenancyv1alpha1.Tenant {
		tn := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "mistake"}}
		mutate(&tn.Spec)
		return tn
	}
	systemSubject := "system: users and groups are reserved"
	runAttempts(t, []attempt{
		{"an owner group of everyone with an account", byValidation(systemSubject), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "system:authenticated"}}
		}))},
		{"a member group of every ServiceAccount", byValidation(systemSubject), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Members = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "system:serviceaccounts"}}
		}))},
		{"a viewer that is a node", byValidation(systemSubject), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "system:node:worker-1"}}
		}))},
		{"an owner that is a control-plane ServiceAccount", byValidation("ServiceAccounts of kube-* namespaces are reserved"), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "generic-garbage-collector", Namespace: "kube-system"}}
		}))},
		{"egress to the metadata range", byValidation("must not overlap link-local"), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"169.254.0.0/16"}}}
		}))},
		{"egress to a range around the metadata address", byValidation("must not overlap link-local"), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"128.0.0.0/1"}}}
		}))},
		{"a runtime class that is not a label value", byValidation("runtimeClassName"), create(admin, tenant(func(s *tenancyv1alpha1.TenantSpec) {
			s.Backend = &tenancyv1alpha1.BackendSpec{Image: "registry.example/x:1", RuntimeClassName: ptrTo("gvisor/../other")}
		}))},
	})
}
