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

package controllers

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

func newTenant(name string, mutate ...func(*tenancyv1alpha1.Tenant)) *tenancyv1alpha1.Tenant {
	t := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}}
	t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:" + name + "-admins"}}
	t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyDelete
	for _, m := range mutate {
		m(t)
	}
	return t
}

func withBackend(t *tenancyv1alpha1.Tenant) {
	t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "example.com/api:1", Replicas: ptr.To[int32](2)}
	t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "db", RotationPeriod: &metav1.Duration{Duration: 24 * time.Hour}}}
}

// createTenant creates a Tenant and deletes it (and waits for it to go) when the test ends.
func createTenant(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) {
	t.Helper()
	if err := k8s.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = k8s.Delete(ctx, tenant)
		_ = waitGone(ctx, tenant)
	})
}

func waitGone(ctx context.Context, obj client.Object) error {
	for {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still exists", obj.GetName())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitForCondition waits until the tenant's condition has the given status and reason, at the current generation.
func waitForCondition(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tenant %s status: %+v", tenant.Name, tenant.Status)
		}
	})
	eventually(ctx, t, fmt.Sprintf("tenant %s condition %s=%s (%s)", tenant.Name, typ, status, reason), func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(tenant.Status.Conditions, typ)
		return tenant.Status.ObservedGeneration == tenant.Generation && c != nil && c.Status == status && (reason == "" || c.Reason == reason), nil
	})
}

// simulateBackendReady plays the kubelet: it marks the back-end's Deployment as fully available.
func simulateBackendReady(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) {
	t.Helper()
	d := &appsv1.Deployment{}
	eventually(ctx, t, "back-end deployment created", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: render.TenantNamespace(tenant), Name: render.BackendName}, d)
		return err == nil, client.IgnoreNotFound(err)
	})
	eventually(ctx, t, "back-end status simulated", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return false, err
		}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		err := k8s.Status().Update(ctx, d)
		return err == nil, client.IgnoreAlreadyExists(ignoreConflict(err))
	})
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func TestProvisioningToReady(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("prov", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"other"}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionQuotaEnforced, metav1.ConditionTrue, "")
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionBackendReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonBackendUnavailable)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseProvisioning {
		t.Errorf("phase = %s before the back-end is ready, want Provisioning", tenant.Status.Phase)
	}
	simulateBackendReady(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseReady || tenant.Status.Backend.Ready != "2/2" ||
		len(tenant.Status.Secrets) != 1 || tenant.Status.Secrets[0].LastRotationTime.IsZero() {
		t.Errorf("status = %+v", tenant.Status)
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "prov"}, ns); err != nil || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %v: %v", ns.Labels, err)
	}
	// Every object the golden files describe exists.
	for _, obj := range []client.Object{
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: render.PolicyDefaultDeny}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "allow-from-tenant-other"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: render.BindingOwners}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: render.QuotaName}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: render.LimitRangeName}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: render.BackendName}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: render.TLSSecretName}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: render.EncryptionKeyName}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: render.BackendName}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: render.BackendName}},
	} {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "prov", Name: obj.GetName()}, obj); err != nil {
			t.Errorf("%T %s: %v", obj, obj.GetName(), err)
		}
	}
	// The operator never writes the spec. Its writes (finalizer, status) are recorded under its own field manager,
	// which the test's client does not use, so its entries are there to look at and none holds a spec field.
	var operatorEntries int
	for _, mf := range tenant.ManagedFields {
		if mf.Manager != FieldOwner {
			continue
		}
		operatorEntries++
		if mf.Subresource == "" && strings.Contains(mf.FieldsV1.GetRawString(), "f:spec") {
			t.Errorf("the operator wrote the Tenant's spec: %s", mf.FieldsV1.GetRawString())
		}
	}
	if operatorEntries == 0 {
		t.Errorf("no managed-fields entry of the operator's on the Tenant (%d entries): its writes cannot be told apart", len(tenant.ManagedFields))
	}
}

// secretValues reads the values of the named Secrets, which exist nowhere else, and returns them with a check that
// waits until a Secret holds them again (not fresh ones).
func secretValues(ctx context.Context, t *testing.T, ns string, names ...string) (map[string]map[string][]byte, func(*testing.T, string)) {
	t.Helper()
	values := map[string]map[string][]byte{}
	for _, name := range names {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			t.Fatal(err)
		}
		values[name] = s.Data
	}
	return values, func(t *testing.T, name string) {
		t.Helper()
		eventually(ctx, t, "Secret "+name+" holds its values again", func(ctx context.Context) (bool, error) {
			s := &corev1.Secret{}
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
			return err == nil && reflect.DeepEqual(s.Data, values[name]), client.IgnoreNotFound(err)
		})
	}
}

func TestDriftIsRepaired(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("drift", withBackend)
	createTenant(ctx, t, tenant)
	simulateBackendReady(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
	ns := "drift"
	// Counters are process-wide and other tests correct drift too: compare with where they stood.
	corrected := map[string]float64{}
	for _, kind := range []string{"NetworkPolicy", "Namespace", "Secret", "Deployment"} {
		corrected[kind] = testutil.ToFloat64(driftCorrections.WithLabelValues(kind))
	}
	values, restored := secretValues(ctx, t, ns, render.EncryptionKeyName, "db")
	for _, obj := range []client.Object{
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.PolicyDefaultDeny}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.BindingOwners}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: render.OwnerAccessName(tenant)}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: render.OwnerAccessName(tenant)}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.QuotaName}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.LimitRangeName}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.BackendName}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.EncryptionKeyName}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.BackendName}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.BackendName}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.BackendName}},
	} {
		t.Run("deleted "+kindOf(obj), func(t *testing.T) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				t.Fatal(err)
			}
			uid := obj.GetUID()
			if err := k8s.Delete(ctx, obj); err != nil {
				t.Fatal(err)
			}
			eventually(ctx, t, "recreated", func(ctx context.Context) (bool, error) {
				err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
				return err == nil && obj.GetUID() != uid, client.IgnoreNotFound(err)
			})
			if obj.GetName() == render.EncryptionKeyName {
				restored(t, render.EncryptionKeyName)
			}
		})
	}
	t.Run("overwritten Secret value of the same length", func(t *testing.T) {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, s); err != nil {
			t.Fatal(err)
		}
		s.Data["password"] = bytes.Repeat([]byte("k"), len(values["db"]["password"]))
		if err := k8s.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
		restored(t, "db")
	})
	simulateBackendReady(ctx, t, tenant)
	t.Run("edited NetworkPolicy", func(t *testing.T) {
		np := &networkingv1.NetworkPolicy{}
		key := client.ObjectKey{Namespace: ns, Name: render.PolicyDefaultDeny}
		if err := k8s.Get(ctx, key, np); err != nil {
			t.Fatal(err)
		}
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if err := k8s.Update(ctx, np); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "egress denial restored", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, key, np)
			return err == nil && len(np.Spec.PolicyTypes) == 2, err
		})
	})
	t.Run("edited namespace label", func(t *testing.T) {
		nsObj := &corev1.Namespace{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: ns}, nsObj); err != nil {
			t.Fatal(err)
		}
		nsObj.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
		if err := k8s.Update(ctx, nsObj); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "restricted restored", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKey{Name: ns}, nsObj)
			return err == nil && nsObj.Labels["pod-security.kubernetes.io/enforce"] == "restricted", err
		})
	})
	// The operator counts a correction once its apply has returned: the test may see the object restored first.
	for _, kind := range []string{"NetworkPolicy", "Namespace", "Secret", "Deployment"} {
		eventually(ctx, t, "a drift correction counted for "+kind, func(context.Context) (bool, error) {
			return testutil.ToFloat64(driftCorrections.WithLabelValues(kind)) > corrected[kind], nil
		})
	}
	waitForEvent(ctx, t, "Tenant", "drift", "DriftCorrected", "NetworkPolicy drift/"+render.PolicyDefaultDeny)
}

// TestFieldsOthersAddAreRemoved: fields someone else adds to the operator's objects are not the operator's, and
// server-side apply alone would leave them in place; labels others may add stay.
func TestFieldsOthersAddAreRemoved(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("intruded", withBackend)
	createTenant(ctx, t, tenant)
	simulateBackendReady(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
	ns := "intruded"
	before := testutil.ToFloat64(driftCorrections.WithLabelValues("NetworkPolicy"))
	_, restored := secretValues(ctx, t, ns, "db")
	intruder := client.FieldOwner("intruder")
	t.Run("a label someone else adds to the namespace stays", func(t *testing.T) {
		patch := []byte(`{"metadata":{"labels":{"team":"payments"}}}`)
		if err := k8s.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, client.RawPatch(types.MergePatchType, patch), intruder); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a rule someone else adds to default-deny", func(t *testing.T) {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.PolicyDefaultDeny}}
		patch := []byte(`{"spec":{"ingress":[{}]}}`)
		if err := k8s.Patch(ctx, np, client.RawPatch(types.MergePatchType, patch), intruder); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "the allow-all rule removed", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(np), np)
			return err == nil && np.Spec.Ingress == nil && len(np.Spec.PolicyTypes) == 2, err
		})
	})
	t.Run("a key someone else adds to a generated Secret", func(t *testing.T) {
		patch := []byte(`{"data":{"backdoor":"b3Blbg=="}}`)
		if err := k8s.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}}, client.RawPatch(types.MergePatchType, patch), intruder); err != nil {
			t.Fatal(err)
		}
		restored(t, "db")
	})
	t.Run("a container someone else adds to the back-end", func(t *testing.T) {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.BackendName}}
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"registry.example/sidecar:1"}]}}}}`)
		if err := k8s.Patch(ctx, d, client.RawPatch(types.StrategicMergePatchType, patch), intruder); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "the sidecar removed", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d)
			return err == nil && len(d.Spec.Template.Spec.Containers) == 1 && d.Spec.Template.Spec.Containers[0].Name == render.BackendName, err
		})
		nsObj := &corev1.Namespace{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: ns}, nsObj); err != nil {
			t.Fatal(err)
		}
		if nsObj.Labels["team"] != "payments" {
			t.Errorf("a label others may add was removed: %v", nsObj.Labels)
		}
	})
	eventually(ctx, t, "a drift correction counted", func(context.Context) (bool, error) {
		return testutil.ToFloat64(driftCorrections.WithLabelValues("NetworkPolicy")) > before, nil
	})
	waitForEvent(ctx, t, "Tenant", "intruded", "DriftCorrected", "NetworkPolicy intruded/"+render.PolicyDefaultDeny)
}

func TestPruning(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("prune", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"friend"}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionTrue, "")
	// Something the tenant created itself, with no operator labels, must survive pruning.
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: "mine"}, StringData: map[string]string{"k": "v"}}
	if err := k8s.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatal(err)
	}
	tenant.Spec.Backend = nil
	tenant.Spec.Secrets = nil
	tenant.Spec.Network = nil
	tenant.Spec.Owners = nil
	if err := k8s.Update(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: render.BackendName}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: render.BackendName}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: render.BackendName}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: "db"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: render.TLSSecretName}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: "allow-from-tenant-friend"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "prune", Name: render.BindingOwners}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: render.OwnerAccessName(tenant)}},
	} {
		eventually(ctx, t, "pruned "+kindOf(obj)+" "+obj.GetName(), func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(own), own); err != nil {
		t.Errorf("the tenant's own Secret was touched: %v", err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "prune", Name: render.EncryptionKeyName}, &corev1.Secret{}); err != nil {
		t.Errorf("the encryption key ring must stay: %v", err)
	}
}

func TestNamespaceConflict(t *testing.T) {
	ctx := needCluster(t)
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "taken", Labels: map[string]string{"team": "db"}}}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	data := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "taken", Name: "precious"}, Data: map[string]string{"k": "v"}}
	if err := k8s.Create(ctx, data); err != nil {
		t.Fatal(err)
	}
	tenant := newTenant("squatter", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "taken" })
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonNamespaceConflict)
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseFailed {
		t.Errorf("phase = %s, want Failed", tenant.Status.Phase)
	}
	// The TenantNotReady and TenantReconcileErrors alerts see it.
	if testutil.ToFloat64(tenantPhase.WithLabelValues("squatter", string(tenancyv1alpha1.TenantPhaseFailed))) != 1 ||
		testutil.ToFloat64(reconcileErrors.WithLabelValues(tenancyv1alpha1.ReasonNamespaceConflict)) == 0 {
		t.Error("the failed tenant is missing from tenant_operator_tenant_phase or tenant_operator_reconcile_errors_total")
	}
	// kubectl get tenants -o wide says why, from the CRD's printer columns.
	if out, err := cluster.Kubectl(ctx, nil, "get", "tenant", "squatter", "-o", "wide"); err != nil ||
		!regexp.MustCompile(`(?m)^squatter\s+taken\s+Failed\s+False\s+NamespaceConflict\s+namespace taken`).Match(out) {
		t.Errorf("kubectl get tenant -o wide does not show the failed condition's reason and message: %v\n%s", err, out)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(foreign), foreign); err != nil || len(foreign.Labels) != 2 || foreign.Labels[render.LabelManagedBy] != "" {
		t.Errorf("the foreign namespace was modified: %v %v", foreign.Labels, err)
	}
	var nps networkingv1.NetworkPolicyList
	if err := k8s.List(ctx, &nps, client.InNamespace("taken")); err != nil || len(nps.Items) != 0 {
		t.Errorf("policies were created in a foreign namespace: %d %v", len(nps.Items), err)
	}
	// Above all, nobody got access to it.
	var rbs rbacv1.RoleBindingList
	if err := k8s.List(ctx, &rbs, client.InNamespace("taken")); err != nil || len(rbs.Items) != 0 {
		t.Errorf("RoleBindings were created in a foreign namespace: %d %v", len(rbs.Items), err)
	}
	// A second tenant claiming a namespace the first one owns conflicts too.
	owner := newTenant("first-owner", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "shared" })
	createTenant(ctx, t, owner)
	waitForCondition(ctx, t, owner, tenancyv1alpha1.ConditionNamespaceReady, metav1.ConditionTrue, "")
	thief := newTenant("second-claim", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "shared" })
	createTenant(ctx, t, thief)
	waitForCondition(ctx, t, thief, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonNamespaceConflict)
	if c := meta.FindStatusCondition(thief.Status.Conditions, tenancyv1alpha1.ConditionReady); !strings.Contains(c.Message, "Tenant first-owner") {
		t.Errorf("message should name the owning tenant: %s", c.Message)
	}
	checkNoAccessFor(ctx, t, "shared", thief.Spec.Owners[0].Name)
	// Deleting the conflicting tenant leaves the namespace and its data alone, even with deletionPolicy Delete.
	if err := k8s.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(data), data); err != nil {
		t.Errorf("data in the foreign namespace was lost: %v", err)
	}
}

// checkNoAccessFor: no RoleBinding in ns names subject.
func checkNoAccessFor(ctx context.Context, t *testing.T, ns, subject string) {
	t.Helper()
	var rbs rbacv1.RoleBindingList
	if err := k8s.List(ctx, &rbs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, rb := range rbs.Items {
		for _, s := range rb.Subjects {
			if s.Name == subject {
				t.Errorf("%s got access to namespace %s: RoleBinding %s", subject, ns, rb.Name)
			}
		}
	}
}

func TestReservedNamespace(t *testing.T) {
	ctx := needCluster(t)
	for _, ns := range []string{testOperatorNamespace, "ingress-nginx", "monitoring"} {
		t.Run(ns, func(t *testing.T) {
			tenant := newTenant("sneaky-"+ns, func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = ns })
			createTenant(ctx, t, tenant)
			waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonReservedNamespace)
			if err := k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}); ns != testOperatorNamespace && !apierrors.IsNotFound(err) {
				t.Errorf("namespace %s was created for the tenant: %v", ns, err)
			}
		})
	}
}

// TestReservedNamespaces: the namespaces of the shared components the operator is configured with belong to no
// tenant; the message names the component.
func TestReservedNamespaces(t *testing.T) {
	cfg := render.DefaultConfig()
	cfg.OperatorNamespace = "ops"
	cfg.IngressNamespaces = []string{"ingress-nginx", "gateway"}
	cfg.DNSNamespace = "dns"
	cfg.ReservedNamespaces = []string{"monitoring", "logging"}
	for _, tc := range []struct {
		namespace, want string
	}{
		{"ops", "namespace ops is the operator's own and cannot belong to a tenant"},
		{"gateway", "namespace gateway is the ingress controllers' and cannot belong to a tenant"},
		{"dns", "namespace dns is the cluster DNS's and cannot belong to a tenant"},
		{"logging", "namespace logging is reserved by the operator's configuration (--reserved-namespaces) and cannot belong to a tenant"},
		{"acme", ""},
		{"ingress", ""},
	} {
		p := reservedNamespace(tc.namespace, cfg)
		switch {
		case tc.want == "" && p != nil:
			t.Errorf("%s refused: %+v", tc.namespace, p)
		case tc.want != "" && (p == nil || p.Reason != tenancyv1alpha1.ReasonReservedNamespace || p.Message != tc.want):
			t.Errorf("%s: %+v, want %s: %s", tc.namespace, p, tenancyv1alpha1.ReasonReservedNamespace, tc.want)
		}
	}
	if p := reservedNamespace("monitoring", render.DefaultConfig()); p == nil {
		t.Error("monitoring is reserved by default")
	}
}

// TestForbiddenEgressCIDR: allowedCIDRs in the cluster's own ranges are left out of the applied policy, and the
// tenant says why.
func TestForbiddenEgressCIDR(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("cidrs", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"10.96.0.0/12", "203.0.113.0/24"}}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionNetworkIsolated, metav1.ConditionFalse, tenancyv1alpha1.ReasonForbiddenCIDR)
	if c := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionNetworkIsolated); !strings.Contains(c.Message, "10.96.0.0/12 (overlaps 10.0.0.0/8)") {
		t.Errorf("message should name the CIDR: %s", c.Message)
	}
	if tenant.Status.Phase != tenancyv1alpha1.TenantPhaseFailed {
		t.Errorf("phase = %s, want Failed", tenant.Status.Phase)
	}
	np := &networkingv1.NetworkPolicy{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "cidrs", Name: render.PolicyEgressCIDRs}, np); err != nil {
		t.Fatal(err)
	}
	if to := np.Spec.Egress[0].To; len(to) != 1 || to[0].IPBlock.CIDR != "203.0.113.0/24" {
		t.Errorf("%s opens %+v, want 203.0.113.0/24 only", render.PolicyEgressCIDRs, to)
	}
	// Dropping the CIDR clears the failure.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatal(err)
	}
	tenant.Spec.Network.Egress.AllowedCIDRs = []string{"203.0.113.0/24"}
	if err := k8s.Update(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady)
}

func TestDeletionPolicyDelete(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("gone")
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionNamespaceReady, metav1.ConditionTrue, "")
	if err := k8s.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	// The finalizer held the Tenant until its namespace was gone.
	if err := k8s.Get(ctx, client.ObjectKey{Name: "gone"}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace still exists after the Tenant is gone: %v", err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Name: render.OwnerAccessName(tenant)}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("owner ClusterRole left behind: %v", err)
	}
}

// impersonating is a client acting as user (in groups), as the cluster's authenticator would report them.
func impersonating(t *testing.T, user string, groups ...string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append([]string{"system:authenticated"}, groups...)}
	c, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeletionPolicyRetainAndTakeBack: Retain keeps the data and ends every access granted through the tenant,
// asserted as access (the owner, and a colleague the owner bound, are refused), not as the objects the code
// happens to delete; a new Tenant of the same name takes the namespace only when the admin says so.
func TestDeletionPolicyRetainAndTakeBack(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("kept", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyRetain
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "olivia@kept.example"}}
	})
	createTenant(ctx, t, tenant)
	simulateBackendReady(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
	owner, carol := impersonating(t, "olivia@kept.example"), impersonating(t, "carol@kept.example")
	data := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kept", Name: "customer-data"}, Data: map[string]string{"k": "v"}}
	if err := owner.Create(ctx, data); err != nil {
		t.Fatal(err)
	}
	grants := grantAccessInside(ctx, t, owner, "kept", "carol@kept.example")
	if err := carol.List(ctx, &corev1.ConfigMapList{}, client.InNamespace("kept")); err != nil {
		t.Fatalf("the colleague's access before Retain: %v", err)
	}

	if err := k8s.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "kept"}, ns); err != nil || ns.Annotations[render.AnnotationRetained] != "true" {
		t.Fatalf("namespace not retained: %v %v", ns.Annotations, err)
	}
	for who, c := range map[string]client.Client{"the owner": owner, "the colleague the owner bound": carol} {
		if err := c.List(ctx, &corev1.ConfigMapList{}, client.InNamespace("kept")); !apierrors.IsForbidden(err) {
			t.Errorf("%s can still read the retained namespace (err %v)", who, err)
		}
	}
	for _, gone := range grants {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(gone), gone); !apierrors.IsNotFound(err) && gone.GetDeletionTimestamp().IsZero() {
			t.Errorf("%T %s outlived Retain (err %v)", gone, gone.GetName(), err)
		}
	}
	checkRetainedLockedDown(ctx, t, "kept", data)

	namesakeInheritsNothing(ctx, t, data)

	// The admin's explicit decision takes it back.
	again := newTenant("kept", withBackend, func(t *tenancyv1alpha1.Tenant) { t.Spec.AdoptRetainedNamespace = true })
	createTenant(ctx, t, again)
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, "")
	if err := k8s.Get(ctx, client.ObjectKey{Name: "kept"}, ns); err != nil || ns.Annotations[render.AnnotationRetained] != "" {
		t.Errorf("retained mark not cleared on take-back: %v %v", ns.Annotations, err)
	}
	quota, d := &corev1.ResourceQuota{}, &appsv1.Deployment{}
	eventually(ctx, t, "back-end scaled back up and pods allowed again", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "kept", Name: render.QuotaName}, quota); err != nil || quota.Spec.Hard.Pods().IsZero() {
			return false, err
		}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: "kept", Name: render.BackendName}, d)
		return err == nil && *d.Spec.Replicas == 2, err
	})
}

// namesakeInheritsNothing: a new Tenant that merely shares the name of the deleted one whose namespace "kept" is
// retained does not inherit its data, keys and namespace, and deleting it, deletionPolicy Delete and all, deletes
// nothing of the namespace it never adopted.
func namesakeInheritsNothing(ctx context.Context, t *testing.T, data *corev1.ConfigMap) {
	t.Helper()
	ns := &corev1.Namespace{}
	again := newTenant("kept", withBackend, func(t *tenancyv1alpha1.Tenant) { t.Spec.DeletionPolicy = tenancyv1alpha1.DeletionPolicyDelete })
	createTenant(ctx, t, again)
	waitForCondition(ctx, t, again, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonNamespaceRetained)
	if err := k8s.Get(ctx, client.ObjectKey{Name: "kept"}, ns); err != nil || ns.Annotations[render.AnnotationRetained] != "true" {
		t.Errorf("the retained namespace was touched without adoptRetainedNamespace: %v %v", ns.Annotations, err)
	}
	// Deleting that Tenant, deletionPolicy Delete and all, deletes nothing of the namespace it never adopted.
	if err := k8s.Delete(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := waitGone(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "kept"}, ns); err != nil || !ns.DeletionTimestamp.IsZero() || ns.Annotations[render.AnnotationRetained] != "true" {
		t.Fatalf("the retained namespace after a namesake's deletion: deleted at %v, annotations %v, err %v", ns.DeletionTimestamp, ns.Annotations, err)
	}
	checkRetainedLockedDown(ctx, t, "kept", data)
}

// grantAccessInside sets up, in namespace ns, what a tenant's people grant themselves and others: the owner binds
// colleague, creates a ServiceAccount with a never-expiring token Secret (made by a cluster admin: the guardrails
// refuse tenants those), and runs a pod. It returns what must not outlive the tenant's access.
func grantAccessInside(ctx context.Context, t *testing.T, owner client.Client, ns, colleague string) []client.Object {
	t.Helper()
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "colleague"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantDeveloperRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: colleague}},
	}
	robot := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "robot"}}
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "robot-token",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "robot"}}, Type: corev1.SecretTypeServiceAccountToken}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "worker"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "w", Image: "registry.example/w:1", ImagePullPolicy: corev1.PullAlways, SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}}
	for _, step := range []struct {
		c   client.Client
		obj client.Object
	}{{owner, binding}, {owner, robot}, {k8s, token}, {owner, pod}} {
		if err := step.c.Create(ctx, step.obj); err != nil {
			t.Fatal(err)
		}
	}
	return []client.Object{binding, robot, token, pod}
}

// checkRetainedLockedDown: a retained namespace keeps its data and its isolation, runs nothing and allows no pods.
func checkRetainedLockedDown(ctx context.Context, t *testing.T, ns string, data *corev1.ConfigMap) {
	t.Helper()
	checkStopped(ctx, t, ns, "a retained namespace")
	kept := &corev1.ConfigMap{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(data), kept); err != nil || kept.Data["k"] != data.Data["k"] {
		t.Errorf("data lost: %v", err)
	}
	var nps networkingv1.NetworkPolicyList
	if err := k8s.List(ctx, &nps, client.InNamespace(ns)); err != nil || len(nps.Items) == 0 {
		t.Errorf("a retained namespace must stay isolated: %d policies (%v)", len(nps.Items), err)
	}
}

// checkStopped: namespace ns (what) allows no pods and its back-end is scaled to zero.
func checkStopped(ctx context.Context, t *testing.T, ns, what string) {
	t.Helper()
	quota := &corev1.ResourceQuota{}
	err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.QuotaName}, quota)
	if pods, limited := quota.Spec.Hard[corev1.ResourcePods]; err != nil || !limited || !pods.IsZero() {
		t.Errorf("%s must allow no pods: quota %v (%v)", what, quota.Spec.Hard, err)
	}
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.BackendName}, d); err != nil || *d.Spec.Replicas != 0 {
		t.Errorf("%s: back-end not scaled to zero: %v", what, err)
	}
}

// TestGrantsEndWithTheGrantorsOwnership: a RoleBinding an owner made (recorded by the grant-tracking admission
// policy) is deleted when the Tenant drops that owner; another owner's grant stays.
func TestGrantsEndWithTheGrantorsOwnership(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("granting", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "leaving@granting.example"},
			{Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:granting-admins"}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionTrue, "")
	bind := func(c client.Client, name, user string) *rbacv1.RoleBinding {
		t.Helper()
		b := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "granting", Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantDeveloperRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		}
		if err := c.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	leaving := bind(impersonating(t, "leaving@granting.example"), "second-account", "leaving-too@granting.example")
	if leaving.Annotations[AnnotationGrantedBy] != "leaving@granting.example" {
		t.Fatalf("the grant-tracking policy did not record the grantor: %v", leaving.Annotations)
	}
	staying := bind(impersonating(t, "stays@granting.example", "sso:granting-admins"), "colleague", "colleague@granting.example")
	byAdmin := bind(k8s, "by-cluster-admin", "auditor@granting.example")

	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType,
		[]byte(`{"spec":{"owners":[{"kind":"Group","name":"sso:granting-admins"}]}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the former owner's grant revoked", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(leaving), &rbacv1.RoleBinding{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	for _, kept := range []*rbacv1.RoleBinding{staying, byAdmin} {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(kept), &rbacv1.RoleBinding{}); err != nil {
			t.Errorf("RoleBinding %s: %v", kept.Name, err)
		}
	}
}

func TestSecretAndCertificateRotation(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("rotate", withBackend)
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionTrue, "")
	get := func(name string) *corev1.Secret {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "rotate", Name: name}, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	db, tls := get("db"), get(render.TLSSecretName)
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "rotate", Name: render.BackendName}, d); err != nil {
		t.Fatal(err)
	}
	version := d.Spec.Template.Annotations[render.AnnotationSecretsVersion]

	// 25 hours later the db secret (24h period) is due; 61 days later the 90-day certificate is too.
	testClock.Advance(61 * 24 * time.Hour)
	defer testClock.Advance(-61 * 24 * time.Hour)
	// Any change to the tenant triggers a reconcile now; the requeue would also come, after the real delay.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatal(err)
	}
	tenant.Spec.DisplayName = "rotated"
	if err := k8s.Update(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "db secret and certificate rotated", func(context.Context) (bool, error) {
		newDB, newTLS := get("db"), get(render.TLSSecretName)
		return !bytes.Equal(newDB.Data["password"], db.Data["password"]) && !bytes.Equal(newTLS.Data["tls.crt"], tls.Data["tls.crt"]), nil
	})
	eventually(ctx, t, "pods rolled", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d)
		return err == nil && d.Spec.Template.Annotations[render.AnnotationSecretsVersion] != version, err
	})
	// Secret values never appear in status or Events.
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionTrue, "")
	var evs eventsv1.EventList
	if err := k8s.List(ctx, &evs, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	status := fmt.Sprintf("%+v", tenant.Status)
	for _, v := range [][]byte{get("db").Data["password"], db.Data["password"]} {
		if strings.Contains(status, string(v)) {
			t.Error("a secret value appears in status")
		}
		for _, e := range evs.Items {
			if strings.Contains(e.Note, string(v)) {
				t.Errorf("a secret value appears in event %s", e.Name)
			}
		}
	}
}

func TestCELValidation(t *testing.T) {
	ctx := needCluster(t)
	tests := []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		want   string
	}{
		{"placement tolerating the control plane", newTenant("cp1", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Placement = &tenancyv1alpha1.PlacementSpec{Tolerations: []tenancyv1alpha1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists}}}
		}), "never tolerated"},
		{"placement tolerating every dedicated pool", newTenant("cp2", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Placement = &tenancyv1alpha1.PlacementSpec{Tolerations: []tenancyv1alpha1.Toleration{{Key: render.TaintDedicated, Operator: corev1.TolerationOpExists}}}
		}), "for one pool"},
		{"placement tolerating two dedicated pools", newTenant("cp3", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Placement = &tenancyv1alpha1.PlacementSpec{Tolerations: []tenancyv1alpha1.Toleration{
				{Key: render.TaintDedicated, Value: "gold"}, {Key: render.TaintDedicated, Value: "silver"}}}
		}), "one dedicated pool at most"},
		{"placement with a bad node selector key", newTenant("cp4", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Placement = &tenancyv1alpha1.PlacementSpec{NodeSelector: map[string]tenancyv1alpha1.LabelValue{"a,b=c": "x"}}
		}), "node selector keys are label keys"},
		{"reserved namespace default", newTenant("c1", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "default" }), "reserved"},
		{"reserved namespace kube-*", newTenant("c2", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "kube-public" }), "reserved"},
		{"reserved tenant name without namespace", newTenant("kube-x"), "reserved"},
		{"tenant name not a namespace name", newTenant("a.b"), "valid namespace name"},
		{"tenant name too long for a label", newTenant(strings.Repeat("n", 64), func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "long" }), "at most 63"},
		{"bad namespace", newTenant("c3", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "Not_Valid" }), "spec.namespace"},
		{"service account without namespace", newTenant("c4", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Members = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "ci"}}
		}), "namespace is required for ServiceAccount"},
		{"user with namespace", newTenant("c5", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "bob", Namespace: "x"}}
		}), "not allowed for User and Group"},
		{"bad subject kind", newTenant("c6", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: "Robot", Name: "r2"}}
		}), "Unsupported value"},
		{"privileged port", newTenant("c7", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x", Port: ptr.To[int32](80)}
		}), "spec.backend.port"},
		{"backend without image", newTenant("c8", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{}
		}), "spec.backend.image"},
		{"reserved env", newTenant("c9", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x", Env: []tenancyv1alpha1.EnvVar{{Name: "TENANT_NAME", Value: "spoof"}}}
		}), "set by the operator"},
		{"bad CIDR", newTenant("c10", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"10.0.0.300/8"}}}
		}), "must be a CIDR"},
		{"secret too short", newTenant("c11", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "s", Length: ptr.To[int32](8)}}
		}), "spec.secrets[0].length"},
		{"secret too long", newTenant("c12", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "s", Length: ptr.To[int32](257)}}
		}), "spec.secrets[0].length"},
		{"reserved secret name", newTenant("c13", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "backend-tls"}}
		}), "reserved"},
		{"rotation too frequent", newTenant("c14", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: "s", RotationPeriod: &metav1.Duration{Duration: time.Minute}}}
		}), "at least 1h"},
		{"bad deletion policy", newTenant("c15", func(t *tenancyv1alpha1.Tenant) { t.Spec.DeletionPolicy = "Shred" }), "Unsupported value"},
		{"system: user", newTenant("c16", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "system:kube-controller-manager"}}
		}), "reserved for the cluster's own identities"},
		{"system: group", newTenant("c17", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "system:authenticated"}}
		}), "reserved for the cluster's own identities"},
		{"kube-* service account", newTenant("c18", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Members = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "default", Namespace: "kube-system"}}
		}), "kube-* namespaces"},
		{"link-local CIDR", newTenant("c19", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"169.254.169.254/32"}}}
		}), "link-local"},
		{"CIDR covering link-local", newTenant("c20", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"128.0.0.0/1"}}}
		}), "link-local"},
		{"IPv6 link-local CIDR", newTenant("c21", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"fe80::/64"}}}
		}), "link-local"},
		{"runtimeClassName too long for a label", newTenant("c22", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x", RuntimeClassName: ptr.To(strings.Repeat("g", 64))}
		}), "spec.backend.runtimeClassName"},
		{"runtimeClassName not a label value", newTenant("c23", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x", RuntimeClassName: ptr.To("gvisor/runsc")}
		}), "spec.backend.runtimeClassName"},
		{"namespace label of Pod Security", newTenant("c24", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{"pod-security.kubernetes.io/enforce": "privileged"}}
		}), "decide how the namespace is isolated"},
		{"namespace name label", newTenant("c25", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{"kubernetes.io/metadata.name": "ingress-nginx"}}
		}), "decide how the namespace is isolated"},
		{"namespace label of the operator", newTenant("c26", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{render.LabelTenant: "globex"}}
		}), "decide how the namespace is isolated"},
		{"namespace managed-by label", newTenant("c27", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{render.LabelManagedBy: "helm"}}
		}), "decide how the namespace is isolated"},
		{"namespace annotation of the operator", newTenant("c28", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Annotations: map[string]string{"tenancy.tenant-operator.dev/retained": "true"}}
		}), "the cluster's and the operator's"},
		{"namespace label value", newTenant("c29", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{"team": "a b"}}
		}), "spec.namespaceMetadata.labels.team"},
		{"namespace label key", newTenant("c30", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{Labels: map[string]tenancyv1alpha1.LabelValue{"Example.com/team": "a"}}
		}), "label keys are a DNS prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := k8s.Create(ctx, tt.tenant)
			if err == nil {
				_ = k8s.Delete(ctx, tt.tenant)
				t.Fatalf("accepted; want a rejection mentioning %q", tt.want)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want Invalid mentioning %q", err, tt.want)
			}
		})
	}
	// The rules above refuse only what they mean to: the ordinary inputs next to them are accepted.
	t.Run("legitimate input accepted", func(t *testing.T) {
		tenant := newTenant("c-ok", func(t *tenancyv1alpha1.Tenant) {
			t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "systems-admin@example.com"}}
			t.Spec.Members = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "sso:system-team"}}
			t.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "prometheus", Namespace: "monitoring"}}
			t.Spec.Network = &tenancyv1alpha1.NetworkSpec{Egress: &tenancyv1alpha1.EgressSpec{
				AllowedCIDRs: []string{"203.0.113.0/24", "169.255.0.0/16", "2001:db8::/32", "fec0::/10"}}}
			t.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "x", RuntimeClassName: ptr.To("gvisor")}
			t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{
				Labels:      map[string]tenancyv1alpha1.LabelValue{"istio-injection": "enabled", "backup.example.com/policy": "daily", "app.kubernetes.io/part-of": "shop"},
				Annotations: map[string]string{"sidecar.istio.io/inject": "true", "scheduler.alpha.kubernetes.io/node-selector": "pool=tenants"},
			}
		})
		createTenant(ctx, t, tenant)
	})
	t.Run("namespace is immutable", func(t *testing.T) {
		tenant := newTenant("immutable", func(t *tenancyv1alpha1.Tenant) { t.Spec.Namespace = "immutable-a" })
		createTenant(ctx, t, tenant)
		for _, ns := range []string{"immutable-b", ""} {
			patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"namespace":%q}}`, ns)))
			if ns == "" {
				patch = client.RawPatch(types.MergePatchType, []byte(`{"spec":{"namespace":null}}`))
			}
			err := k8s.Patch(ctx, tenant, patch)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "immutable") {
				t.Errorf("changing namespace to %q: %v, want Invalid (immutable)", ns, err)
			}
		}
	})
}

// TestNamespaceMetadataIsKept: the admin's labels and annotations reach the tenant's namespace, and a key taken out
// of the Tenant leaves the namespace, while the operator's own labels stay.
func TestNamespaceMetadataIsKept(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("labelled", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{
			Labels:      map[string]tenancyv1alpha1.LabelValue{"istio-injection": "enabled", "cost-centre": "cc-42"},
			Annotations: map[string]string{"backup.example.com/schedule": "daily"},
		}
	})
	createTenant(ctx, t, tenant)
	ns := &corev1.Namespace{}
	eventually(ctx, t, "the namespace labelled", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Name: "labelled"}, ns)
		return err == nil && ns.Labels["istio-injection"] == "enabled" && ns.Labels["cost-centre"] == "cc-42" &&
			ns.Annotations["backup.example.com/schedule"] == "daily", client.IgnoreNotFound(err)
	})
	patch := client.MergeFrom(tenant.DeepCopy())
	tenant.Spec.NamespaceMetadata.Labels = map[string]tenancyv1alpha1.LabelValue{"cost-centre": "cc-43"}
	tenant.Spec.NamespaceMetadata.Annotations = nil
	if err := k8s.Patch(ctx, tenant, patch); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the namespace relabelled", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Name: "labelled"}, ns)
		_, injected := ns.Labels["istio-injection"]
		_, scheduled := ns.Annotations["backup.example.com/schedule"]
		return err == nil && !injected && !scheduled && ns.Labels["cost-centre"] == "cc-43", err
	})
	if ns.Labels[render.LabelTenant] != "labelled" || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("the operator's labels: %v", ns.Labels)
	}
}

// eventsAbout counts the Events regarding a tenant by reason, series included.
func eventsAbout(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) map[string]int32 {
	t.Helper()
	var evs eventsv1.EventList
	if err := k8s.List(ctx, &evs, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int32{}
	for _, e := range evs.Items {
		if e.Regarding.Kind == "Tenant" && e.Regarding.UID == tenant.UID {
			n := int32(1)
			if e.Series != nil {
				n = e.Series.Count
			}
			counts[e.Reason] += n
		}
	}
	return counts
}

// TestEventsOnlyForRealChanges: creating a tenant is reported once; a reconcile that changes nothing reports nothing;
// a repaired object reports exactly that.
func TestEventsOnlyForRealChanges(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("events")
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")
	var created int32
	eventually(ctx, t, "a Created event", func(ctx context.Context) (bool, error) {
		created = eventsAbout(ctx, t, tenant)["Created"]
		return created > 0, nil
	})
	before := eventsAbout(ctx, t, tenant)
	// A label change reconciles the tenant (annotations bring no pass at all) without changing anything the operator
	// manages; the reconcile counter shows the pass happened.
	passes := tenantReconciles(t)
	patch := client.MergeFrom(tenant.DeepCopy())
	tenant.Labels = map[string]string{"example.com/touched": "yes"}
	if err := k8s.Patch(ctx, tenant, patch); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "a pass for the label change", func(context.Context) (bool, error) {
		return tenantReconciles(t) > passes, nil
	})
	// Then a real change, whose Event marks that any pass still under way is over.
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "events", Name: render.PolicyDefaultDeny}}
	if err := k8s.Delete(ctx, np); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "a DriftCorrected event", func(ctx context.Context) (bool, error) {
		return eventsAbout(ctx, t, tenant)["DriftCorrected"] > before["DriftCorrected"], nil
	})
	after := eventsAbout(ctx, t, tenant)
	before["DriftCorrected"]++
	if !reflect.DeepEqual(before, after) {
		t.Errorf("events changed beyond the one drift correction: before %v, after %v", before, after)
	}
}

// tenantReconciles is how many passes the tenant controller has completed, from controller-runtime's metrics.
func tenantReconciles(t *testing.T) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "tenant" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func TestCountKinds(t *testing.T) {
	for _, tc := range []struct {
		kinds []string
		want  string
	}{
		{[]string{"Secret"}, "1 Secret"},
		{[]string{"Secret", "NetworkPolicy", "Namespace", "NetworkPolicy"}, "1 Namespace, 2 NetworkPolicy, 1 Secret"},
	} {
		if got := countKinds(tc.kinds); got != tc.want {
			t.Errorf("countKinds(%v) = %q, want %q", tc.kinds, got, tc.want)
		}
	}
}

// TestSteadyTenantCostsNoWrite reconciles a Ready tenant once more with a reconciler that reads the apiserver
// (objects with their managed fields, as stored) and records every write instead of sending it: there must be none.
// Every kind the operator creates is covered, so a field the apiserver stores differently from how the operator
// applies it shows up here, as a write on every pass.
func TestSteadyTenantCostsNoWrite(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("steady", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Members = []tenancyv1alpha1.Subject{{Kind: "Group", Name: "devs"}}
		t.Spec.Viewers = []tenancyv1alpha1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: "monitoring"}}
		t.Spec.Network = &tenancyv1alpha1.NetworkSpec{AllowFromTenants: []string{"other"},
			Egress: &tenancyv1alpha1.EgressSpec{AllowedCIDRs: []string{"203.0.113.0/24"}}}
		t.Spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1500m")}}
	})
	createTenant(ctx, t, tenant)
	simulateBackendReady(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, "")

	direct, err := client.NewWithWatch(cluster.Config, client.Options{Scheme: NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	var writes []string
	record := func(verb string, obj any) {
		if o, ok := obj.(client.Object); ok {
			writes = append(writes, verb+" "+kindOf(o)+" "+o.GetName())
			return
		}
		writes = append(writes, fmt.Sprintf("%s %T", verb, obj))
	}
	recording := interceptor.NewClient(direct, interceptor.Funcs{
		List: listWithTenantIndexes,
		Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
			record("create", obj)
			return nil
		},
		Update: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.UpdateOption) error {
			record("update", obj)
			return nil
		},
		Patch: func(_ context.Context, _ client.WithWatch, obj client.Object, _ client.Patch, _ ...client.PatchOption) error {
			record("patch", obj)
			return nil
		},
		Delete: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.DeleteOption) error {
			record("delete", obj)
			return nil
		},
		Apply: func(_ context.Context, _ client.WithWatch, obj runtime.ApplyConfiguration, _ ...client.ApplyOption) error {
			record("apply", obj)
			return nil
		},
		SubResourcePatch: func(_ context.Context, _ client.Client, sub string, obj client.Object, _ client.Patch, _ ...client.SubResourcePatchOption) error {
			record(sub+" patch", obj)
			return nil
		},
	})
	cfg := testConfig()
	r := &TenantReconciler{
		Client: recording, APIReader: direct, Config: cfg, Clock: testClock.Now, Rand: rand.Reader,
		CA: &pki.CAProvider{Reader: direct, Writer: recording, Labels: caLabels, Namespace: cfg.OperatorNamespace, Name: cfg.CASecretName, ClusterDomain: cfg.ClusterDomain,
			Clock: testClock.Now, Rand: rand.Reader},
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(tenant)}); err != nil {
		t.Fatal(err)
	}
	if len(writes) > 0 {
		t.Errorf("a steady tenant's reconcile would write: %v", writes)
	}
	if n := checkOwnedHashes(ctx, t, direct, tenant); n < 19 {
		t.Errorf("compared the owned-fields hashes of %d objects, want every one of the tenant's", n)
	}
}

// TestForeignObjectsAreLeftAlone: an object at a name the operator wants that the operator did not create is left as
// it is and reported as ObjectConflict, against the apiserver: a tenant's own Secret with a generated secret's name,
// a Secret a cluster admin pre-seeded with the operator's labels (labels do not make it the operator's), and a
// ClusterRole with the owner-access name.
func TestForeignObjectsAreLeftAlone(t *testing.T) {
	ctx := needCluster(t)
	tenant := newTenant("foreign", func(t *tenancyv1alpha1.Tenant) {
		t.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "fiona@foreign.example"}}
	})
	createTenant(ctx, t, tenant)
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionTrue, "")
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "foreign", Name: "api-token"}, Data: map[string][]byte{"password": []byte("the tenant's own")}}
	if err := impersonating(t, "fiona@foreign.example").Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	seeded := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "foreign", Name: "seeded", Labels: render.ManagedLabels(tenant)},
		Data: map[string][]byte{"password": []byte("known to whoever seeded it")}}
	if err := k8s.Create(ctx, seeded); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"api-token", "seeded"} {
		patch := client.MergeFrom(tenant.DeepCopy())
		tenant.Spec.Secrets = []tenancyv1alpha1.GeneratedSecret{{Name: name}}
		if err := k8s.Patch(ctx, tenant, patch); err != nil {
			t.Fatal(err)
		}
		waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonObjectConflict)
	}
	for _, s := range []*corev1.Secret{own, seeded} {
		got := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil || !reflect.DeepEqual(got.Data, s.Data) {
			t.Errorf("Secret %s was changed: %v (%v)", s.Name, got.Data, err)
		}
	}

	squatted := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "tenant-operator:owner:foreign-two"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	if err := k8s.Create(ctx, squatted); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), squatted) })
	second := newTenant("foreign-two")
	createTenant(ctx, t, second)
	waitForCondition(ctx, t, second, tenancyv1alpha1.ConditionAccessConfigured, metav1.ConditionFalse, tenancyv1alpha1.ReasonObjectConflict)
	got := &rbacv1.ClusterRole{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(squatted), got); err != nil || !reflect.DeepEqual(got.Rules, squatted.Rules) || len(got.Labels) != 0 {
		t.Errorf("the ClusterRole someone else created was changed: %+v (%v)", got, err)
	}
}

// listWithTenantIndexes answers the reconciler's indexed lookups of Tenants (a cache feature) over a direct client.
func listWithTenantIndexes(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
	tenants, ok := list.(*tenancyv1alpha1.TenantList)
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	if !ok || lo.FieldSelector == nil {
		return c.List(ctx, list, opts...)
	}
	allowed, byAllowed := lo.FieldSelector.RequiresExactMatch(indexAllowedTenant)
	namespace, byNamespace := lo.FieldSelector.RequiresExactMatch(indexNamespace)
	var all tenancyv1alpha1.TenantList
	if err := c.List(ctx, &all); err != nil {
		return err
	}
	for _, t := range all.Items {
		if (byAllowed && slices.Contains(tenantsAllowedBy(&t), allowed)) || (byNamespace && render.TenantNamespace(&t) == namespace) {
			tenants.Items = append(tenants.Items, t)
		}
	}
	return nil
}
