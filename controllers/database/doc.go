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

// Package database keeps each tenant's data apart on a shared PostgreSQL server, in one of three models
// (SharedSchema, SchemaPerTenant, DatabasePerTenant; see the API's DatabaseModel).
//
// A pass reads what exists for the tenant (ReadCatalog: the catalog only), plans what is missing (Plan, pure:
// catalog and wish in, statements out) and runs the plan (Provisioner). Every name and value in a statement is
// quoted by PostgreSQL itself: statements are format() strings with %I and %L, filled by the server. The tenant's
// password never reaches the server in clear: its SCRAM verifier does, and a fingerprint in the role's comment
// tells later passes whether the role still has the password the tenant's Secret holds.
//
// It imports the API types, render (for names) and pgx; nothing of the reconciler.
package database
