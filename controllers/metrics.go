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
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricTenant is the label naming a tenant; metricRetainedNamespace one naming a retained namespace (not
// "namespace", which Prometheus sets to the operator's own on every series it scrapes).
const (
	metricTenant            = "tenant"
	metricRetainedNamespace = "retained_namespace"
)

// The operator's own metrics, beside controller-runtime's. Tenant names are label values: one series per tenant is
// what an admin alerts on, and the number of tenants is bounded by the admin. No label takes a name a Tenant's spec
// chooses (a generated Secret's, say): the series would be as many as the admin's YAML says.
var (
	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_drift_corrections_total",
		Help: "Managed objects found deleted or changed and restored, by kind.",
	}, []string{"kind"})
	secretRotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_secret_rotations_total",
		Help: "Secrets (re)generated on rotation, by tenant and kind: generated (spec.secrets), encryption-key, certificate, database.",
	}, []string{metricTenant, "kind"})
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_reconcile_errors_total",
		Help: "Reconciles of a tenant that ended in an error (a conflict, a failed apply, a database that cannot be reached), " +
			"by reason; waiting (a back-end rolling out, a quota not enforced yet) is not an error.",
	}, []string{"reason"})
	certificateExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_certificate_expiry_timestamp_seconds",
		Help: "When each tenant's back-end certificate expires (Unix time).",
	}, []string{metricTenant})
	certificateRenewal = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_certificate_renewal_timestamp_seconds",
		Help: "When the operator renews each tenant's back-end certificate: two thirds into its lifetime (Unix time).",
	}, []string{metricTenant})
	tenantPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_tenant_phase",
		Help: "1 for the phase each tenant is in (one series per tenant).",
	}, []string{metricTenant, "phase"})
	tenantCondition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_tenant_condition",
		Help: "1 for the status (True, False, Unknown) of each condition of each tenant (one series per tenant and condition).",
	}, []string{metricTenant, "condition", "status"})
	databaseStatements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_database_statements_total",
		Help: "SQL statements run on registered database servers to provision tenants (catalog reads excluded), by server.",
	}, []string{"server"})
	retentionActions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_retention_actions_total",
		Help: "Steps of the retention of deleted tenants' namespaces: retained (the Tenant was deleted), erased (its period " +
			"over, the namespace and database deleted), released (its period over, the hold on a kept namespace lifted).",
	}, []string{"action"})
	retentionEnd = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_retention_end_timestamp_seconds",
		Help: "When the retention period of each retained namespace that has one ends (Unix time), with what happens then " +
			"(Erase, Keep); the series goes once that is done.",
	}, []string{metricRetainedNamespace, "after_period"})
	auditFindings = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_audit_findings",
		Help: "Findings of each tenant's last access audit (--audit-interval): subjects the Tenant does not name, more than it grants, " +
			"guardrails missing, rotations overdue, a certificate expiring.",
	}, []string{metricTenant})
	deniedRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_denied_requests_total",
		Help: "Requests refused in each tenant's namespace, by the user who made them and what refused them: a guardrail " +
			"(its admission policy) or rbac, read from the apiserver's audit events (--audit-sink). Past 100 users of a tenant " +
			"at a time, more count together as \"(other users)\"; a user not refused for 2 hours gives up its place and series.",
	}, []string{metricTenant, "user", "denied_by"})
	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenant_operator_build_info",
		Help: "1, labelled with the operator's version, the source revision it was built from and the Go version.",
	}, []string{"version", "revision", "goversion"})
)

func init() {
	metrics.Registry.MustRegister(driftCorrections, secretRotations, reconcileErrors, certificateExpiry, certificateRenewal,
		tenantPhase, tenantCondition, databaseStatements, retentionActions, retentionEnd, auditFindings, deniedRequests, buildInfo)
}

// recordBuildInfo sets tenant_operator_build_info for this binary.
func recordBuildInfo(version string) {
	if version == "" {
		version = "dev"
	}
	buildInfo.Reset()
	buildInfo.WithLabelValues(version, buildRevision(), runtime.Version()).Set(1)
}

// buildRevision is the VCS revision Go stamps into a build made in a checkout; images built without .git have none.
func buildRevision() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// forgetMetrics drops a deleted tenant's series.
func forgetMetrics(tenant string) {
	only := map[string]string{metricTenant: tenant}
	tenantPhase.DeletePartialMatch(only)
	tenantCondition.DeletePartialMatch(only)
	secretRotations.DeletePartialMatch(only)
	certificateExpiry.DeleteLabelValues(tenant)
	certificateRenewal.DeleteLabelValues(tenant)
	auditFindings.DeleteLabelValues(tenant)
}

// deniedRequestsCounter is the audit sink's tenant_operator_denied_requests_total.
type deniedRequestsCounter struct{}

func (deniedRequestsCounter) Count(tenant, user, deniedBy string) {
	deniedRequests.WithLabelValues(tenant, user, deniedBy).Inc()
}

func (deniedRequestsCounter) Forget(tenant, user string) {
	deniedRequests.DeletePartialMatch(prometheus.Labels{metricTenant: tenant, "user": user})
}
