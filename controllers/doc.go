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

// Package controllers is the Tenant reconciler: the flow of a pass, and the cluster reads and writes it makes.
//
// A pass (tenant_controller.go) runs phases over a per-tenant scope (scope.go): claim the namespace (claim.go),
// observe what the desired state depends on (observe.go), render it (package render), provision the tenant's
// database (database.go, package database), apply what differs
// (apply.go), prune what is no longer desired (prune.go), account for what changed (account.go), and report: one
// place computes the status (package status), writes it when it changed and decides when to come back
// (report.go). What the reconciler remembers of a tenant between passes is one memo with a single forget
// (memo.go). The kinds it manages are one table (kinds.go) that drives the watches, the cache, pruning and the
// tests of the operator's role.
//
// Packages below it, and what each may import:
//   - render: what a Tenant becomes; pure (API types, object types, pki).
//   - status: the Tenant's status from what a pass found; pure (API types, render).
//   - ssa: server-side apply requests, the owned-fields hash, foreign fields; no domain.
//   - slimcache: the cache transforms and the interner; no client.
//   - pki: the operator's CA and the back-end certificates.
//   - database: tenants' PostgreSQL databases (catalog, plan, provisioner); API types, render (names), pgx.
//   - metricsauth: the metrics endpoint's authentication filter; no domain.
//
// None of them imports this package.
package controllers
