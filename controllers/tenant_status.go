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
	"reflect"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// tenantNamespace is the namespace a tenant lives in: spec.namespace, defaulting to the Tenant's name.
func tenantNamespace(t *tenancyv1alpha1.Tenant) string {
	if t.Spec.Namespace != "" {
		return t.Spec.Namespace
	}
	return t.Name
}

// computeStatus derives the status the tenant should report. Until the core reconciler provisions anything, every
// tenant is Provisioning.
func computeStatus(t *tenancyv1alpha1.Tenant) tenancyv1alpha1.TenantStatus {
	s := *t.Status.DeepCopy()
	s.ObservedGeneration = t.Generation
	s.Namespace = tenantNamespace(t)
	s.Phase = tenancyv1alpha1.TenantPhaseProvisioning
	return s
}

// statusEqual reports whether writing desired would change anything, so that unchanged status is never rewritten.
func statusEqual(current, desired tenancyv1alpha1.TenantStatus) bool {
	return reflect.DeepEqual(current, desired)
}
