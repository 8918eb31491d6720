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

package render

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func goldClass() *Class {
	return &Class{Name: "gold", Generation: 3, Spec: tenancyv1alpha1.TenantClassSpec{
		Quota: &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("50"), corev1.ResourceRequestsCPU: resource.MustParse("10"),
		}},
		Limits: &tenancyv1alpha1.LimitsSpec{Max: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"),
		}},
		Network:          &tenancyv1alpha1.ClassNetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"203.0.113.0/24"}}},
		RuntimeClassName: ptr.To("gvisor"),
		Placement: &tenancyv1alpha1.PlacementSpec{
			NodeSelector: map[string]tenancyv1alpha1.LabelValue{"pool": "gold", "kubernetes.io/arch": "amd64"},
			Tolerations:  []tenancyv1alpha1.Toleration{{Key: TaintDedicated, Value: "gold", Effect: corev1.TaintEffectNoSchedule}},
		},
		ExtraRoles: []tenancyv1alpha1.ExtraRole{{ClusterRole: "cert-manager-edit", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleOwners}}},
		NamespaceMetadata: &tenancyv1alpha1.NamespaceMetadata{
			Labels:      map[string]tenancyv1alpha1.LabelValue{"plan": "gold", "istio-injection": "enabled"},
			Annotations: map[string]string{"backup.example.com/schedule": "hourly"},
		},
	}}
}

func renderWithClass(t *testing.T, tenant *tenancyv1alpha1.Tenant, c *Class) *Desired {
	t.Helper()
	d, err := DesiredState(tenant, testConfig(), Observed{Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: t0, Rand: newSeededRand(), Class: c})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestClassDefaults: a tenant that sets nothing gets every default of its class; the operator's defaults still fill
// the keys the class does not set.
func TestClassDefaults(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: tenancyv1alpha1.TenantSpec{
		Owners: []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "alice@example.com"}},
	}}
	d := renderWithClass(t, tenant, goldClass())

	hard := find[*corev1.ResourceQuota](t, d, QuotaName).Spec.Hard
	if hard.Pods().String() != "50" || hard.Name(corev1.ResourceRequestsCPU, resource.DecimalSI).String() != "10" {
		t.Errorf("quota %v: want the class's pods and requests.cpu", hard)
	}
	if _, ok := hard[corev1.ResourceLimitsMemory]; !ok {
		t.Errorf("quota %v: the operator's default keys must stay", hard)
	}
	if max := find[*corev1.LimitRange](t, d, LimitRangeName).Spec.Limits[0].Max; max.Cpu().String() != "4" || max.Memory().String() != "8Gi" {
		t.Errorf("limit range max %v", max)
	}
	egress := find[*networkingv1.NetworkPolicy](t, d, PolicyEgressCIDRs)
	if got := egress.Spec.Egress[0].To[0].IPBlock.CIDR; got != "203.0.113.0/24" {
		t.Errorf("egress to %s, want the class's CIDR", got)
	}
	ns := find[*corev1.Namespace](t, d, "acme")
	for k, want := range map[string]string{
		LabelRuntimeClass: "gvisor", LabelClass: "gold", TaintDedicated: "gold", "plan": "gold", "istio-injection": "enabled",
	} {
		if ns.Labels[k] != want {
			t.Errorf("namespace label %s = %q, want %q", k, ns.Labels[k], want)
		}
	}
	if ns.Annotations["backup.example.com/schedule"] != "hourly" || ns.Annotations[AnnotationNodeSelector] != "kubernetes.io/arch=amd64,pool=gold" {
		t.Errorf("namespace annotations %v", ns.Annotations)
	}
	if got := AppliedClass(ns); got == nil || !equality.Semantic.DeepEqual(got, goldClass()) {
		t.Errorf("the namespace records the class as %+v, want %+v", got, goldClass())
	}
	rb := find[*rbacv1.RoleBinding](t, d, extraRoleBindingPrefix+"cert-manager-edit")
	if rb.RoleRef.Name != "cert-manager-edit" || len(rb.Subjects) != 1 || rb.Subjects[0].Name != "alice@example.com" {
		t.Errorf("class extra role binding %+v", rb)
	}
}

// TestTenantOverridesClassKeyByKey: each field a Tenant sets wins over its class's, key by key, and the Tenant
// given to render is left as it was.
func TestTenantOverridesClassKeyByKey(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: tenancyv1alpha1.TenantSpec{
		Owners:  []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "alice@example.com"}},
		Members: []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "bob@example.com"}},
		Quota:   &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5")}},
		Limits:  &tenancyv1alpha1.LimitsSpec{Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		Network: &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"198.51.100.0/24"}}},
		Backend: &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1", RuntimeClassName: ptr.To("kata")},
		Placement: &tenancyv1alpha1.PlacementSpec{
			NodeSelector: map[string]tenancyv1alpha1.LabelValue{"pool": "platinum"},
			Tolerations:  []tenancyv1alpha1.Toleration{{Key: TaintDedicated, Value: "platinum"}},
		},
		ExtraRoles:        []tenancyv1alpha1.ExtraRole{{ClusterRole: "cert-manager-edit", To: []tenancyv1alpha1.TenantRole{tenancyv1alpha1.TenantRoleMembers}}},
		NamespaceMetadata: &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{"plan": "gold-plus"}},
	}}
	before := tenant.DeepCopy()
	d := renderWithClass(t, tenant, goldClass())
	if !equality.Semantic.DeepEqual(tenant, before) {
		t.Error("rendering with a class changed the Tenant")
	}

	hard := find[*corev1.ResourceQuota](t, d, QuotaName).Spec.Hard
	if hard.Pods().String() != "5" || hard.Name(corev1.ResourceRequestsCPU, resource.DecimalSI).String() != "10" {
		t.Errorf("quota %v: want the tenant's pods over the class's, the class's requests.cpu", hard)
	}
	if max := find[*corev1.LimitRange](t, d, LimitRangeName).Spec.Limits[0].Max; max.Cpu().String() != "4" || max.Memory().String() != "1Gi" {
		t.Errorf("limit range max %v: want the class's cpu, the tenant's memory", max)
	}
	egress := find[*networkingv1.NetworkPolicy](t, d, PolicyEgressCIDRs)
	if n, got := len(egress.Spec.Egress[0].To), egress.Spec.Egress[0].To[0].IPBlock.CIDR; n != 1 || got != "198.51.100.0/24" {
		t.Errorf("egress to %d peers, first %s: the tenant's CIDRs replace the class's", n, got)
	}
	pod := find[*appsv1.Deployment](t, d, BackendName).Spec.Template.Spec
	if ptr.Deref(pod.RuntimeClassName, "") != "kata" {
		t.Errorf("back-end runtime class %v, want the tenant's", pod.RuntimeClassName)
	}
	if pod.NodeSelector["pool"] != "platinum" || pod.NodeSelector["kubernetes.io/arch"] != "amd64" ||
		len(pod.Tolerations) != 1 || pod.Tolerations[0].Value != "platinum" {
		t.Errorf("back-end placement %v %v: node selector merged, the tenant's tolerations only", pod.NodeSelector, pod.Tolerations)
	}
	ns := find[*corev1.Namespace](t, d, "acme")
	if ns.Labels["plan"] != "gold-plus" || ns.Labels["istio-injection"] != "enabled" || ns.Labels[LabelRuntimeClass] != "kata" || ns.Labels[TaintDedicated] != "platinum" {
		t.Errorf("namespace labels %v", ns.Labels)
	}
	rb := find[*rbacv1.RoleBinding](t, d, extraRoleBindingPrefix+"cert-manager-edit")
	if len(rb.Subjects) != 1 || rb.Subjects[0].Name != "bob@example.com" {
		t.Errorf("extra role binding subjects %+v: the tenant's entry for the role wins", rb.Subjects)
	}
}

// TestNoClassRendersAsBefore: without a class nothing changes: no class label or annotation, the same objects as a
// Tenant stored before classes existed (the golden files hold those).
func TestNoClassRendersAsBefore(t *testing.T) {
	tenant := everyField()
	without := renderWithClass(t, tenant, nil)
	ns := find[*corev1.Namespace](t, without, tenant.Spec.Namespace)
	if _, ok := ns.Labels[LabelClass]; ok {
		t.Errorf("class label without a class: %v", ns.Labels)
	}
	if _, ok := ns.Annotations[AnnotationClass]; ok {
		t.Errorf("class annotation without a class: %v", ns.Annotations)
	}
	empty := renderWithClass(t, tenant, &Class{Name: "empty", Generation: 1})
	if len(empty.Objects) != len(without.Objects) {
		t.Fatalf("an empty class renders %d objects, none %d", len(empty.Objects), len(without.Objects))
	}
	for i := range without.Objects {
		switch without.Objects[i].Obj.(type) {
		case *corev1.Namespace, *corev1.Secret: // the class's own label; key generation is not deterministic
			continue
		}
		if !equality.Semantic.DeepEqual(empty.Objects[i].Obj, without.Objects[i].Obj) {
			t.Errorf("an empty class changed %s", without.Objects[i].Obj.GetName())
		}
	}
}

func TestAppliedClassIgnoresWhatItCannotRead(t *testing.T) {
	for _, raw := range []string{"", "{", `{"generation":2}`, "null"} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationClass: raw}}}
		if c := AppliedClass(ns); c != nil {
			t.Errorf("AppliedClass(%q) = %+v, want nil", raw, c)
		}
	}
}

// TestSharedObjects: the originals marked shareable are copied, data and type, with the class's; a missing or
// unmarked one, or a Secret named as a generated one, is not, and says so; registry credentials reach the back-end.
func TestSharedObjects(t *testing.T) {
	marked := map[string]string{tenancyv1alpha1.LabelShareable: "true"}
	registry := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "registry", Labels: marked}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ca-bundle", Labels: marked}, Data: map[string]string{"ca.crt": "PEM"}}
	unmarked := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tenant-operator-ca"}, Data: map[string][]byte{"tls.key": []byte("k")}}
	generated := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: marked}}
	originals := map[string]client.Object{
		SharedKey(tenancyv1alpha1.SharedSecret, "registry"): registry, SharedKey(tenancyv1alpha1.SharedConfigMap, "ca-bundle"): bundle,
		SharedKey(tenancyv1alpha1.SharedSecret, "tenant-operator-ca"): unmarked, SharedKey(tenancyv1alpha1.SharedSecret, "db"): generated,
	}
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: tenancyv1alpha1.TenantSpec{
		Backend: &tenancyv1alpha1.BackendSpec{Image: "registry.example.com/api:1"},
		Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
		SharedObjects: []tenancyv1alpha1.SharedObject{
			{Kind: tenancyv1alpha1.SharedSecret, Name: "registry"}, {Kind: tenancyv1alpha1.SharedSecret, Name: "tenant-operator-ca"},
			{Kind: tenancyv1alpha1.SharedSecret, Name: "missing"},
		},
	}}
	class := &Class{Name: "gold", Generation: 1, Spec: tenancyv1alpha1.TenantClassSpec{SharedObjects: []tenancyv1alpha1.SharedObject{
		{Kind: tenancyv1alpha1.SharedConfigMap, Name: "ca-bundle"}, {Kind: tenancyv1alpha1.SharedSecret, Name: "registry"},
		{Kind: tenancyv1alpha1.SharedSecret, Name: "db"},
	}}}
	d, err := DesiredState(tenant, testConfig(), Observed{Secrets: map[string]*corev1.Secret{}, CA: testCA, Now: t0, Rand: newSeededRand(),
		Class: class, Shared: originals})
	if err != nil {
		t.Fatal(err)
	}
	secret := find[*corev1.Secret](t, d, "registry")
	if secret.Namespace != "acme" || secret.Type != corev1.SecretTypeDockerConfigJson || string(secret.Data[corev1.DockerConfigJsonKey]) != `{"auths":{}}` ||
		secret.Labels[LabelComponent] != ComponentShared || secret.Labels[LabelManagedBy] != ManagedByValue ||
		secret.Annotations[AnnotationSharedFrom] != testConfig().OperatorNamespace+"/registry" {
		t.Errorf("copy of the registry Secret: %+v", secret)
	}
	if cm := find[*corev1.ConfigMap](t, d, "ca-bundle"); cm.Data["ca.crt"] != "PEM" || cm.Namespace != "acme" {
		t.Errorf("copy of the class's ConfigMap: %+v", cm)
	}
	copies := 0
	for _, o := range d.Objects {
		if o.Obj.GetLabels()[LabelComponent] == ComponentShared {
			copies++
		}
	}
	if copies != 2 {
		t.Errorf("%d copies, want the registry Secret and the CA bundle only", copies)
	}
	if got := find[*appsv1.Deployment](t, d, BackendName).Spec.Template.Spec.ImagePullSecrets; len(got) != 1 || got[0].Name != "registry" {
		t.Errorf("back-end imagePullSecrets %v", got)
	}
	if len(d.Refused) != 1 || d.Refused[0].Reason != tenancyv1alpha1.ReasonSharedObjectUnavailable ||
		d.Refused[0].Message != "Shared objects not copied: Secret/db, Secret/tenant-operator-ca, Secret/missing (each must exist in namespace "+
			testConfig().OperatorNamespace+", labelled tenancy.tenant-operator.dev/shareable=true, and a Secret must not be named as one of the operator's own)" {
		t.Errorf("refused %+v", d.Refused)
	}
}
