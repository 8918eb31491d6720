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

// Package slimcache keeps the operator's informer cache small: transforms that keep of each object what the
// reconciler reads (with the owned-fields hash recorded in place of the managed fields, see OwnedFieldsHash), and an
// interner that shares the strings and label maps every tenant repeats, so memory grows with the tenants by a few
// hundred bytes per object.
//
// It imports render (labels and names), ssa (the hash), status (which pod and Deployment states to keep) and
// client-go's cache types; no client: it never reads or writes the cluster.
package slimcache
