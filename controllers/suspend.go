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
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// suspendRecheck is how soon a suspended tenant is looked at again while pods of its namespace are still stopping:
// the operator does not watch the tenant's pods.
const suspendRecheck = 2 * time.Second

// stopPods stops every pod of a suspended tenant's namespace, the tenant's own workloads' included, and counts the
// ones still running. The quota (pods: 0) keeps their controllers from starting them again, and the workloads keep
// their definitions, so they come back as they were when the suspension ends. The tenant's pods are not cached: they
// are listed from the apiserver, as metadata, and only while the tenant is suspended.
func (r *TenantReconciler) stopPods(ctx context.Context, s *tenantScope) error {
	t := s.tenant
	if !t.Spec.Suspended {
		return nil
	}
	ns := render.TenantNamespace(t)
	pods := &metav1.PartialObjectMetadataList{}
	pods.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := r.APIReader.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return err
	}
	s.podsRunning = len(pods.Items)
	stopping := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			stopping++
		}
	}
	if stopping == 0 {
		return nil
	}
	if err := client.IgnoreNotFound(r.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns))); err != nil {
		return err
	}
	r.event(t, corev1.EventTypeNormal, tenancyv1alpha1.ReasonSuspending, "Suspend",
		fmt.Sprintf("Stopping %d pod(s) of namespace %s: the tenant is suspended", stopping, ns))
	return nil
}
