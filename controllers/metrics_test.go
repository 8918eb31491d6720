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
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// seriesOf are the series of c that belong to tenant, as "label=value,... value", sorted: other tenants' series (of
// the envtest suite's tenants, reconciled meanwhile) are left out.
func seriesOf(t *testing.T, c prometheus.Collector, tenant string) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			mine := false
			for _, l := range m.GetLabel() {
				if l.GetName() == metricTenant {
					mine = l.GetValue() == tenant
					continue
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if mine {
				series = append(series, fmt.Sprintf("%s %v", strings.Join(labels, ","), m.GetGauge().GetValue()+m.GetCounter().GetValue()))
			}
		}
	}
	sort.Strings(series)
	return series
}

func condition(typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: st, Reason: reason}
}

// TestConditionSeries: one series per tenant and condition, with the condition's current status; a change of status
// replaces the series instead of adding one, and a deleted tenant's go.
func TestConditionSeries(t *testing.T) {
	r := &TenantReconciler{}
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "metrics-conditions"}}
	s := r.newScope(tenant)
	r.recordMetrics(s, tenancyv1alpha1.TenantStatus{Conditions: []metav1.Condition{
		condition(tenancyv1alpha1.ConditionBackendReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonBackendUnavailable),
		condition(tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, tenancyv1alpha1.ReasonNotReady),
	}})
	want := []string{"condition=BackendReady,status=False 1", "condition=Ready,status=False 1"}
	if got := seriesOf(t, tenantCondition, tenant.Name); !slices.Equal(got, want) {
		t.Errorf("while rolling out: %v, want %v", got, want)
	}
	r.recordMetrics(s, tenancyv1alpha1.TenantStatus{Conditions: []metav1.Condition{
		condition(tenancyv1alpha1.ConditionBackendReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady),
		condition(tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, tenancyv1alpha1.ReasonReady),
	}})
	want = []string{"condition=BackendReady,status=True 1", "condition=Ready,status=True 1"}
	if got := seriesOf(t, tenantCondition, tenant.Name); !slices.Equal(got, want) {
		t.Errorf("once ready: %v, want %v", got, want)
	}
	r.forget(tenant.Name)
	if got := seriesOf(t, tenantCondition, tenant.Name); len(got) != 0 {
		t.Errorf("after forget: %v", got)
	}
}

// TestCertificateSeriesGoWithTheBackend: a tenant whose back-end was removed keeps no certificate series, which
// would set off TenantCertificateRenewalOverdue and TenantCertificateExpiring for a certificate nobody renews.
func TestCertificateSeriesGoWithTheBackend(t *testing.T) {
	r := &TenantReconciler{}
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "metrics-no-backend"}}
	certificateExpiry.WithLabelValues(tenant.Name).Set(1)
	certificateRenewal.WithLabelValues(tenant.Name).Set(1)
	r.recordMetrics(r.newScope(tenant), tenancyv1alpha1.TenantStatus{})
	if got := append(seriesOf(t, certificateExpiry, tenant.Name), seriesOf(t, certificateRenewal, tenant.Name)...); len(got) != 0 {
		t.Errorf("certificate series of a tenant without a back-end: %v", got)
	}
}

// TestRotationKinds: rotations are counted by kind of Secret, never by the name a Tenant gave a generated Secret.
func TestRotationKinds(t *testing.T) {
	for name, want := range map[string]string{
		render.TLSSecretName: "certificate", render.EncryptionKeyName: "encryption-key",
		render.DatabaseSecretName: "database", "db-credentials": "generated", "api-keys": "generated",
	} {
		if got := rotationKind(name); got != want {
			t.Errorf("rotationKind(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestBuildInfo: one series, with the version it was given and the Go version.
func TestBuildInfo(t *testing.T) {
	recordBuildInfo("v1.2.3")
	recordBuildInfo("v1.2.4")
	if n := testutil.CollectAndCount(buildInfo); n != 1 {
		t.Fatalf("%d build_info series", n)
	}
	want := `
# HELP tenant_operator_build_info 1, labelled with the operator's version, the source revision it was built from and the Go version.
# TYPE tenant_operator_build_info gauge
`
	if err := testutil.CollectAndCompare(buildInfo, strings.NewReader(want+"tenant_operator_build_info{goversion=\""+runtime.Version()+"\",revision=\""+buildRevision()+"\",version=\"v1.2.4\"} 1\n")); err != nil {
		t.Error(err)
	}
}
