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

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

func ptrTo[T any](v T) *T { return &v }

// waitProvisioned waits until every condition but BackendReady (no node runs pods here) is True for the current spec.
func waitProvisioned(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) {
	t.Helper()
	eventually(ctx, t, "tenant "+tenant.Name+" provisioned", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return false, err
		}
		for _, c := range []string{tenancyv1alpha1.ConditionNamespaceReady, tenancyv1alpha1.ConditionNetworkIsolated,
			tenancyv1alpha1.ConditionAccessConfigured, tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ConditionSecretsReady} {
			if !meta.IsStatusConditionTrue(tenant.Status.Conditions, c) {
				return false, nil
			}
		}
		return tenant.Status.ObservedGeneration == tenant.Generation, nil
	})
}

func waitForReason(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant, condition, reason string) {
	t.Helper()
	eventually(ctx, t, condition+" "+reason, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(tenant.Status.Conditions, condition)
		return c != nil && c.Reason == reason && tenant.Status.ObservedGeneration == tenant.Generation, nil
	})
}

func waitGone(ctx context.Context, t *testing.T, obj client.Object) {
	t.Helper()
	eventually(ctx, t, obj.GetName()+" gone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return err != nil, client.IgnoreNotFound(err)
	})
}

// setSecrets sets the tenant's generated secrets, as an admin editing the Tenant would.
func setSecrets(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant, secrets ...tenancyv1alpha1.GeneratedSecret) {
	t.Helper()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(tenant.DeepCopy())
	tenant.Spec.Secrets = secrets
	if err := k8s.Patch(ctx, tenant, patch); err != nil {
		t.Fatal(err)
	}
}

// refuseSecret makes the apiserver refuse the creation of Secret name (a policy of the test's), so that the
// operator's apply fails; the returned function lifts it.
func refuseSecret(ctx context.Context, t *testing.T, name string) func() {
	t.Helper()
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "test-refuse-secret"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptrTo(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{Expression: "object.metadata.name != '" + name + "'", Message: "refused by the test"}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}
	for _, obj := range []client.Object{policy, binding} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	// In force once a dry run is refused.
	eventually(ctx, t, "the test's policy in force", func(ctx context.Context) (bool, error) {
		probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		return k8s.Create(ctx, probe, client.DryRunAll) != nil, nil
	})
	return func() {
		for _, obj := range []client.Object{binding, policy} {
			if err := k8s.Delete(ctx, obj); err != nil {
				t.Error(err)
			}
		}
	}
}

// impersonating is the cluster admin acting as user, as the cluster's SSO would report them.
func impersonating(t *testing.T, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// generatedValues collects every value the operator generated, to look for in its log: generated secrets' values,
// each key of the key ring and the back-end's private key.
type generatedValues struct{ values [][]byte }

func (g *generatedValues) collect(ctx context.Context, t *testing.T, namespace string) {
	t.Helper()
	var secrets corev1.SecretList
	if err := k8s.List(ctx, &secrets, client.InNamespace(namespace), client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		for key, v := range s.Data {
			// The CA certificate, certificates and the key ring's "primary" pointer are public.
			if key == "ca.crt" || key == corev1.TLSCertKey || key == "primary" {
				continue
			}
			g.values = append(g.values, v)
		}
	}
}

func (g *generatedValues) checkLog(t *testing.T) {
	t.Helper()
	// The operator writes asynchronously: give its last lines a moment.
	time.Sleep(500 * time.Millisecond)
	logs, err := os.ReadFile(operator.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logs, []byte(`"level":"debug"`)) {
		t.Fatal("the operator's log holds no debug line: the check would prove nothing")
	}
	if len(g.values) < 10 {
		t.Fatalf("only %d generated values collected", len(g.values))
	}
	for _, v := range g.values {
		for _, form := range [][]byte{v, []byte(base64.StdEncoding.EncodeToString(v))} {
			if bytes.Contains(logs, form) {
				t.Errorf("a generated value (%d bytes) appears in the operator's log", len(v))
			}
		}
	}
}
