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

// Package auditsink receives the apiserver's audit events (its audit webhook backend, in batch mode, POSTing
// audit.k8s.io/v1 EventLists) and counts the requests refused in tenant namespaces by tenant, by the user who made
// them and by what refused them: a guardrail (its admission policy's audit annotation) or RBAC (the authorizer's).
// That is the "who" the apiserver's own admission metrics do not carry.
//
// It may import the apiserver's audit API types, controller-runtime's client (to read namespaces from the cache) and
// the operator's render package (for its labels); it writes nothing.
package auditsink
