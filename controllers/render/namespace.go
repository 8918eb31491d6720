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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// desiredNamespace is the tenant's namespace: labelled for the operator and for NetworkPolicy peers, with Pod
// Security "restricted" enforced, audited and warned about.
func desiredNamespace(t *tenancyv1alpha1.Tenant) *corev1.Namespace {
	labels := ManagedLabels(t)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "restricted"
		labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	// The runtime-class guardrail makes every pod of the namespace use the back-end's sandbox.
	if b := t.Spec.Backend; b != nil && b.RuntimeClassName != nil {
		labels[LabelRuntimeClass] = *b.RuntimeClassName
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: TenantNamespace(t), Labels: labels}}
	if t.Spec.DisplayName != "" {
		ns.Annotations = map[string]string{"tenancy.tenant-operator.dev/display-name": t.Spec.DisplayName}
	}
	return ns
}
