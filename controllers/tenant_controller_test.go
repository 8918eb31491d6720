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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func TestReconcilerReportsStatus(t *testing.T) {
	ctx := needCluster(t)
	tenant := &tenancyv1alpha1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: "acme"},
		Spec:       tenancyv1alpha1.TenantSpec{Namespace: "acme-prod"},
	}
	if err := k8s.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "status observed", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return false, err
		}
		return tenant.Status.ObservedGeneration == tenant.Generation, nil
	})
	if tenant.Status.Namespace != "acme-prod" || tenant.Status.Phase != tenancyv1alpha1.TenantPhaseProvisioning {
		t.Fatalf("status = %+v, want namespace acme-prod and phase Provisioning", tenant.Status)
	}
}
