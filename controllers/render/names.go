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
	"crypto/sha256"
	"encoding/hex"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Labels and annotations the operator puts on what it manages. Pruning, watches and the guardrails select on them.
const (
	LabelManagedBy    = "app.kubernetes.io/managed-by"
	ManagedByValue    = "tenant-operator"
	LabelTenant       = "tenancy.tenant-operator.dev/tenant"
	LabelComponent    = "app.kubernetes.io/component"
	LabelRuntimeClass = "tenancy.tenant-operator.dev/runtime-class"
	// LabelSuspended marks the namespace of a suspended tenant: the suspended-namespace guardrail selects on it.
	LabelSuspended     = "tenancy.tenant-operator.dev/suspended"
	AnnotationRetained = "tenancy.tenant-operator.dev/retained"
	// AnnotationRetainedBy is the UID of the Tenant whose deletion retained the namespace: a later Tenant of the same
	// name that never adopted it deletes nothing of it.
	AnnotationRetainedBy = "tenancy.tenant-operator.dev/retained-by"
	AnnotationGenerated  = "tenancy.tenant-operator.dev/generated-at"
	// OperatorKeyPrefix starts every label and annotation key that is the operator's own.
	OperatorKeyPrefix = "tenancy.tenant-operator.dev/"
	// LabelSegmented, set to "true" by a tenant on its own pods, leaves them out of allow-same-namespace, so that
	// only the tenant's own NetworkPolicies let the namespace's other pods reach them (or them reach those pods).
	// NetworkPolicies only add up: without it, no policy of the tenant could narrow what allow-same-namespace opens.
	// It is the tenant's key, not the operator's, and it can only take away.
	LabelSegmented = "network.tenant-operator.dev/segmented"
	// markTrue is the value of the marks above that are either set or absent (suspended, retained, segmented).
	markTrue = "true"
)

// Names of the objects every tenant gets.
const (
	BackendName         = "backend"
	QuotaName           = "tenant-quota"
	LimitRangeName      = "tenant-limits"
	TLSSecretName       = "backend-tls"
	EncryptionKeyName   = "encryption-key"
	TenantAdminRole     = "tenant-operator-tenant-admin"
	TenantDeveloperRole = "tenant-operator-tenant-developer"
	TenantViewerRole    = "tenant-operator-tenant-viewer"
	kindClusterRole     = "ClusterRole"
)

// tenantNamespace is the namespace a tenant lives in: spec.namespace, defaulting to the Tenant's name.
func TenantNamespace(t *tenancyv1alpha1.Tenant) string {
	if t.Spec.Namespace != "" {
		return t.Spec.Namespace
	}
	return t.Name
}

// managedLabels are the labels of every object the operator manages for tenant t.
func ManagedLabels(t *tenancyv1alpha1.Tenant) map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelTenant: t.Name}
}

// objectMeta is the metadata of a managed object named name in the tenant's namespace.
func objectMeta(t *tenancyv1alpha1.Tenant, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: TenantNamespace(t), Labels: ManagedLabels(t)}
}

// DatabaseRole is the tenant's PostgreSQL role, and the name of its schema (SchemaPerTenant) or database
// (DatabasePerTenant). PostgreSQL truncates identifiers at 63 bytes, so a longer one is a hash of the tenant's name
// under a prefix of its own: Tenant names hold no "_", so no plain name can take a hashed one's place.
func DatabaseRole(t *tenancyv1alpha1.Tenant) string {
	if name := "tenant_" + t.Name; len(name) <= 63 {
		return name
	}
	return shortName("tenant_h_", t.Name, 0)
}

// shortName keeps prefix+key within limit characters: a key that does not fit is replaced by a hash of it, so
// names stay stable and unique whatever the key's length.
func shortName(prefix, key string, limit int) string {
	if len(prefix)+len(key) <= limit {
		return prefix + key
	}
	sum := sha256.Sum256([]byte(key))
	return prefix + hex.EncodeToString(sum[:])[:16]
}

// ReservedMetadataKey reports whether a label or annotation key is the operator's to set, or Pod Security's, which
// decide what runs in a tenant's namespace: no one else may set them on the operator's objects.
func ReservedMetadataKey(key string) bool {
	return key == LabelManagedBy || strings.HasPrefix(key, OperatorKeyPrefix) ||
		strings.HasPrefix(key, "pod-security.kubernetes.io/")
}
