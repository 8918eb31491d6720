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
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestUpToDate: a stored object is left alone only when applying the desired one would change nothing.
func TestUpToDate(t *testing.T) {
	desired := func() *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "np", Labels: map[string]string{"a": "1", "b": "2"}},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}},
				}}}},
			},
		}
	}
	// stored is what the apiserver would hold after applying d: the hash, plus what it adds.
	stored := func(d client.Object, mutate func(*networkingv1.NetworkPolicy)) client.Object {
		want, err := toApplyConfiguration(d, NewScheme())
		if err != nil {
			t.Fatal(err)
		}
		np := d.DeepCopyObject().(*networkingv1.NetworkPolicy)
		np.Annotations = want.GetAnnotations()
		np.ResourceVersion, np.UID, np.Generation = "42", "uid", 1
		np.CreationTimestamp = metav1.Now()
		np.Labels["added-by-someone"] = "x"
		if mutate != nil {
			mutate(np)
		}
		return np
	}
	for _, tc := range []struct {
		name    string
		current client.Object
		want    bool
	}{
		{"as applied, with server and third-party additions", stored(desired(), nil), true},
		{"a value changed", stored(desired(), func(np *networkingv1.NetworkPolicy) { np.Spec.PolicyTypes[1] = "Ingress" }), false},
		{"a list element removed", stored(desired(), func(np *networkingv1.NetworkPolicy) { np.Spec.PolicyTypes = np.Spec.PolicyTypes[:1] }), false},
		{"a list element added", stored(desired(), func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{})
		}), false},
		{"a nested field removed", stored(desired(), func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress[0].From[0].NamespaceSelector = nil
		}), false},
		{"a label removed", stored(desired(), func(np *networkingv1.NetworkPolicy) { delete(np.Labels, "b") }), false},
		{"the hash removed", stored(desired(), func(np *networkingv1.NetworkPolicy) { np.Annotations = nil }), false},
		// The desired state no longer sets label b: the stored object still has it, the hash says it must go.
		{"applied from another desired state", stored(desired(), func(np *networkingv1.NetworkPolicy) {
			older := desired()
			older.Labels["c"] = "3"
			want, _ := toApplyConfiguration(older, NewScheme())
			np.Annotations = want.GetAnnotations()
		}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := toApplyConfiguration(desired(), NewScheme())
			if err != nil {
				t.Fatal(err)
			}
			got, err := upToDate(tc.current, want)
			if err != nil || got != tc.want {
				t.Errorf("upToDate = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestUpToDateNormalisedValues: quantities and numbers compare by value, as the apiserver stores them.
func TestUpToDateNormalisedValues(t *testing.T) {
	d := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "q"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.5"), corev1.ResourcePods: resource.MustParse("10")}},
	}
	want, err := toApplyConfiguration(d, NewScheme())
	if err != nil {
		t.Fatal(err)
	}
	stored := d.DeepCopy()
	stored.Annotations = want.GetAnnotations()
	stored.Spec.Hard = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourcePods: resource.MustParse("10")}
	stored.Status.Hard = stored.Spec.Hard
	if same, err := upToDate(stored, want); err != nil || !same {
		t.Errorf("upToDate = %v, %v for the same quota written differently", same, err)
	}
}
