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
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricTenant is the label naming a tenant.
const metricTenant = "tenant"

// The operator's own metrics, beside controller-runtime's. Tenant names are label values: one series per tenant is
// what an admin alerts on, and the number of tenants is bounded by the admin.
var (
	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_drift_corrections_total",
		Help: "Managed objects found deleted or changed and restored, by kind.",
	}, []string{"kind"})
	secretRotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_secret_rotations_total",
		Help: "Generated secrets, encryption keys and certificates (re)generated, by kind of secret.",
	}, []string{"secret"})
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_reconcile_errors_total",
		Help: "Reconciles that ended in an error or a failed condition, by reason.",
	}, []string{"reason"})
	certificateExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_certificate_expiry_timestamp_seconds",
		Help: "When each tenant's back-end certificate expires (Unix time).",
	}, []string{metricTenant})
	tenantPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_tenant_phase",
		Help: "1 for the phase each tenant is in (one series per tenant).",
	}, []string{metricTenant, "phase"})
	databaseStatements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_database_statements_total",
		Help: "SQL statements run on registered database servers to provision tenants (catalog reads excluded), by server.",
	}, []string{"server"})
)

func init() {
	metrics.Registry.MustRegister(driftCorrections, secretRotations, reconcileErrors, certificateExpiry, tenantPhase, databaseStatements)
}
