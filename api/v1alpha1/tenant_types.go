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

// TenantSpec is what the cluster admin asks for: one locked-down namespace per tenant.
type TenantSpec struct {
	// namespace is the namespace created for the tenant. Defaults to the Tenant's name.
	// It cannot be changed once set.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="namespace is immutable"
	Namespace string `json:"namespace,omitempty"`

	// displayName is a human-readable name for the tenant, shown in summaries.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`
}

// TenantPhase summarises where a tenant stands.
// +kubebuilder:validation:Enum=Provisioning;Ready;Failed;Terminating
type TenantPhase string

// Phases of a tenant.
const (
	TenantPhaseProvisioning TenantPhase = "Provisioning"
	TenantPhaseReady        TenantPhase = "Ready"
	TenantPhaseFailed       TenantPhase = "Failed"
	TenantPhaseTerminating  TenantPhase = "Terminating"
)

// TenantStatus is computed by the operator; it is never written by users.
type TenantStatus struct {
	// observedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// namespace is the namespace the tenant lives in.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// phase summarises the conditions: Provisioning, Ready, Failed or Terminating.
	// +optional
	Phase TenantPhase `json:"phase,omitempty"`

	// conditions describe each area of the tenant (Ready plus one per area).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Tenant is one customer of the platform: a namespace locked down by default-deny networking, least-privilege RBAC,
// quotas, generated secrets and Pod Security "restricted", with the tenant's back-end running inside it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tn
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Tenant struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired tenant.
	// +optional
	Spec TenantSpec `json:"spec,omitempty"`

	// status is where the tenant stands, as observed by the operator.
	// +optional
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList is a list of Tenants.
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}
