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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// desiredQuota is the tenant's ResourceQuota: the operator's default quota, each key of spec.quota.hard overriding
// it. A Tenant that sets a few keys thus still has every resource bounded (MTB CC-FNS-1 and CC-FNS-2).
func desiredQuota(t *tenancyv1alpha1.Tenant, cfg Config) *corev1.ResourceQuota {
	hard := overlay(cfg.DefaultQuota, quotaHard(t))
	if t.Spec.Suspended {
		if hard == nil {
			hard = corev1.ResourceList{}
		}
		// No pod starts again, whoever's workload asks: the reconciler stops the ones that run.
		hard[corev1.ResourcePods] = resource.MustParse("0")
	}
	return &corev1.ResourceQuota{ObjectMeta: objectMeta(t, QuotaName), Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

// desiredLimitRange is the tenant's LimitRange for containers: the operator's defaults, each key of spec.limits'
// default, defaultRequest and max overriding them.
func desiredLimitRange(t *tenancyv1alpha1.Tenant, cfg Config) *corev1.LimitRange {
	spec := tenancyv1alpha1.LimitsSpec{}
	if t.Spec.Limits != nil {
		spec = *t.Spec.Limits
	}
	return &corev1.LimitRange{
		ObjectMeta: objectMeta(t, LimitRangeName),
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        overlay(cfg.DefaultLimits.Default, spec.Default),
			DefaultRequest: overlay(cfg.DefaultLimits.DefaultRequest, spec.DefaultRequest),
			Max:            overlay(cfg.DefaultLimits.Max, spec.Max),
		}}},
	}
}

// quotaHard is spec.quota.hard, nil without a quota.
func quotaHard(t *tenancyv1alpha1.Tenant) corev1.ResourceList {
	if t.Spec.Quota == nil {
		return nil
	}
	return t.Spec.Quota.Hard
}

// overlay is a copy of base with every key of over set to over's value.
func overlay(base, over corev1.ResourceList) corev1.ResourceList {
	out := base.DeepCopy()
	if out == nil && len(over) > 0 {
		out = corev1.ResourceList{}
	}
	for name, q := range over {
		out[name] = q.DeepCopy()
	}
	return out
}
