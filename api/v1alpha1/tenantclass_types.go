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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnnotationDefaultClass marks the TenantClass that Tenants without spec.className get, as
// storageclass.kubernetes.io/is-default-class marks the default StorageClass. When several are marked, the newest
// is the default (as for StorageClasses).
const AnnotationDefaultClass = "tenancy.tenant-operator.dev/is-default-class"

// TenantClassSpec is a plan: the defaults of every Tenant of the class. A Tenant's own field overrides the class's
// key by key: a quota or limit key, a node selector key, a namespace label or annotation, an extra role (by
// ClusterRole); a list (tolerations, allowed egress CIDRs) is replaced as a whole.
type TenantClassSpec struct {
	// quota is the class's ResourceQuota, over the operator's default quota key by key; a Tenant's quota keys win.
	// +optional
	Quota *QuotaSpec `json:"quota,omitempty"`

	// limits are the class's container limits, over the operator's default key by key; a Tenant's keys win.
	// +optional
	Limits *LimitsSpec `json:"limits,omitempty"`

	// network is the class's egress. Which tenants may reach a tenant's back-end stays each Tenant's own
	// (spec.network.allowFromTenants): it names tenants, not plans.
	// +optional
	Network *ClassNetworkSpec `json:"network,omitempty"`

	// runtimeClassName runs every pod of the class's tenant namespaces under a RuntimeClass (gVisor, Kata): the
	// back-end's, unless its Tenant names another, and the tenant's own (the runtime-class guardrail).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$`
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`

	// placement is where the class's tenants' pods run: a Tenant's node selector keys win, and its tolerations, when
	// it has any, replace the class's.
	// +optional
	Placement *PlacementSpec `json:"placement,omitempty"`

	// extraRoles are bound in every tenant namespace of the class, as a Tenant's spec.extraRoles are; a Tenant's
	// entry for the same ClusterRole wins.
	// +optional
	// +listType=map
	// +listMapKey=clusterRole
	// +kubebuilder:validation:MaxItems=16
	ExtraRoles []ExtraRole `json:"extraRoles,omitempty"`

	// namespaceMetadata are labels and annotations of every tenant namespace of the class; a Tenant's keys win.
	// +optional
	NamespaceMetadata *NamespaceMetadata `json:"namespaceMetadata,omitempty"`

	// sharedObjects are copied into every tenant namespace of the class, as a Tenant's spec.sharedObjects are, besides
	// the Tenant's own.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	SharedObjects []SharedObject `json:"sharedObjects,omitempty"`
}

// ClassNetworkSpec is the network a class opens for its tenants.
type ClassNetworkSpec struct {
	// egress opens outbound traffic beyond the namespace and cluster DNS. A Tenant's allowInternet, when true, and
	// its allowedCIDRs, when set, win.
	// +optional
	Egress *EgressSpec `json:"egress,omitempty"`
}

// TenantClassStatus is the class's roll-out, computed by the operator.
type TenantClassStatus struct {
	// observedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// tenants is the number of Tenants of the class: naming it, or (without spec.className) given it as the default.
	// A class with tenants cannot be deleted.
	// +optional
	Tenants int32 `json:"tenants"`

	// updatedTenants is the number of them that have this generation of the class applied.
	// +optional
	UpdatedTenants int32 `json:"updatedTenants"`

	// conditions: RolledOut is True when every tenant of the class has its current generation; False with reason
	// RollingOut (and how far it got) while the operator moves them, at the rate of its --class-rollout-rate.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ConditionRolledOut is the TenantClass condition that says whether every tenant of the class has its current
// generation applied.
const ConditionRolledOut = "RolledOut"

// Reasons of the TenantClass's conditions.
const (
	// ReasonRolledOut: every tenant of the class has its current generation.
	ReasonRolledOut = "RolledOut"
	// ReasonRollingOut: tenants of the class are being moved to its current generation, at the operator's rate.
	ReasonRollingOut = "RollingOut"
)

// TenantClass is a plan for tenants: the quota, limits, egress, runtime class, placement, extra roles, namespace
// metadata and shared objects that its Tenants get unless they say otherwise. A change rolls out to its tenants at a limited rate.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tnc
// +kubebuilder:printcolumn:name="Default",type=string,JSONPath=`.metadata.annotations.tenancy\.tenant-operator\.dev/is-default-class`
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.tenants`
// +kubebuilder:printcolumn:name="Updated",type=integer,JSONPath=`.status.updatedTenants`,description="Tenants with the class's current generation applied"
// +kubebuilder:printcolumn:name="Rolled-Out",type=string,JSONPath=`.status.conditions[?(@.type=="RolledOut")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63",message="TenantClass names are DNS labels (at most 63 characters): they label every tenant of the class"
type TenantClass struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the plan.
	// +optional
	Spec TenantClassSpec `json:"spec,omitempty"`

	// status is the class's roll-out, as observed by the operator.
	// +optional
	Status TenantClassStatus `json:"status,omitempty"`
}

// TenantClassList is a list of TenantClasses.
// +kubebuilder:object:root=true
type TenantClassList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantClass `json:"items"`
}
