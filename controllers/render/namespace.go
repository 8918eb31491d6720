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
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// desiredNamespace is the tenant's namespace: labelled for the operator and for NetworkPolicy peers, with Pod
// Security "restricted" enforced, audited and warned about, and the tenant's class as applied (t is the tenant with
// its class, see WithClass).
func desiredNamespace(t *tenancyv1alpha1.Tenant, c *Class) *corev1.Namespace {
	// The admin's metadata first, so that nothing in it can replace the operator's: the CRD refuses the keys that
	// would, and they are dropped here too (a Tenant stored before a rule existed).
	labels, annotations := map[string]string{}, map[string]string{}
	if m := t.Spec.NamespaceMetadata; m != nil {
		for k, v := range m.Labels {
			if AdminNamespaceKey(k, true) {
				labels[k] = string(v)
			}
		}
		for k, v := range m.Annotations {
			if AdminNamespaceKey(k, false) {
				annotations[k] = v
			}
		}
	}
	maps.Copy(labels, ManagedLabels(t))
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "restricted"
		labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	// The runtime-class guardrail makes every pod of the namespace use the back-end's sandbox.
	if rc := RuntimeClass(t, c); rc != "" {
		labels[LabelRuntimeClass] = rc
	}
	if c != nil {
		labels[LabelClass] = c.Name
		annotations[AnnotationClass] = classAnnotation(c)
	}
	if t.Spec.Suspended {
		labels[LabelSuspended] = markTrue
	}
	// The pod-placement guardrail lets the namespace's pods tolerate this dedicated pool's taint, no other.
	if pool := DedicatedPool(t); pool != "" {
		labels[TaintDedicated] = pool
	}
	maps.Copy(annotations, placementAnnotations(t))
	if t.Spec.DisplayName != "" {
		annotations[OperatorKeyPrefix+"display-name"] = t.Spec.DisplayName
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: TenantNamespace(t), Labels: labels}}
	if len(annotations) > 0 {
		ns.Annotations = annotations
	}
	return ns
}

// AdminNamespaceKey tells whether an admin may set a label (or annotation) key on a tenant namespace through
// spec.namespaceMetadata: not Pod Security's, not the namespace name label NetworkPolicies select namespaces by, not
// the operator's own (managed-by, its domain). The CRD's validation says the same.
func AdminNamespaceKey(key string, label bool) bool {
	prefix, _, named := strings.Cut(key, "/")
	switch {
	case strings.HasPrefix(key, "pod-security.kubernetes.io/"):
		return false
	case label && (key == corev1.LabelMetadataName || key == LabelManagedBy):
		return false
	case named && (prefix == operatorDomain || strings.HasSuffix(prefix, "."+operatorDomain)):
		return false
	}
	return true
}

// operatorDomain is the DNS domain of the operator's label and annotation keys.
const operatorDomain = "tenant-operator.dev"
