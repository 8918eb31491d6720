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
	"fmt"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/slimcache"
)

func managedMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: "ns", ResourceVersion: "7",
		Labels:      map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: "t"},
		Annotations: map[string]string{"tenancy.tenant-operator.dev/generated-at": "2026-01-01T00:00:00Z", "other": "x"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply,
			APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{}}}}`)}},
	}
}

// TestSlimForCacheKeepsWhatTheReconcilerReads, and is idempotent: informers transform an object twice when they
// sync. The second pass used to lose the owned-fields hash, so that every object looked changed after a restart,
// then to copy every object, doubling the cache during the sync.
func TestSlimForCacheKeepsWhatTheReconcilerReads(t *testing.T) {
	for _, obj := range []client.Object{
		&networkingv1.NetworkPolicy{ObjectMeta: managedMeta("np"), Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress"}}},
		&corev1.Secret{ObjectMeta: managedMeta("s"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}},
		&corev1.Secret{ObjectMeta: managedMeta("tls"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{
			"k": []byte("v"), corev1.TLSCertKey: []byte("cert"), corev1.TLSPrivateKeyKey: []byte("key"), "ca.crt": []byte("ca")}},
		&appsv1.Deployment{ObjectMeta: managedMeta("d"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 3, ReadyReplicas: 2, UpdatedReplicas: 2}},
		&corev1.ResourceQuota{ObjectMeta: managedMeta("q"), Status: corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("1"), corev1.ResourceSecrets: resource.MustParse("2")}}},
	} {
		// The hash of the object as the apiserver sent it, before the cache drops its managed fields.
		want, err := fieldManager.OwnedFieldsHash(obj.DeepCopyObject().(client.Object))
		if err != nil || want == "" {
			t.Fatalf("%T: owned-fields hash %q (%v)", obj, want, err)
		}
		once, err := slimForCache(obj)
		if err != nil {
			t.Fatal(err)
		}
		twice, err := slimForCache(once.(client.Object))
		if err != nil {
			t.Fatal(err)
		}
		if twice != once {
			t.Errorf("%T: a second pass copied the slimmed object: during a sync the cache would hold two of each", obj)
		}
		for _, slim := range []client.Object{once.(client.Object), twice.(client.Object)} {
			if slimcache.CachedOwnedFieldsHash(slim) != want {
				t.Errorf("%T: owned-fields hash %q after slimming, want %q", obj, slimcache.CachedOwnedFieldsHash(slim), want)
			}
			if len(slim.GetManagedFields()) != 0 || slim.GetLabels()[render.LabelTenant] != "t" || slim.GetResourceVersion() != "7" {
				t.Errorf("%T: metadata %+v", obj, slim)
			}
			checkSlimContent(t, slim)
		}
	}
}

func checkSlimContent(t *testing.T, slim client.Object) {
	t.Helper()
	switch o := slim.(type) {
	case *corev1.Secret:
		if string(o.Data["k"]) != "v" || o.Annotations["tenancy.tenant-operator.dev/generated-at"] == "" || o.Annotations["other"] != "" {
			t.Errorf("secret %+v", o)
		}
		if _, ok := o.Data["ca.crt"]; ok {
			t.Errorf("secret %s: the CA's certificate is cached: %+v", o.Name, o.Data)
		}
	case *appsv1.Deployment:
		if *o.Spec.Replicas != 2 || o.Status.ReadyReplicas != 2 || o.Status.ObservedGeneration != 3 {
			t.Errorf("deployment %+v", o)
		}
	case *corev1.ResourceQuota:
		if len(o.Status.Hard) != 1 {
			t.Errorf("quota %+v", o.Status)
		}
	case *networkingv1.NetworkPolicy:
		if len(o.Spec.PolicyTypes) != 0 || len(o.Annotations) != 0 {
			t.Errorf("network policy kept more than it needs: %+v", o)
		}
	}
}

// TestSecretsShareAnnotations: secrets generated in the same second carry the same annotations; one map serves all.
func TestSecretsShareAnnotations(t *testing.T) {
	annotations := make([]map[string]string, 0, 2)
	for _, name := range []string{"a", "b"} {
		slim, err := slimForCache(&corev1.Secret{ObjectMeta: managedMeta(name), Data: map[string][]byte{"k": []byte(name)}})
		if err != nil {
			t.Fatal(err)
		}
		annotations = append(annotations, slim.(*corev1.Secret).Annotations)
	}
	if reflect.ValueOf(annotations[0]).UnsafePointer() != reflect.ValueOf(annotations[1]).UnsafePointer() {
		t.Error("two secrets with the same annotations hold a map each")
	}
}

// TestObjectsPosingAsTheOperatorsAreNotTheOperators: an object carrying the operator's labels that the operator's
// own apply did not label (created by someone else, or labelled by someone else after the fact) is neither taken
// for the operator's (adopted, protected, pruned) nor kept whole in its cache, where large Secrets would exhaust its
// memory.
func TestObjectsPosingAsTheOperatorsAreNotTheOperators(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
	}
	labelled := `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{},"f:tenancy.tenant-operator.dev/tenant":{}}}}`
	for _, tc := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		ours    bool
	}{
		{"applied by the operator", []metav1.ManagedFieldsEntry{entry(FieldOwner, metav1.ManagedFieldsOperationApply, labelled)}, true},
		{"created by kubectl", []metav1.ManagedFieldsEntry{entry("kubectl-create", metav1.ManagedFieldsOperationUpdate, labelled)}, false},
		{"applied by someone else", []metav1.ManagedFieldsEntry{entry("helm", metav1.ManagedFieldsOperationApply, labelled)}, false},
		{"the operator's name on an update", []metav1.ManagedFieldsEntry{entry(FieldOwner, metav1.ManagedFieldsOperationUpdate, labelled)}, false},
		{"a namespace the operator claimed", []metav1.ManagedFieldsEntry{entry(FieldOwner, metav1.ManagedFieldsOperationUpdate, labelled)}, true},
		{"applied by the operator without its label, labelled by kubectl", []metav1.ManagedFieldsEntry{
			entry(FieldOwner, metav1.ManagedFieldsOperationApply, `{"f:data":{"f:password":{}}}`),
			entry("kubectl-label", metav1.ManagedFieldsOperationUpdate, labelled),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "a namespace") {
				ns := &corev1.Namespace{ObjectMeta: managedMeta("t")}
				ns.Namespace, ns.ManagedFields = "", tc.entries
				slim, err := slimForCache(ns.DeepCopy())
				if got := isManagedBy(ns, "t"); got != tc.ours || err != nil || isManagedBy(slim.(*corev1.Namespace), "t") != tc.ours {
					t.Errorf("isManagedBy = %v, want %v (%v)", got, tc.ours, err)
				}
				return
			}
			secret := &corev1.Secret{ObjectMeta: managedMeta("db"), Data: map[string][]byte{"password": make([]byte, 1<<20)}}
			secret.ManagedFields = tc.entries
			if got := isManagedBy(secret, "t"); got != tc.ours {
				t.Errorf("read from the apiserver: isManagedBy = %v, want %v", got, tc.ours)
			}
			slim, err := slimForCache(secret.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			cached := slim.(*corev1.Secret)
			if got := isManagedBy(cached, "t"); got != tc.ours {
				t.Errorf("cached: isManagedBy = %v, want %v (labels %v)", got, tc.ours, cached.Labels)
			}
			if !tc.ours && (len(cached.Data) != 0 || cached.GenerateName != "") {
				t.Errorf("cached: %d data keys and owned hash (or foreign mark) %q of an object that is not the operator's", len(cached.Data), cached.GenerateName)
			}
			if tc.ours && len(cached.Data["password"]) != 1<<20 {
				t.Error("cached: the operator's own Secret lost its data")
			}
		})
	}
}

// slimForCache is the cache transform the table of managed kinds gives obj's kind.
func slimForCache(obj client.Object) (any, error) {
	for _, k := range managedKinds {
		if reflect.TypeOf(k.object) == reflect.TypeOf(obj) {
			return slimmer.Transform(k.keep)(obj)
		}
	}
	return nil, fmt.Errorf("%T is not a managed kind", obj)
}
