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
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultGCPercent is the operator's GOGC unless its environment sets one. Its heap is mostly its cache: long-lived,
// and growing with the tenants. Go's default, 100, lets the heap grow to twice the live data between collections; at
// 25 it grows by a quarter: at a thousand tenants, about two fifths less peak memory for a fifth more CPU (the
// benchmark's figures are in docs/performance.md).
const defaultGCPercent = 25

// setGCPercent sets the garbage collector's target unless GOGC says otherwise, and returns it (0 when left alone).
func setGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}

// memoryLimitShare is the share of the container's memory limit the Go runtime aims to stay under: its garbage
// collector works harder as the heap nears it, instead of the kernel killing the operator at the limit.
const memoryLimitShare = 0.9

// setMemoryLimit sets the Go runtime's soft memory limit from the container's cgroup limit, unless GOMEMLIMIT says
// otherwise. It returns the limit set, 0 when none.
func setMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path) //nolint:gosec // fixed cgroup paths
		if err != nil {
			continue
		}
		limit, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		// "max", or cgroup v1's "no limit" (a number near 2^63).
		if err != nil || limit <= 0 || limit > 1<<50 {
			return 0
		}
		soft := int64(float64(limit) * memoryLimitShare)
		debug.SetMemoryLimit(soft)
		return soft
	}
	return 0
}
