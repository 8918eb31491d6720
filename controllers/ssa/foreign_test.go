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

package ssa

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// testManager reserves the keys the operator does: its own and Pod Security's.
var testManager = FieldManager{Name: "tenant-operator", Reserved: func(key string) bool {
	return key == "app.kubernetes.io/managed-by" || strings.HasPrefix(key, "tenancy.tenant-operator.dev/") ||
		strings.HasPrefix(key, "pod-security.kubernetes.io/")
}}

func entry(manager string, op metav1.ManagedFieldsOperationType, subresource, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: subresource, APIVersion: "v1",
		FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
}

func decodeFields(t *testing.T, raw *metav1.FieldsV1) fieldSet {
	t.Helper()
	var set fieldSet
	if err := json.Unmarshal(raw.GetRawBytes(), &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func TestForeignFieldsAreTakenOver(t *testing.T) {
	const ours = `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{}}},"f:spec":{"f:policyTypes":{}}}`
	for _, tc := range []struct {
		name    string
		foreign metav1.ManagedFieldsEntry
		// taken is the operator's field set after the takeover; kept what the other manager keeps (""; its entry goes).
		taken, kept string
	}{{
		name:    "a rule added to default-deny",
		foreign: entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, "", `{"f:spec":{"f:ingress":{}}}`),
		taken:   `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{}}},"f:spec":{"f:ingress":{},"f:policyTypes":{}}}`,
	}, {
		name: "a monitoring label and a Pod Security label",
		foreign: entry("admin", metav1.ManagedFieldsOperationApply, "",
			`{"f:metadata":{"f:labels":{"f:team":{},"f:pod-security.kubernetes.io/enforce-version":{}}}}`),
		taken: `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{},"f:pod-security.kubernetes.io/enforce-version":{}}},"f:spec":{"f:policyTypes":{}}}`,
		kept:  `{"f:metadata":{"f:labels":{"f:team":{}}}}`,
	}, {
		name: "the operator's own annotations, with the deployment controller's revision",
		foreign: entry("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "",
			`{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{},"f:tenancy.tenant-operator.dev/generated-at":{}}}}`),
		taken: `{"f:metadata":{"f:annotations":{"f:tenancy.tenant-operator.dev/generated-at":{}},"f:labels":{"f:app.kubernetes.io/managed-by":{}}},"f:spec":{"f:policyTypes":{}}}`,
		kept:  `{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}}}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			status := entry("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status", `{"f:status":{".":{}}}`)
			in := []metav1.ManagedFieldsEntry{entry(testManager.Name, metav1.ManagedFieldsOperationApply, "", ours), tc.foreign, status}
			obj := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{ManagedFields: in}}
			if !testManager.HasForeignFields(obj) {
				t.Fatal("foreign fields not seen")
			}
			out, changed, err := testManager.ClaimForeignFields(in)
			if err != nil || !changed {
				t.Fatalf("changed %v, %v", changed, err)
			}
			if got, want := decodeFields(t, out[0].FieldsV1), decodeFields(t, metav1.NewFieldsV1(tc.taken)); !reflect.DeepEqual(got, want) {
				t.Errorf("operator's fields:\n got %v\nwant %v", got, want)
			}
			wantEntries := 3
			if tc.kept == "" {
				wantEntries = 2
			} else if got, want := decodeFields(t, out[1].FieldsV1), decodeFields(t, metav1.NewFieldsV1(tc.kept)); !reflect.DeepEqual(got, want) {
				t.Errorf("%s keeps:\n got %v\nwant %v", tc.foreign.Manager, got, want)
			}
			if len(out) != wantEntries || !reflect.DeepEqual(out[len(out)-1], status) {
				t.Errorf("entries %+v: want %d, the status entry untouched", out, wantEntries)
			}
			obj.ManagedFields = out
			if testManager.HasForeignFields(obj) {
				t.Error("foreign fields left after the takeover")
			}
		})
	}
}

func TestWhatOthersMayAddIsNotForeign(t *testing.T) {
	for _, fields := range []string{
		`{"f:metadata":{"f:labels":{".":{},"f:istio-injection":{}}}}`,
		`{"f:metadata":{"f:annotations":{"f:deployment.kubernetes.io/revision":{}},"f:finalizers":{"v:\"example.com/keep\"":{}}}}`,
	} {
		in := []metav1.ManagedFieldsEntry{
			entry(testManager.Name, metav1.ManagedFieldsOperationApply, "", `{"f:spec":{}}`),
			entry("other", metav1.ManagedFieldsOperationUpdate, "", fields),
			entry("other", metav1.ManagedFieldsOperationUpdate, "status", `{"f:status":{"f:replicas":{}}}`),
		}
		if testManager.HasForeignFields(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{ManagedFields: in}}) {
			t.Errorf("%s taken for foreign fields", fields)
		}
		if _, changed, err := testManager.ClaimForeignFields(in); changed || err != nil {
			t.Errorf("%s: changed %v, %v", fields, changed, err)
		}
	}
}
