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

// Package render is what a Tenant becomes: the operator's configuration (Config), the names and labels of
// everything it manages, and the pure builders that turn a Tenant, with what was observed of its generated secrets,
// the tenants that allow it in and the CA, into its desired objects (DesiredState), grouped by the area of the
// status condition each decides. The forms a deleted, retained tenant leaves are here too (retained.go).
//
// It imports the API types, the Kubernetes object types and pki (to issue certificates); no client, cache, clock or
// randomness of its own: time and randomness come in Observed. Golden files under testdata/golden hold what each
// interesting case renders into.
package render
