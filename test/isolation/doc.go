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

// Package isolation proves a tenant's isolation on a real node, with packets: the operator (its binary, under its
// own ServiceAccount) provisions tenants whose back-ends run on the local cluster's node, netprobe pods in their
// namespaces report what they can connect to, and servers in a network namespace the node creates stand for the
// internet, an allowed partner and the cloud metadata address. Every cell of the matrix is asserted and printed
// (ISOLATION_REPORT receives the table; make test prints it).
package isolation
