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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// What a Tenant deleted with deletionPolicy Retain leaves: its namespace marked retained, a quota that allows no
// pods, default-deny, and the back-end scaled to zero. Everything else the operator made is revoked.

// RetainedNamespace is the tenant's namespace, marked as retained: a new Tenant of the same name may take it back
// (spec.adoptRetainedNamespace), no other. c is the class the namespace had (see AppliedClass): it keeps its metadata.
func RetainedNamespace(t *tenancyv1alpha1.Tenant, c *Class) *corev1.Namespace {
	ns := desiredNamespace(WithClass(t, c), c)
	ns.Annotations = maps.Clone(ns.Annotations)
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	ns.Annotations[AnnotationRetained] = markTrue
	return ns
}

// RetainedQuota allows a retained namespace no pods: nothing runs while nobody is in charge of it, and the
// workloads' controllers cannot start their pods again. The rest of the data stays.
func RetainedQuota(t *tenancyv1alpha1.Tenant) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: objectMeta(t, QuotaName), Spec: corev1.ResourceQuotaSpec{
		Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")},
	}}
}

// ScaledDownBackend is the back-end Deployment with no replicas, its pod template annotations as they run
// (templateAnnotations), so that scaling down rolls nothing.
func ScaledDownBackend(t *tenancyv1alpha1.Tenant, templateAnnotations map[string]string) *appsv1.Deployment {
	deployment, _, _ := desiredBackend(t, "", ptr.To[int32](0), t.Spec.Database != nil)
	deployment.Spec.Template.Annotations = templateAnnotations
	return deployment
}

// GeneratedSecretNames are the Secrets whose values the operator generates for t.
func GeneratedSecretNames(t *tenancyv1alpha1.Tenant) map[string]bool {
	names := map[string]bool{EncryptionKeyName: true}
	if t.Spec.Backend != nil {
		names[TLSSecretName] = true
	}
	if t.Spec.Database != nil {
		names[DatabaseSecretName] = true
	}
	for _, s := range t.Spec.Secrets {
		names[s.Name] = true
	}
	return names
}

// GeneratedValues are a generated secret's values as the operator compares them: without the CA certificate of TLS
// secrets, which comes from the operator's CA, never from the secret.
func GeneratedValues(s *corev1.Secret) map[string][]byte {
	data := s.Data
	if _, ok := data[caCertKey]; ok && s.Type == corev1.SecretTypeTLS {
		data = maps.Clone(data)
		delete(data, caCertKey)
	}
	return data
}
