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
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// TestSharedObjectsAreCopiedAndKeptInSync: the originals an admin marks are copied into the namespaces of the
// tenants that list them, follow the original, cannot be changed by the tenant, and go when the original is no
// longer marked or the tenant no longer lists it.
func TestSharedObjectsAreCopiedAndKeptInSync(t *testing.T) {
	ctx := needCluster(t)
	marked := map[string]string{tenancyv1alpha1.LabelShareable: "true"}
	registry := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "registry-creds", Labels: marked},
		Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "ca-bundle", Labels: marked},
		Data: map[string]string{"ca.crt": "one"}}
	// The operator's namespace holds what must never reach a tenant: only what the admin marked is copied.
	private := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testOperatorNamespace, Name: "operator-private"},
		Data: map[string][]byte{"key": []byte("not for tenants")}}
	for _, obj := range []client.Object{registry, bundle, private} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	}
	tenant := newTenant("sharing", withBackend, func(t *tenancyv1alpha1.Tenant) {
		t.Spec.SharedObjects = []tenancyv1alpha1.SharedObject{
			{Kind: tenancyv1alpha1.SharedSecret, Name: "registry-creds"}, {Kind: tenancyv1alpha1.SharedConfigMap, Name: "ca-bundle"},
			{Kind: tenancyv1alpha1.SharedSecret, Name: "operator-private"},
		}
	})
	createTenant(ctx, t, tenant)
	ns := tenant.Name
	copyOf := func(obj client.Object) client.Object {
		c := obj.DeepCopyObject().(client.Object)
		c.SetNamespace(ns)
		return c
	}
	eventually(ctx, t, "copies of the shared objects", func(ctx context.Context) (bool, error) {
		s, cm := copyOf(registry).(*corev1.Secret), copyOf(bundle).(*corev1.ConfigMap)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return string(s.Data[corev1.DockerConfigJsonKey]) == `{"auths":{}}` && s.Type == corev1.SecretTypeDockerConfigJson && cm.Data["ca.crt"] == "one", nil
	})
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonSharedObjectUnavailable)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(copyOf(private)), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("a Secret of the operator's namespace not marked shareable reached the tenant: %v", err)
	}
	eventually(ctx, t, "the back-end pulls with the shared registry credentials", func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.BackendName}, d)
		pull := d.Spec.Template.Spec.ImagePullSecrets
		return err == nil && len(pull) == 1 && pull[0].Name == "registry-creds", client.IgnoreNotFound(err)
	})

	// The original changes: so does every copy.
	if err := k8s.Patch(ctx, bundle, client.RawPatch(types.MergePatchType, []byte(`{"data":{"ca.crt":"two"}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the copy follows its original", func(ctx context.Context) (bool, error) {
		cm := copyOf(bundle).(*corev1.ConfigMap)
		err := k8s.Get(ctx, client.ObjectKeyFromObject(cm), cm)
		return err == nil && cm.Data["ca.crt"] == "two", err
	})
	// The tenant's owner cannot make the copy say something else.
	owner := impersonating(t, "olga@sharing.example", "sso:sharing-admins")
	err := owner.Patch(ctx, copyOf(bundle), client.RawPatch(types.MergePatchType, []byte(`{"data":{"ca.crt":"forged"}}`)))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "protect-managed-objects") {
		t.Errorf("owner edits a shared copy: %v, want refused by protect-managed-objects", err)
	}

	// No longer marked: the copy goes, and the tenant says why.
	if err := k8s.Patch(ctx, registry, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"tenancy.tenant-operator.dev/shareable":null}}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the copy of an unmarked original deleted", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(copyOf(registry)), &corev1.Secret{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	eventually(ctx, t, "SecretsReady names the unmarked original", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(tenant.Status.Conditions, tenancyv1alpha1.ConditionSecretsReady)
		return c != nil && strings.Contains(c.Message, "Secret/registry-creds"), nil
	})

	// No longer listed: the copy goes.
	if err := k8s.Patch(ctx, tenant, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"sharedObjects":null}}`))); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the copy of an object no longer listed deleted", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(copyOf(bundle)), &corev1.ConfigMap{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	waitForCondition(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, metav1.ConditionTrue, "")
}
