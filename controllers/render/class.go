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
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// LabelClass names, on a tenant namespace, the TenantClass the tenant has; AnnotationClass records the class's
// generation and spec as applied, so that during a roll-out a tenant not yet due keeps exactly what it had, across
// restarts of the operator. No tenant role grants namespaces, and protect-managed-objects refuses everyone but the
// operator (and system:masters) any change of a tenant namespace.
const (
	LabelClass      = OperatorKeyPrefix + "class"
	AnnotationClass = OperatorKeyPrefix + "class"
)

// Class is a generation of a TenantClass, as a tenant is rendered with it.
type Class struct {
	Name       string                          `json:"name"`
	Generation int64                           `json:"generation"`
	Spec       tenancyv1alpha1.TenantClassSpec `json:"spec"`
}

// ClassOf is the current generation of a TenantClass.
func ClassOf(c *tenancyv1alpha1.TenantClass) *Class {
	return &Class{Name: c.Name, Generation: c.Generation, Spec: *c.Spec.DeepCopy()}
}

// AppliedClass is the class recorded on a tenant namespace (AnnotationClass): nil when there is none or it cannot be
// read (it is then treated as absent: the tenant gets its class's current generation at once).
func AppliedClass(ns *corev1.Namespace) *Class {
	raw, ok := ns.GetAnnotations()[AnnotationClass]
	if !ok {
		return nil
	}
	c := &Class{}
	if err := json.Unmarshal([]byte(raw), c); err != nil || c.Name == "" {
		return nil
	}
	return c
}

// classAnnotation is the value of AnnotationClass for c.
func classAnnotation(c *Class) string {
	raw, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("a TenantClass spec always marshals: %v", err)) // plain structs, maps of strings, quantities
	}
	return string(raw)
}

// WithClass is the tenant as it is rendered: its own spec over the class's, key by key. Quota and limit keys, node
// selector keys, namespace labels and annotations and extra roles (by ClusterRole) are merged, the Tenant's winning;
// a list (tolerations, allowed egress CIDRs) is the Tenant's when it has one, else the class's; egress to the
// internet is open when either opens it; shared objects are the class's and the Tenant's. t itself is not changed.
func WithClass(t *tenancyv1alpha1.Tenant, c *Class) *tenancyv1alpha1.Tenant {
	if c == nil {
		return t
	}
	out := t.DeepCopy()
	spec, class := &out.Spec, c.Spec
	if class.Quota != nil {
		spec.Quota = &tenancyv1alpha1.QuotaSpec{Hard: overlay(class.Quota.Hard, quotaHard(t))}
	}
	if l := class.Limits; l != nil {
		own := tenancyv1alpha1.LimitsSpec{}
		if t.Spec.Limits != nil {
			own = *t.Spec.Limits
		}
		spec.Limits = &tenancyv1alpha1.LimitsSpec{
			Default: overlay(l.Default, own.Default), DefaultRequest: overlay(l.DefaultRequest, own.DefaultRequest),
			Max: overlay(l.Max, own.Max),
		}
	}
	if class.Network != nil && class.Network.Egress != nil {
		spec.Network = withClassEgress(spec.Network, class.Network.Egress)
	}
	if b := spec.Backend; b != nil && b.RuntimeClassName == nil && class.RuntimeClassName != nil {
		b.RuntimeClassName = ptr.To(*class.RuntimeClassName)
	}
	if class.Placement != nil {
		spec.Placement = withClassPlacement(spec.Placement, class.Placement)
	}
	spec.ExtraRoles = withClassExtraRoles(spec.ExtraRoles, class.ExtraRoles)
	spec.SharedObjects = withClassSharedObjects(spec.SharedObjects, class.SharedObjects)
	if class.NamespaceMetadata != nil {
		own := spec.NamespaceMetadata
		if own == nil {
			own = &tenancyv1alpha1.NamespaceMetadata{}
		}
		spec.NamespaceMetadata = &tenancyv1alpha1.NamespaceMetadata{
			Labels:      merged(class.NamespaceMetadata.Labels, own.Labels),
			Annotations: merged(class.NamespaceMetadata.Annotations, own.Annotations),
		}
	}
	return out
}

// RuntimeClass is the RuntimeClass every pod of the tenant's namespace must use: the back-end's, else the class's;
// "" for none.
func RuntimeClass(t *tenancyv1alpha1.Tenant, c *Class) string {
	if b := t.Spec.Backend; b != nil && b.RuntimeClassName != nil {
		return *b.RuntimeClassName
	}
	if c != nil && c.Spec.RuntimeClassName != nil {
		return *c.Spec.RuntimeClassName
	}
	return ""
}

func withClassEgress(own *tenancyv1alpha1.NetworkSpec, class *tenancyv1alpha1.EgressSpec) *tenancyv1alpha1.NetworkSpec {
	if own == nil {
		own = &tenancyv1alpha1.NetworkSpec{}
	}
	egress := class.DeepCopy()
	if e := own.Egress; e != nil {
		egress.AllowInternet = egress.AllowInternet || e.AllowInternet
		if len(e.AllowedCIDRs) > 0 {
			egress.AllowedCIDRs = slices.Clone(e.AllowedCIDRs)
		}
	}
	own.Egress = egress
	return own
}

func withClassPlacement(own, class *tenancyv1alpha1.PlacementSpec) *tenancyv1alpha1.PlacementSpec {
	out := class.DeepCopy()
	if own == nil {
		return out
	}
	out.NodeSelector = merged(class.NodeSelector, own.NodeSelector)
	if len(own.Tolerations) > 0 {
		out.Tolerations = slices.Clone(own.Tolerations)
	}
	return out
}

// withClassExtraRoles are the class's extra roles the Tenant does not bind itself, then the Tenant's.
func withClassExtraRoles(own, class []tenancyv1alpha1.ExtraRole) []tenancyv1alpha1.ExtraRole {
	var out []tenancyv1alpha1.ExtraRole
	for _, e := range class {
		if !slices.ContainsFunc(own, func(o tenancyv1alpha1.ExtraRole) bool { return o.ClusterRole == e.ClusterRole }) {
			out = append(out, *e.DeepCopy())
		}
	}
	return append(out, own...)
}

// merged is a copy of base with every key of over set to over's value; nil when both are empty.
func merged[V any](base, over map[string]V) map[string]V {
	if len(base)+len(over) == 0 {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, over)
	return out
}
