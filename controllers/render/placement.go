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
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Placement: spec.placement is written on the tenant's namespace, as annotations the tenant-placement admission
// policies read through namespaceObject: the mutating one writes the node selector and tolerations into every pod
// created there, the validating one refuses a pod without the node selector (clusters without
// MutatingAdmissionPolicy). Not a parameter object: the apiserver can lose track of parameters of a built-in kind for
// good (kubernetes/kubernetes#130887), and the namespace is the operator's alone. The back-end's pods carry the
// placement from the Deployment, so they depend on neither policy.
const (
	// AnnotationNodeSelector holds the node selector: key=value pairs, comma-separated, by key.
	AnnotationNodeSelector = "tenancy.tenant-operator.dev/node-selector"
	// AnnotationTolerations holds the tolerations: key:operator:value:effect, semicolon-separated. Neither
	// separator can occur in a label key or value, or an effect.
	AnnotationTolerations = "tenancy.tenant-operator.dev/tolerations"
	// TaintDedicated is the taint of dedicated nodes; the namespace label of the same key names the one pool the
	// tenant's pods may tolerate it for (the pod-placement guardrail reads it).
	TaintDedicated = "tenancy.tenant-operator.dev/dedicated"
)

// placementAnnotations are the namespace annotations that carry the tenant's placement to the admission policies.
func placementAnnotations(t *tenancyv1alpha1.Tenant) map[string]string {
	nodeSelector, tolerations := placement(t)
	out := map[string]string{}
	if len(nodeSelector) > 0 {
		pairs := make([]string, 0, len(nodeSelector))
		for _, k := range slices.Sorted(maps.Keys(nodeSelector)) {
			pairs = append(pairs, k+"="+nodeSelector[k])
		}
		out[AnnotationNodeSelector] = strings.Join(pairs, ",")
	}
	if len(tolerations) > 0 {
		items := make([]string, 0, len(tolerations))
		for _, tol := range tolerations {
			items = append(items, strings.Join([]string{tol.Key, string(tol.Operator), tol.Value, string(tol.Effect)}, ":"))
		}
		out[AnnotationTolerations] = strings.Join(items, ";")
	}
	return out
}

// placement is spec.placement as a pod's node selector and tolerations.
func placement(t *tenancyv1alpha1.Tenant) (map[string]string, []corev1.Toleration) {
	p := t.Spec.Placement
	if p == nil {
		return nil, nil
	}
	var nodeSelector map[string]string
	if len(p.NodeSelector) > 0 {
		nodeSelector = make(map[string]string, len(p.NodeSelector))
		for k, v := range p.NodeSelector {
			nodeSelector[k] = string(v)
		}
	}
	var tolerations []corev1.Toleration
	for _, tol := range p.Tolerations {
		op := tol.Operator
		if op == "" {
			op = corev1.TolerationOpEqual
		}
		tolerations = append(tolerations, corev1.Toleration{
			Key: tol.Key, Operator: op, Value: string(tol.Value), Effect: tol.Effect,
		})
	}
	return nodeSelector, tolerations
}

// DedicatedPool is the dedicated pool the tenant's pods may tolerate (TaintDedicated), "" for none.
func DedicatedPool(t *tenancyv1alpha1.Tenant) string {
	_, tolerations := placement(t)
	for _, tol := range tolerations {
		if tol.Key == TaintDedicated {
			return tol.Value
		}
	}
	return ""
}
