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
	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// desiredQuota is the tenant's ResourceQuota: spec.quota.hard, or the operator's default.
func desiredQuota(t *tenancyv1alpha1.Tenant, cfg Config) *corev1.ResourceQuota {
	hard := cfg.DefaultQuota
	if t.Spec.Quota != nil && len(t.Spec.Quota.Hard) > 0 {
		hard = t.Spec.Quota.Hard
	}
	return &corev1.ResourceQuota{ObjectMeta: objectMeta(t, QuotaName), Spec: corev1.ResourceQuotaSpec{Hard: hard.DeepCopy()}}
}

// desiredLimitRange is the tenant's LimitRange for containers: spec.limits, or the operator's default, field by field.
func desiredLimitRange(t *tenancyv1alpha1.Tenant, cfg Config) *corev1.LimitRange {
	limits := cfg.DefaultLimits
	if l := t.Spec.Limits; l != nil {
		if len(l.Default) > 0 {
			limits.Default = l.Default
		}
		if len(l.DefaultRequest) > 0 {
			limits.DefaultRequest = l.DefaultRequest
		}
		if len(l.Max) > 0 {
			limits.Max = l.Max
		}
	}
	return &corev1.LimitRange{
		ObjectMeta: objectMeta(t, LimitRangeName),
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        limits.Default.DeepCopy(),
			DefaultRequest: limits.DefaultRequest.DeepCopy(),
			Max:            limits.Max.DeepCopy(),
		}}},
	}
}
