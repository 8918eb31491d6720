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

// Package localpostgres runs a real PostgreSQL server (Debian's build, from /usr/lib/postgresql/<version>/bin) in a
// temporary directory, for tests that prove tenant data isolation with real SQL rather than with a fake.
//
// The server is configured the way the operator expects a production database to be: password authentication by
// SCRAM-SHA-256 only, over TLS 1.3 verified against a CA generated per run, with pg_hba.conf allowing nothing else (no
// unix socket, no trust, no plain-text TCP). Only durability is traded for speed (fsync and friends off). Each server
// listens on a free port, so suites run in parallel; Stop kills it and removes its directory, and if the test process
// dies instead, the kernel kills the server (parent-death signal) and a small reaper process removes the directory.
package localpostgres
