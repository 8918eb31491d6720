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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TenantSpec is what the cluster admin asks for: one locked-down namespace per tenant, with the tenant's people, its
// limits, its secrets and its back-end. Defaults are applied by the operator, not by the schema, so that GitOps tools
// see no drift between the applied manifest and the stored object.
// +kubebuilder:validation:XValidation:rule="has(self.__namespace__) == has(oldSelf.__namespace__) && (!has(self.__namespace__) || self.__namespace__ == oldSelf.__namespace__)",message="namespace is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.database) || has(self.database)",message="database cannot be removed once set: the Tenant's deletionPolicy says what happens to the data when the Tenant is deleted"
// +kubebuilder:validation:XValidation:rule="!has(self.database) || !has(self.secrets) || !self.secrets.exists(s, s.name == 'database')",message="the Secret database holds the database credentials: name the generated secret otherwise"
// +kubebuilder:validation:XValidation:rule="!has(self.sharedObjects) || !has(self.secrets) || !self.sharedObjects.exists(o, o.kind == 'Secret' && self.secrets.exists(s, s.name == o.name))",message="a shared Secret and a generated secret cannot have the same name"
// +kubebuilder:validation:XValidation:rule="!has(self.retention) || !has(self.deletionPolicy) || self.deletionPolicy != 'Delete'",message="retention applies to the namespace a deleted Tenant retains: it needs deletionPolicy Retain"
// +kubebuilder:validation:XValidation:rule="!has(self.compliance) || !('PCI-DSS' in self.compliance) || !has(self.network) || !has(self.network.egress) || !has(self.network.egress.allowInternet) || !self.network.egress.allowInternet",message="PCI-DSS RestrictedEgress: egress to the internet is not allowed; name the destinations in network.egress.allowedCIDRs"
// +kubebuilder:validation:XValidation:rule="!has(self.compliance) || !('PCI-DSS' in self.compliance) || !has(self.network) || !has(self.network.egress) || !has(self.network.egress.allowedCIDRs) || self.network.egress.allowedCIDRs.all(c, !isCIDR(c) || cidr(c).prefixLength() >= (cidr(c).ip().family() == 4 ? 16 : 48))",message="PCI-DSS RestrictedEgress: allowed egress CIDRs name destinations, not the internet: at most a /16 (IPv4) or a /48 (IPv6) each"
// +kubebuilder:validation:XValidation:rule="!has(self.compliance) || !('PCI-DSS' in self.compliance) || ((!has(self.secrets) || self.secrets.all(s, !has(s.rotationPeriod) || duration(s.rotationPeriod) <= duration('2160h'))) && (!has(self.database) || !has(self.database.rotationPeriod) || duration(self.database.rotationPeriod) <= duration('2160h')))",message="PCI-DSS SecretRotation: secrets and the database password rotate at least every 90 days (rotationPeriod at most 2160h)"
// +kubebuilder:validation:XValidation:rule="!has(self.compliance) || !('HIPAA' in self.compliance) || !has(self.deletionPolicy) || self.deletionPolicy != 'Delete'",message="HIPAA MinimumRetention: the tenant's data is kept at least 6 years after its deletion; deletionPolicy Delete is not allowed"
// +kubebuilder:validation:XValidation:rule="!has(self.compliance) || !('HIPAA' in self.compliance) || !has(self.retention) || duration(self.retention.period) >= duration('52608h')",message="HIPAA MinimumRetention: the tenant's data is kept at least 6 years after its deletion; retention.period is at least 52608h"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.compliance) || !('HIPAA' in oldSelf.compliance) || (has(self.compliance) && 'HIPAA' in self.compliance)",message="HIPAA MinimumRetention: HIPAA cannot be removed from a Tenant: its data is kept at least 6 years after its deletion, whatever else changes"
// +kubebuilder:validation:XValidation:rule="!has(self.compliance) || !('GDPR' in self.compliance) || (has(self.deletionPolicy) && self.deletionPolicy == 'Delete') || (has(self.retention) && self.retention.afterPeriod == 'Erase')",message="GDPR Erasure: the tenant's data is erased once it is no longer needed; set deletionPolicy Delete, or retention with afterPeriod Erase"
type TenantSpec struct {
	// namespace is the namespace created for the tenant; defaults to the Tenant's name. It cannot be changed.
	// "default" and "kube-*" are refused here; the operator's own namespace and the shared namespaces it is configured
	// with (ingress controllers, cluster DNS, --reserved-namespaces) are refused by the operator (ReservedNamespace).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self != 'default' && !self.startsWith('kube-')",message="default and kube-* namespaces are reserved"
	Namespace string `json:"namespace,omitempty"`

	// className names the TenantClass whose plan (quota, limits, egress, runtime class, placement, extra roles,
	// namespace metadata) the tenant gets; every field set here overrides the class's key by key. Without it, the
	// class marked tenancy.tenant-operator.dev/is-default-class=true applies, if any. A class that does not exist
	// (NamespaceReady False, reason ClassNotFound) gives a new tenant nothing until it does; an existing tenant keeps
	// the class generation it has, and the rest of its spec still applies.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ClassName string `json:"className,omitempty"`

	// namespaceMetadata holds labels and annotations the admin sets on the tenant's namespace (service mesh
	// injection, backup selection, a cost centre), kept there by the operator. Keys that would change how the
	// namespace is isolated are refused: pod-security.kubernetes.io/*, kubernetes.io/metadata.name (what
	// NetworkPolicies select namespaces by), and the operator's own (app.kubernetes.io/managed-by,
	// *tenant-operator.dev/*).
	// +optional
	NamespaceMetadata *NamespaceMetadata `json:"namespaceMetadata,omitempty"`

	// displayName is a human-readable name for the tenant, shown in summaries.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// owners administer the tenant's namespace (ClusterRole tenant-admin): workloads, Secrets, Roles and
	// RoleBindings inside it, never its quota, limits or the operator's objects. Owners, members and viewers may also
	// read their Tenant, by name.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Owners []Subject `json:"owners,omitempty"`

	// members develop in the namespace (ClusterRole tenant-developer): workloads, ConfigMaps, Secrets, no RBAC.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Members []Subject `json:"members,omitempty"`

	// viewers read the namespace (ClusterRole tenant-viewer), Secrets excepted.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Viewers []Subject `json:"viewers,omitempty"`

	// extraRoles binds, in the tenant's namespace, ClusterRoles the cluster admin allows (the operator's
	// --extra-roles) to the owners, members or viewers: for resources the three tenant roles do not cover, such as
	// cert-manager Certificates, ServiceMonitors or HTTPRoutes. A role the operator does not allow is not bound
	// (AccessConfigured False, reason ExtraRoleNotAllowed).
	// +optional
	// +listType=map
	// +listMapKey=clusterRole
	// +kubebuilder:validation:MaxItems=16
	ExtraRoles []ExtraRole `json:"extraRoles,omitempty"`

	// quota is the tenant's ResourceQuota: each key set overrides that key of the operator's default quota, and every
	// other key of the default still applies.
	// +optional
	Quota *QuotaSpec `json:"quota,omitempty"`

	// limits are the container limits of the tenant's LimitRange: each key set in default, defaultRequest or max
	// overrides that key of the operator's default, and every other key of the default still applies.
	// +optional
	Limits *LimitsSpec `json:"limits,omitempty"`

	// network opens the tenant's default-deny network to other tenants and to egress destinations.
	// +optional
	Network *NetworkSpec `json:"network,omitempty"`

	// placement puts every pod of the tenant's namespace, the back-end's and the tenant's own, on the nodes meant
	// for it: the apiserver writes the node selector and tolerations into each pod as it is created (a tenant's pod
	// cannot choose other values for those keys), so dedicated nodes mean something. Dedicated nodes are tainted
	// tenancy.tenant-operator.dev/dedicated=<pool>:NoSchedule: only pods of namespaces whose placement tolerates
	// that pool (operator Equal) may tolerate that taint; every other tenant's pods are refused it.
	// +optional
	Placement *PlacementSpec `json:"placement,omitempty"`

	// backend is the tenant's containerized back-end, run as a hardened Deployment behind a Service.
	// +optional
	Backend *BackendSpec `json:"backend,omitempty"`

	// secrets are generated by the operator from crypto/rand, one Secret each, rotated after rotationPeriod.
	// Their values never appear in status, Events or logs.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Secrets []GeneratedSecret `json:"secrets,omitempty"`

	// sharedObjects are Secrets and ConfigMaps of the operator's namespace that the cluster admin marked shareable
	// (label tenancy.tenant-operator.dev/shareable=true: registry credentials, a CA bundle), copied into the tenant's
	// namespace under the same name and kept in sync with the original; a copy no longer listed (here or by the class)
	// is deleted. An object that is missing or not marked is not copied (SecretsReady False, reason
	// SharedObjectUnavailable); neither is one whose name the tenant's namespace already uses for something else.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	SharedObjects []SharedObject `json:"sharedObjects,omitempty"`

	// database gives the tenant a PostgreSQL database on a server the cluster admin registered, kept apart from
	// other tenants' data by its model. The credentials land in the Secret "database" of the tenant's namespace and
	// in the back-end's environment (DATABASE_URL, TLS verified against the server's CA). Once set it cannot be
	// removed, and its server and model cannot change.
	// +optional
	Database *DatabaseSpec `json:"database,omitempty"`

	// preventDeletion, when true, makes the apiserver refuse to delete the Tenant (a guardrail policy) until it is
	// set back to false: a safety catch for production tenants.
	// +optional
	PreventDeletion bool `json:"preventDeletion,omitempty"`

	// suspended, when true, stops the tenant without deleting anything: the back-end is scaled to zero, every pod of
	// the namespace is stopped and the quota lets none start (the tenant's workloads keep their definitions and
	// replica counts, so they come back as they were), owners and members are bound read-only (tenant-viewer) and
	// their extra roles are unbound, and a guardrail refuses every change in the namespace (exec and port-forward
	// included) to anyone who may not update Tenants. Data, Secrets, keys and the database stay. Setting it back to
	// false restores everything; the phase is Suspended while it holds.
	// +optional
	Suspended bool `json:"suspended,omitempty"`

	// deletionPolicy says what happens to the namespace when the Tenant is deleted. Retain (the default) keeps the
	// namespace and its data and ends every access granted through the tenant: every RoleBinding and ServiceAccount
	// (and with them every token) is deleted, every pod is stopped and the quota allows none, the back-end is scaled
	// to zero. Delete deletes the namespace.
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// retention is how long the namespace a deleted Tenant retained (deletionPolicy Retain) is kept, and what happens
	// then: Erase deletes it, with the tenant's database (GDPR erasure); Keep holds it at least that long (the
	// retention-hold guardrail refuses its deletion, cluster admins' included, and a Tenant that takes it back keeps
	// the hold) and then leaves it for the admin. Without it, a retained namespace is kept until the admin deletes it
	// (with HIPAA, held 6 years first).
	// +optional
	Retention *RetentionSpec `json:"retention,omitempty"`

	// compliance names the regulations the tenant's data falls under. Each is a set of controls (see the Compliant
	// condition): a setting that conflicts with one is refused with a message naming the control; what the Tenant
	// leaves unset the operator sets as the control requires (PCI-DSS: secrets rotated every 90 days, no internet
	// egress from the class; HIPAA: retained 6 years). HIPAA, once set, stays.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	Compliance []ComplianceProfile `json:"compliance,omitempty"`

	// adoptRetainedNamespace takes over the namespace that a deleted Tenant of the same name retained, with its data,
	// generated secrets and keys. Without it, such a namespace is left untouched and the Tenant reports
	// NamespaceRetained: a new Tenant that merely shares a name must not inherit another tenant's data.
	// +optional
	AdoptRetainedNamespace bool `json:"adoptRetainedNamespace,omitempty"`
}

// SharedObject names a Secret or ConfigMap of the operator's namespace to copy into the tenant's namespace.
// +kubebuilder:validation:XValidation:rule="self.kind != 'Secret' || !(self.name in ['backend-tls', 'encryption-key', 'database'])",message="backend-tls, encryption-key and database are the operator's own Secrets"
type SharedObject struct {
	// kind is Secret or ConfigMap.
	Kind SharedObjectKind `json:"kind"`
	// name of the object in the operator's namespace, and of its copy.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
}

// SharedObjectKind is the kind of a shared object.
// +kubebuilder:validation:Enum=Secret;ConfigMap
type SharedObjectKind string

// Kinds of shared objects.
const (
	SharedSecret    SharedObjectKind = "Secret"
	SharedConfigMap SharedObjectKind = "ConfigMap"
)

// LabelShareable marks a Secret or ConfigMap of the operator's namespace that Tenants and TenantClasses may copy
// into tenant namespaces (spec.sharedObjects). Only objects so marked are ever copied: the operator's namespace also
// holds its CA key and the database servers' admin credentials.
const LabelShareable = "tenancy.tenant-operator.dev/shareable"

// LabelValue is a Kubernetes label value: at most 63 characters, letters, digits, '-', '_' and '.', starting and
// ending with a letter or digit.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`
type LabelValue string

// ExtraRole binds one more ClusterRole in the tenant's namespace.
type ExtraRole struct {
	// clusterRole names a ClusterRole that the operator's --extra-roles allows.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$`
	ClusterRole string `json:"clusterRole"`

	// to lists whose subjects are bound to it: Owners, Members, Viewers.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +listType=set
	To []TenantRole `json:"to"`
}

// TenantRole names the people of a tenant with one of its roles.
// +kubebuilder:validation:Enum=Owners;Members;Viewers
type TenantRole string

// The people of a tenant, by role.
const (
	TenantRoleOwners  TenantRole = "Owners"
	TenantRoleMembers TenantRole = "Members"
	TenantRoleViewers TenantRole = "Viewers"
)

// PlacementSpec is where the tenant's pods run.
// +kubebuilder:validation:XValidation:rule="!has(self.tolerations) || self.tolerations.all(a, a.key != 'tenancy.tenant-operator.dev/dedicated' || self.tolerations.all(b, b.key != 'tenancy.tenant-operator.dev/dedicated' || (has(a.value) && has(b.value) && a.value == b.value)))",message="a tenant tolerates one dedicated pool at most: every toleration of tenancy.tenant-operator.dev/dedicated names the same value"
type PlacementSpec struct {
	// nodeSelector is set on every pod of the namespace: each key overrides what the pod says for it.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$') && size(k.substring(k.lastIndexOf('/') + 1)) <= 63)",message="node selector keys are label keys: a DNS prefix and a name of at most 63 characters (node.example.com/pool)"
	NodeSelector map[string]LabelValue `json:"nodeSelector,omitempty"`

	// tolerations are added to every pod of the namespace.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Tolerations []Toleration `json:"tolerations,omitempty"`
}

// Toleration lets the tenant's pods onto nodes with a matching taint.
// +kubebuilder:validation:XValidation:rule="!(self.key in ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master', 'node.kubernetes.io/unschedulable'])",message="the control plane's and cordoned nodes' taints are never tolerated"
// +kubebuilder:validation:XValidation:rule="!has(self.operator) || self.operator != 'Exists' || !has(self.value) || size(self.value) == 0",message="a toleration with operator Exists has no value"
// +kubebuilder:validation:XValidation:rule="self.key != 'tenancy.tenant-operator.dev/dedicated' || ((!has(self.operator) || self.operator == 'Equal') && has(self.value) && size(self.value) > 0)",message="tenancy.tenant-operator.dev/dedicated is tolerated for one pool: operator Equal and a value"
type Toleration struct {
	// key is the taint key tolerated. Tolerating every taint (no key) is not possible.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=316
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	Key string `json:"key"`
	// operator is Equal (the default: the taint's value must be value) or Exists (any value).
	// +optional
	// +kubebuilder:validation:Enum=Equal;Exists
	Operator corev1.TolerationOperator `json:"operator,omitempty"`
	// value the taint must have, with operator Equal.
	// +optional
	Value LabelValue `json:"value,omitempty"`
	// effect tolerated: NoSchedule, PreferNoSchedule or NoExecute; every effect when empty.
	// +optional
	// +kubebuilder:validation:Enum=NoSchedule;PreferNoSchedule;NoExecute
	Effect corev1.TaintEffect `json:"effect,omitempty"`
}

// NamespaceMetadata is what the admin adds to a tenant namespace's metadata.
type NamespaceMetadata struct {
	// labels of the namespace, besides the operator's own.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('pod-security.kubernetes.io/') && !(k in ['kubernetes.io/metadata.name', 'app.kubernetes.io/managed-by']) && !k.matches('^([^/]*[.])?tenant-operator[.]dev/'))",message="pod-security.kubernetes.io/*, kubernetes.io/metadata.name, app.kubernetes.io/managed-by and *tenant-operator.dev/* keys are the cluster's and the operator's: they decide how the namespace is isolated"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$') && size(k.substring(k.lastIndexOf('/') + 1)) <= 63)",message="label keys are a DNS prefix and a name of at most 63 characters (app.example.com/team)"
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// annotations of the namespace, besides the operator's own.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('pod-security.kubernetes.io/') && !k.matches('^([^/]*[.])?tenant-operator[.]dev/'))",message="pod-security.kubernetes.io/* and *tenant-operator.dev/* keys are the cluster's and the operator's"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$') && size(k.substring(k.lastIndexOf('/') + 1)) <= 63)",message="annotation keys are a DNS prefix and a name of at most 63 characters (sidecar.istio.io/inject)"
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SubjectKind is the kind of a subject: a user or group as the cluster's authenticator (OIDC, SSO) reports them, or
// a ServiceAccount.
// +kubebuilder:validation:Enum=User;Group;ServiceAccount
type SubjectKind string

// Subject kinds.
const (
	SubjectUser           SubjectKind = "User"
	SubjectGroup          SubjectKind = "Group"
	SubjectServiceAccount SubjectKind = "ServiceAccount"
)

// Subject is someone given access to the tenant. The cluster's own identities are refused: a binding to a system:
// group (system:authenticated, system:serviceaccounts, ...) would grant the tenant to everyone in it, and one to a
// kube-* ServiceAccount to the control plane's components.
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' ? has(self.__namespace__) : !has(self.__namespace__)",message="namespace is required for ServiceAccount subjects and not allowed for User and Group"
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' || !self.name.startsWith('system:')",message="system: users and groups are reserved for the cluster's own identities"
// +kubebuilder:validation:XValidation:rule="self.kind != 'ServiceAccount' || !has(self.__namespace__) || !self.__namespace__.startsWith('kube-')",message="ServiceAccounts of kube-* namespaces are reserved for the cluster's own components"
type Subject struct {
	// kind is User, Group or ServiceAccount.
	Kind SubjectKind `json:"kind"`
	// name is the user or group name as the authenticator reports it (an OIDC "sub", email or group claim), or the
	// ServiceAccount's name. Names starting with "system:" are the cluster's own and refused.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// namespace is the ServiceAccount's namespace; set for ServiceAccounts only. kube-* namespaces are refused.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// QuotaSpec is the tenant's ResourceQuota.
type QuotaSpec struct {
	// hard is the ResourceQuota's hard limits (requests.cpu, limits.memory, pods, services, ...), over the operator's
	// default quota key by key.
	// +optional
	Hard corev1.ResourceList `json:"hard,omitempty"`
}

// LimitsSpec is the per-container part of the tenant's LimitRange.
type LimitsSpec struct {
	// default is the limit given to containers that set none.
	// +optional
	Default corev1.ResourceList `json:"default,omitempty"`
	// defaultRequest is the request given to containers that set none.
	// +optional
	DefaultRequest corev1.ResourceList `json:"defaultRequest,omitempty"`
	// max is the most a container may ask for.
	// +optional
	Max corev1.ResourceList `json:"max,omitempty"`
}

// NetworkSpec opens holes in the tenant's default-deny network.
type NetworkSpec struct {
	// allowFromTenants names the Tenants whose pods may reach this tenant's back-end.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	AllowFromTenants []string `json:"allowFromTenants,omitempty"`
	// egress opens outbound traffic beyond the namespace and cluster DNS.
	// +optional
	Egress *EgressSpec `json:"egress,omitempty"`
}

// EgressSpec opens outbound traffic.
type EgressSpec struct {
	// allowInternet opens egress to 0.0.0.0/0 and ::/0, except link-local (169.254.0.0/16 and fe80::/10, where most
	// clouds serve instance metadata), the metadata addresses clouds serve elsewhere (100.100.100.200, 168.63.129.16,
	// fd00:ec2::254) and the cluster's own CIDRs.
	// +optional
	AllowInternet bool `json:"allowInternet,omitempty"`
	// allowedCIDRs opens egress to these CIDRs (a database subnet, a partner's API). Link-local ranges are refused;
	// CIDRs overlapping the cluster's own ranges or a cloud metadata address are left out of the tenant's egress by
	// the operator (NetworkIsolated False, reason ForbiddenCIDR).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 10.0.0.0/24 or 2001:db8::/32"
	// +kubebuilder:validation:items:XValidation:rule="!isCIDR(self) || !(cidr(self).containsCIDR(cidr('169.254.0.0/16')) || cidr('169.254.0.0/16').containsCIDR(cidr(self)) || cidr(self).containsCIDR(cidr('fe80::/10')) || cidr('fe80::/10').containsCIDR(cidr(self)))",message="must not overlap link-local 169.254.0.0/16 or fe80::/10, where clouds serve instance metadata"
	AllowedCIDRs []string `json:"allowedCIDRs,omitempty"`
}

// BackendSpec is the tenant's back-end container.
type BackendSpec struct {
	// image is the back-end's container image.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image"`
	// replicas is the number of back-end pods; defaults to 1. A PodDisruptionBudget keeps one available when > 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Replicas *int32 `json:"replicas,omitempty"`
	// port is the container port the back-end listens on, served by the Service on the same port; defaults to 8080.
	// Ports below 1024 need a capability the restricted profile drops.
	// +optional
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`
	// command overrides the image's entrypoint.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`
	// args overrides the image's arguments.
	// +optional
	// +listType=atomic
	Args []string `json:"args,omitempty"`
	// env adds environment variables. TENANT_NAME and TENANT_NAMESPACE are set by the operator.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []EnvVar `json:"env,omitempty"`
	// resources of the back-end container; defaults come from the tenant's LimitRange.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// runtimeClassName runs the back-end's pods under a RuntimeClass (gVisor, Kata) for stronger isolation. The
	// operator labels the namespace with it, so it must also be a valid label value.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$`
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`
}

// EnvVar is a plain environment variable.
// +kubebuilder:validation:XValidation:rule="!(self.name in ['TENANT_NAME', 'TENANT_NAMESPACE'])",message="TENANT_NAME and TENANT_NAMESPACE are set by the operator"
type EnvVar struct {
	// name of the variable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`
	// value of the variable. Do not put secrets here: use spec.secrets.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Value string `json:"value,omitempty"`
}

// GeneratedSecret is a Secret whose values the operator generates and rotates.
type GeneratedSecret struct {
	// name of the Secret in the tenant's namespace. backend-tls and encryption-key are the operator's own.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="!(self in ['backend-tls', 'encryption-key'])",message="backend-tls and encryption-key are reserved"
	Name string `json:"name"`
	// keys of the Secret, each given its own random value; defaults to [password].
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[-._a-zA-Z0-9]+$`
	Keys []string `json:"keys,omitempty"`
	// length of each value in characters; defaults to 32.
	// +optional
	// +kubebuilder:validation:Minimum=16
	// +kubebuilder:validation:Maximum=256
	Length *int32 `json:"length,omitempty"`
	// rotationPeriod rotates the values this long after they were generated (at least 1h); never when omitted.
	// A rotation rolls the back-end's pods.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="rotationPeriod must be at least 1h"
	RotationPeriod *metav1.Duration `json:"rotationPeriod,omitempty"`
}

// DeletionPolicy says what deleting a Tenant does to its namespace.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

// Deletion policies.
const (
	DeletionPolicyRetain DeletionPolicy = "Retain"
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// RetentionSpec is how long a retained namespace is kept.
type RetentionSpec struct {
	// period the namespace is kept after the Tenant's deletion, at least 1h.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="retention period must be at least 1h"
	Period metav1.Duration `json:"period"`
	// afterPeriod is Erase (the namespace, and the tenant's database, are deleted once the period is over) or Keep
	// (the namespace may not be deleted before the period is over, and is kept after it until the admin deletes it).
	AfterPeriod RetentionAction `json:"afterPeriod"`
}

// RetentionAction is what happens to a retained namespace when its retention period is over.
// +kubebuilder:validation:Enum=Erase;Keep
type RetentionAction string

// Retention actions.
const (
	RetentionErase RetentionAction = "Erase"
	RetentionKeep  RetentionAction = "Keep"
)

// ComplianceProfile names a regulation whose controls the operator enforces on a tenant.
// +kubebuilder:validation:Enum=PCI-DSS;HIPAA;GDPR
type ComplianceProfile string

// Compliance profiles.
const (
	// CompliancePCIDSS: payment card data (PCI DSS v4.0): RestrictedEgress, SecretRotation, KeyRotation.
	CompliancePCIDSS ComplianceProfile = "PCI-DSS"
	// ComplianceHIPAA: US health data (45 CFR 164): MinimumRetention, EncryptionAtRest.
	ComplianceHIPAA ComplianceProfile = "HIPAA"
	// ComplianceGDPR: EU personal data: Erasure, EncryptionAtRest.
	ComplianceGDPR ComplianceProfile = "GDPR"
)

// Controls of the compliance profiles, as the Compliant condition and the CEL refusals name them.
const (
	// ControlRestrictedEgress (PCI-DSS 1.3.2): no egress to the internet, only to allowed CIDRs.
	ControlRestrictedEgress = "RestrictedEgress"
	// ControlSecretRotation (PCI-DSS 8.3.9): generated secrets and the database password rotate at least every 90
	// days.
	ControlSecretRotation = "SecretRotation"
	// ControlKeyRotation (PCI-DSS 3.7.4, 4.2.1): the encryption key ring gets a new key at least yearly, and the
	// back-end certificate lives at most 398 days (operator settings).
	ControlKeyRotation = "KeyRotation"
	// ControlMinimumRetention (HIPAA 164.316(b)(2)): the data is kept at least 6 years after the Tenant's deletion.
	ControlMinimumRetention = "MinimumRetention"
	// ControlErasure (GDPR 5(1)(e), 17): the data is erased once its retention period is over.
	ControlErasure = "Erasure"
	// ControlEncryptionAtRest (HIPAA 164.312(a)(2)(iv), GDPR 32): the tenant has an encryption key ring, rotated.
	ControlEncryptionAtRest = "EncryptionAtRest"
)

// DatabaseSpec is the tenant's database.
// +kubebuilder:validation:XValidation:rule="self.server == oldSelf.server && self.model == oldSelf.model",message="the server and model of a tenant's database cannot change: its data would have to move"
type DatabaseSpec struct {
	// server names a database server the cluster admin registered with the operator: a Secret of the operator's
	// namespace labelled tenancy.tenant-operator.dev/database-server=<server>.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Server string `json:"server"`
	// model is how the tenant's data is kept apart from other tenants' on that server: SharedSchema (rows tagged by
	// tenant, row-level security), SchemaPerTenant or DatabasePerTenant.
	Model DatabaseModel `json:"model"`
	// rotationPeriod rotates the database password this long after it was generated (at least 1h); never when
	// omitted. A rotation changes the password on the server and in the Secret, and rolls the back-end's pods.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="rotationPeriod must be at least 1h"
	RotationPeriod *metav1.Duration `json:"rotationPeriod,omitempty"`
}

// DatabaseModel is how a tenant's data is kept apart from other tenants' on a shared PostgreSQL server.
// +kubebuilder:validation:Enum=SharedSchema;SchemaPerTenant;DatabasePerTenant
type DatabaseModel string

// Database models, from the most shared to the most separate.
const (
	// DatabaseModelSharedSchema: one database and schema for every tenant, rows tagged by tenant and kept apart by
	// row-level security bound to the connecting role.
	DatabaseModelSharedSchema DatabaseModel = "SharedSchema"
	// DatabaseModelSchemaPerTenant: a schema per tenant, owned by its role, in a shared database.
	DatabaseModelSchemaPerTenant DatabaseModel = "SchemaPerTenant"
	// DatabaseModelDatabasePerTenant: a database per tenant, owned by its role.
	DatabaseModelDatabasePerTenant DatabaseModel = "DatabasePerTenant"
)

// TenantPhase summarises where a tenant stands.
// +kubebuilder:validation:Enum=Provisioning;Ready;Suspended;Failed;Terminating
type TenantPhase string

// Phases of a tenant.
const (
	TenantPhaseProvisioning TenantPhase = "Provisioning"
	TenantPhaseReady        TenantPhase = "Ready"
	// TenantPhaseSuspended: spec.suspended holds and the tenant is stopped: no pod runs, its people read only.
	TenantPhaseSuspended   TenantPhase = "Suspended"
	TenantPhaseFailed      TenantPhase = "Failed"
	TenantPhaseTerminating TenantPhase = "Terminating"
)

// TenantStatus is computed by the operator; it is never written by users.
type TenantStatus struct {
	// observedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// namespace is the namespace the tenant lives in.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// phase summarises the conditions: Provisioning, Ready, Suspended, Failed or Terminating.
	// +optional
	Phase TenantPhase `json:"phase,omitempty"`

	// conditions describe each area of the tenant: Ready, NamespaceReady, NetworkIsolated, AccessConfigured,
	// QuotaEnforced, SecretsReady, BackendReady, with spec.database DatabaseReady, with spec.compliance Compliant, and
	// once audited Audited.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// class is the TenantClass, and its generation, that the tenant's objects were last rendered with.
	// +optional
	Class *AppliedClass `json:"class,omitempty"`

	// backend reports the back-end's Deployment.
	// +optional
	Backend *BackendStatus `json:"backend,omitempty"`

	// secrets reports when each generated secret was last rotated. Never a value.
	// +optional
	// +listType=map
	// +listMapKey=name
	Secrets []SecretStatus `json:"secrets,omitempty"`

	// audit sums up the operator's last access audit of the tenant (--audit-interval); kubectl tenant audit shows
	// the whole report.
	// +optional
	Audit *AuditSummary `json:"audit,omitempty"`
}

// AuditSummary is the outcome of an access audit: counts, never a secret.
type AuditSummary struct {
	// time the audit ran.
	Time metav1.Time `json:"time"`
	// subjects reviewed: the Tenant's people and everyone else bound in its namespace.
	Subjects int32 `json:"subjects"`
	// findings flagged; the Audited condition lists them.
	Findings int32 `json:"findings"`
	// driftCorrections are the tenant's objects the operator found changed or deleted, and restored, since the
	// audit before (counted by the operator's process: a restart starts again from 0).
	DriftCorrections int32 `json:"driftCorrections"`
}

// AppliedClass is a generation of a TenantClass.
type AppliedClass struct {
	// name of the TenantClass.
	Name string `json:"name"`
	// generation of the class applied. While a change of the class rolls out, it is behind the class's.
	Generation int64 `json:"generation"`
}

// BackendStatus reports the back-end's Deployment.
type BackendStatus struct {
	// ready is readyReplicas/replicas, for kubectl's Backend column.
	Ready string `json:"ready"`
	// replicas desired.
	Replicas int32 `json:"replicas"`
	// readyReplicas running and ready.
	ReadyReplicas int32 `json:"readyReplicas"`
	// image running.
	Image string `json:"image"`
}

// SecretStatus reports a generated secret's rotation.
type SecretStatus struct {
	// name of the Secret.
	Name string `json:"name"`
	// lastRotationTime is when its values were last generated.
	LastRotationTime metav1.Time `json:"lastRotationTime"`
}

// Condition types of a Tenant.
const (
	ConditionReady            = "Ready"
	ConditionNamespaceReady   = "NamespaceReady"
	ConditionNetworkIsolated  = "NetworkIsolated"
	ConditionAccessConfigured = "AccessConfigured"
	ConditionQuotaEnforced    = "QuotaEnforced"
	ConditionSecretsReady     = "SecretsReady"
	ConditionBackendReady     = "BackendReady"
	// ConditionDatabaseReady is reported only for a Tenant with spec.database.
	ConditionDatabaseReady = "DatabaseReady"
	// ConditionAudited reports the last access audit (--audit-interval): True with no findings, False with them,
	// listed in the message. It does not count towards Ready.
	ConditionAudited = "Audited"
	// ConditionCompliant is reported only for a Tenant with spec.compliance: whether every control of its profiles
	// holds, each listed in the message. It does not count towards Ready.
	ConditionCompliant = "Compliant"
)

// Tenant is one customer of the platform: a namespace locked down by default-deny networking, least-privilege RBAC,
// quotas, generated secrets and Pod Security "restricted", with the tenant's back-end running inside it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tn
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Backend",type=string,JSONPath=`.status.backend.ready`,description="Ready/desired back-end replicas"
// +kubebuilder:printcolumn:name="Class",type=string,priority=1,JSONPath=`.status.class.name`,description="The TenantClass applied"
// +kubebuilder:printcolumn:name="Reason",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,description="Why the tenant is or is not Ready: the reason of the first area that failed, else of the first not ready yet"
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,description="The Ready condition's message: every area not ready, and what failed"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="has(self.spec) && has(self.spec.__namespace__) || (self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63)",message="a Tenant without spec.namespace needs a name that is a valid namespace name (DNS label)"
// +kubebuilder:validation:XValidation:rule="has(self.spec) && has(self.spec.__namespace__) || (self.metadata.name != 'default' && !self.metadata.name.startsWith('kube-'))",message="default and kube-* namespaces are reserved: set spec.namespace"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="Tenant names are at most 63 characters: they label every object of the tenant"
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

// Reasons of the Tenant's conditions. They are API: alerts and the Argo CD health check match on them.
const (
	// ReasonReady: the area is as desired.
	ReasonReady = "Ready"
	// ReasonProgressing: the area is being provisioned (objects applied, waiting on the cluster).
	ReasonProgressing = "Progressing"
	// ReasonNamespaceConflict: the namespace exists and is not this tenant's; nothing was changed.
	ReasonNamespaceConflict = "NamespaceConflict"
	// ReasonNamespaceRetained: the namespace was retained by a deleted Tenant of the same name; it is taken over only
	// with spec.adoptRetainedNamespace.
	ReasonNamespaceRetained = "NamespaceRetained"
	// ReasonReservedNamespace: the namespace is the operator's own, or a shared namespace it is configured with
	// (ingress controllers, cluster DNS, --reserved-namespaces).
	ReasonReservedNamespace = "ReservedNamespace"
	// ReasonForbiddenCIDR: an allowed egress CIDR overlaps the cluster's own ranges or a cloud metadata address; egress
	// to it was not opened.
	ReasonForbiddenCIDR = "ForbiddenCIDR"
	// ReasonObjectConflict: an object the operator would create exists and is not the operator's; it was left alone.
	ReasonObjectConflict = "ObjectConflict"
	// ReasonApplyFailed: the apiserver refused an object.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonExtraRoleNotAllowed: spec.extraRoles names a ClusterRole the operator's --extra-roles does not allow; it
	// was not bound.
	ReasonExtraRoleNotAllowed = "ExtraRoleNotAllowed"
	// ReasonSharedObjectUnavailable: a shared object the tenant lists is missing from the operator's namespace, or not
	// marked shareable, or its name is taken in the tenant's namespace by one of the operator's own; it was not copied.
	ReasonSharedObjectUnavailable = "SharedObjectUnavailable"
	// ReasonNoBackend: the tenant has no back-end.
	ReasonNoBackend = "NoBackend"
	// ReasonBackendUnavailable: the back-end's pods are not (all) ready yet.
	ReasonBackendUnavailable = "BackendUnavailable"
	// ReasonBackendFailed: the back-end cannot start (its Deployment exceeded its progress deadline or cannot create
	// pods, or its pods cannot pull their image, cannot be created or keep crashing); the message names why.
	ReasonBackendFailed = "BackendFailed"
	// ReasonQuotaPending: the ResourceQuota exists but the quota controller has not taken it up yet.
	ReasonQuotaPending = "QuotaPending"
	// ReasonSuspended: the tenant is suspended (spec.suspended) and stopped: no pod runs, its people read only. Ready
	// is True with this reason: everything is as the spec asks.
	ReasonSuspended = "Suspended"
	// ReasonSuspending: the tenant is suspended and pods of its namespace are still stopping.
	ReasonSuspending = "Suspending"
	// ReasonClassNotFound: spec.className names a TenantClass that does not exist: a new tenant gets nothing, an
	// existing one keeps the class generation it has.
	ReasonClassNotFound = "ClassNotFound"
	// ReasonTerminating: the Tenant is being deleted and its deletion policy carried out.
	ReasonTerminating = "Terminating"
	// ReasonNotReady is no longer set: a Ready condition that is False carries the reason of the first area that
	// failed, else of the first area not ready yet.
	ReasonNotReady = "NotReady"
	// ReasonNoFindings: the last access audit flagged nothing (Audited True).
	ReasonNoFindings = "NoFindings"
	// ReasonAuditFindings: the last access audit flagged something: a subject the Tenant does not name, more than it
	// grants, a guardrail missing, a rotation overdue, a certificate expiring; the Audited message lists them.
	ReasonAuditFindings = "AuditFindings"
	// ReasonControlsMet: every control of the tenant's compliance profiles holds (Compliant True).
	ReasonControlsMet = "ControlsMet"
	// ReasonControlNotMet: a control of the tenant's compliance profiles does not hold (an operator setting, or what
	// its class gives); the Compliant message names it and says why.
	ReasonControlNotMet = "ControlNotMet"
	// ReasonDatabaseServerUnknown: no database server is registered under spec.database.server, or its registration
	// cannot be used; the message says why.
	ReasonDatabaseServerUnknown = "DatabaseServerUnknown"
	// ReasonDatabaseUnreachable: the database server does not answer; the operator retries with backoff.
	ReasonDatabaseUnreachable = "DatabaseUnreachable"
	// ReasonDatabaseAuthenticationFailed: the server refused the registration's admin credentials.
	ReasonDatabaseAuthenticationFailed = "DatabaseAuthenticationFailed"
	// ReasonDatabaseRoleTaken: the tenant's role on the server holds the data of another namespace's tenant (a deleted
	// Tenant of the same name, retained): the operator leaves it alone until that namespace is adopted or erased.
	ReasonDatabaseRoleTaken = "DatabaseRoleTaken"
	// ReasonDatabaseFailed: the server refused a statement of the tenant's provisioning; the message names it.
	ReasonDatabaseFailed = "DatabaseFailed"
)
