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

// Package ssa is server-side apply as one field manager sees it:
//   - Request turns a typed object into the apply request holding only what its builder set;
//   - RequestHash and FieldManager.OwnedFieldsHash hash what a request sets and what the manager owns of the stored
//     object (its managed-fields entry walked over the object), equal when applying would change nothing, so a
//     steady object costs no request; the owned fields agree with client-go's Extract functions (the controllers
//     package's envtest suite checks it on every kind a tenant gets);
//   - FieldManager.HasForeignFields and TakeOverForeignFields find and take over what other managers added, so that
//     the next apply removes it.
//
// It imports apimachinery, client-go's schemas and a controller-runtime client; nothing of the operator's domain,
// which it gets as parameters (the manager's name and reserved keys).
package ssa
