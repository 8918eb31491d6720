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

// Package audit is the access audit of a tenant: who can do what in its namespace, by the apiserver's own answers
// (SubjectAccessReviews), against what the Tenant grants (its roles' rules, as the cluster aggregated them), and what
// of that is beyond the grant; which guardrails are in force; and whether its secrets and certificate are current.
// It is domain code: it imports the API types and render, never a client. Whoever runs it (the kubectl plugin, the
// operator) gathers the inputs and answers the reviews.
package audit
