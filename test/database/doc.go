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

// Package database proves the three tenant database models against a real PostgreSQL server (make
// test-database): the harness (hack/localpostgres) starts one with TLS and password authentication only, the
// operator's provisioner (controllers/database) gives two tenants their database in each model, and tenant A, with
// its own credentials, tries with real SQL to read, write or reach tenant B's data, to widen its own access, and
// to do its own work. Every attempt is asserted and printed, model by model, as a table.
package database
