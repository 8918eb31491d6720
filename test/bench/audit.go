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

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// auditEvent is the part of an apiserver audit event the benchmark reads.
type auditEvent struct {
	Verb      string `json:"verb"`
	Stage     string `json:"stage"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
}

const verbWatch = "watch"

// debugResources (BENCH_DEBUG=1) shows request counts by verb and resource in the table, and memory figures in the
// log.
var debugResources = os.Getenv("BENCH_DEBUG") != ""

// resourcePrefix marks the counts by verb and resource among the counts by verb.
const resourcePrefix = "debug:"

// auditLog reads the requests the audit policy recorded (the operator's only), between two offsets of the file.
type auditLog struct{ path string }

func (a auditLog) offset() int64 {
	fi, err := os.Stat(a.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// requests counts the requests made between from and to, by verb. Each request counts once: when its response
// completed, or for a watch when it started.
func (a auditLog) requests(from, to int64) (map[string]int, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, err
	}
	byVerb := map[string]int{}
	s := bufio.NewScanner(io.LimitReader(f, to-from))
	s.Buffer(make([]byte, 1<<20), 1<<24)
	for s.Scan() {
		var e auditEvent
		if json.Unmarshal(s.Bytes(), &e) != nil {
			continue
		}
		counted := (e.Stage == "ResponseComplete" && e.Verb != verbWatch) || (e.Stage == "ResponseStarted" && e.Verb == verbWatch)
		if !counted {
			continue
		}
		verb := e.Verb
		// By resource as well, always in the JSON (to explain a count after the fact), in the table with BENCH_DEBUG.
		if e.ObjectRef != nil {
			resource := e.ObjectRef.Resource
			if e.ObjectRef.Subresource != "" {
				resource += "/" + e.ObjectRef.Subresource
			}
			byVerb[resourcePrefix+e.Verb+":"+resource]++
		}
		// Leader election renews a Lease every few seconds whatever the number of tenants, and each scrape of the
		// metrics endpoint is authenticated and authorized by the apiserver: counted apart.
		if e.ObjectRef != nil {
			switch {
			case e.ObjectRef.Resource == "leases",
				// The Event that reports a new leader.
				e.ObjectRef.Resource == "events" && e.ObjectRef.Namespace == localcluster.OperatorNamespace:
				verb = "lease:" + verb
			case e.ObjectRef.Resource == "tokenreviews" || e.ObjectRef.Resource == "subjectaccessreviews":
				verb = "metrics-auth:" + verb
			case e.ObjectRef.Resource == "secrets" && e.ObjectRef.Namespace == localcluster.OperatorNamespace:
				// The operator's CA, read and created once at its start, whenever that falls in the window.
				verb = "ca:" + verb
			}
		}
		byVerb[verb]++
	}
	return byVerb, s.Err()
}

// perTenant splits request counts into those made for tenants (reads and writes of objects) and the fixed costs
// (informers' list and watch, leader election, authenticating metrics scrapes, the CA), and returns the former per
// tenant.
func perTenant(byVerb map[string]int, n int) (attributable float64, fixed int) {
	total := 0
	for verb, c := range byVerb {
		switch verb {
		case "list", verbWatch:
			fixed += c
		default:
			if strings.HasPrefix(verb, resourcePrefix) {
				continue
			}
			if strings.HasPrefix(verb, "lease:") || strings.HasPrefix(verb, "metrics-auth:") || strings.HasPrefix(verb, "ca:") {
				fixed += c
				continue
			}
			total += c
		}
	}
	return float64(total) / float64(n), fixed
}

func writes(byVerb map[string]int) int {
	w := 0
	for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
		w += byVerb[verb]
	}
	return w
}

func sortedVerbs(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
