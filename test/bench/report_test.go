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
	"slices"
	"strings"
	"testing"
)

// TestUnmetTargets: the benchmark fails on every target it judges and misses, including a restart that sends writes
// which change no resourceVersion, and judges the targets set for a size only at that size.
func TestUnmetTargets(t *testing.T) {
	good := func(n int) *report {
		r := &report{Tenants: n}
		r.API.ObjectsPerTenant, r.API.PerTenant = 20, 24
		r.Raw.Seconds, r.Provisioning.RatioToRaw = 10, 1.2
		r.Memory.PeakRSSMiB = 70
		return r
	}
	for _, tc := range []struct {
		name  string
		n     int
		spoil func(*report)
		want  []string
	}{
		{"all met", 200, func(*report) {}, nil},
		{"one request too many", 200, func(r *report) { r.API.PerTenant = 24.005 }, []string{"API requests per tenant <= objects + 4"}},
		{"the control plane's status writes while idle", 200, func(r *report) { r.Idle.Rewritten = 16 }, nil},
		{"no-op writes on restart", 200, func(r *report) { r.Restart.Writes = 3 }, []string{"restart: nothing rewritten, no write sent"}},
		{"an idle write", 200, func(r *report) { r.Idle.Writes = 1 }, []string{"idle: no writes"}},
		{"slow, but not at the size the ratio is set for", 200, func(r *report) { r.Provisioning.RatioToRaw = 1.5 }, nil},
		{"slow at N=500", 500, func(r *report) { r.Provisioning.RatioToRaw = 1.5 }, []string{"provisioning / raw <= 1.3 at N=500"}},
		{"memory at N=1000", 1000, func(r *report) { r.Memory.PeakRSSMiB = 81 }, []string{"peak RSS <= 80 MiB at N=1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good(tc.n)
			tc.spoil(r)
			if got := r.unmet(); !slices.Equal(got, tc.want) {
				t.Errorf("unmet = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNodeRow: the node phase's figures, or why it was skipped, are in the table; never silently absent.
func TestNodeRow(t *testing.T) {
	r := &report{Tenants: 200}
	r.Node.Skipped = "TEST_NODE=skip"
	if md := r.markdown(); !strings.Contains(md, "| on the node: tenants to Ready, back-ends available | skipped: TEST_NODE=skip |") {
		t.Errorf("a skipped node phase is not reported:\n%s", md)
	}
	r.Node.Skipped, r.Node.Tenants, r.Node.Pods, r.Node.ProvisionedSeconds, r.Node.ReadySeconds = "", 20, 40, 15.1, 16.9
	if md := r.markdown(); !strings.Contains(md, "20 tenants (40 back-end pods) created to provisioned → Ready, back-ends available | 15.1 s → 16.9 s |") {
		t.Errorf("the node phase's figures are not reported:\n%s", md)
	}
}
