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
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// report holds every figure; it is printed as markdown and written as JSON.
type report struct {
	Date       string `json:"date"`
	Machine    string `json:"machine"`
	Go         string `json:"go"`
	Tenants    int    `json:"tenants"`
	GoMemLimit string `json:"goMemLimit,omitempty"`
	Client     struct {
		QPS                     float64 `json:"qps"`
		Burst                   int     `json:"burst"`
		MaxConcurrentReconciles int     `json:"maxConcurrentReconciles"`
	} `json:"client"`
	Raw struct {
		Seconds          float64 `json:"seconds"`
		Objects          int     `json:"objects"`
		ObjectsPerTenant float64 `json:"objectsPerTenant"`
	} `json:"raw"`
	Provisioning struct {
		Seconds    float64 `json:"seconds"`
		RatioToRaw float64 `json:"ratioToRaw"`
	} `json:"provisioning"`
	API struct {
		PerTenant        float64        `json:"requestsPerTenant"`
		ObjectsPerTenant float64        `json:"objectsPerTenant"`
		Fixed            int            `json:"fixedRequests"`
		ByVerb           map[string]int `json:"byVerb"`
	} `json:"api"`
	Restart struct {
		Seconds   float64        `json:"seconds"`
		Objects   int            `json:"objects"`
		Rewritten int            `json:"rewritten"`
		Writes    int            `json:"writes"`
		ByVerb    map[string]int `json:"byVerb"`
	} `json:"restart"`
	Idle struct {
		Seconds   float64 `json:"seconds"`
		Writes    int     `json:"writes"`
		Rewritten int     `json:"rewritten"`
		// RewrittenKinds counts the objects whose resourceVersion moved, by type: who moved it is then easy to tell.
		RewrittenKinds map[string]int `json:"rewrittenKinds,omitempty"`
		ByVerb         map[string]int `json:"byVerb"`
	} `json:"idle"`
	Memory struct {
		RSSQuarterMiB       float64 `json:"rssAtQuarterMiB"`
		RSSMiB              float64 `json:"rssMiB"`
		HeapMiB             float64 `json:"heapMiB"`
		RSSAfterRestartMiB  float64 `json:"rssAfterRestartMiB"`
		HeapAfterRestartMiB float64 `json:"heapAfterRestartMiB"`
		PeakRSSMiB          float64 `json:"peakRSSMiB"`
	} `json:"memory"`
	// Node is the phase on a cluster with a node, where back-ends run: a few tenants, to Ready.
	Node struct {
		Skipped            string  `json:"skipped,omitempty"`
		Tenants            int     `json:"tenants"`
		Pods               int     `json:"pods"`
		ProvisionedSeconds float64 `json:"provisionedSeconds"`
		ReadySeconds       float64 `json:"readySeconds"`
	} `json:"node"`
	// Database is the phase against a real PostgreSQL server: tenants of each model to DatabaseReady.
	Database struct {
		Skipped                string            `json:"skipped,omitempty"`
		Models                 []databaseFigures `json:"models"`
		PeakConnections        int               `json:"peakConnections"`
		StatementsAfterRestart float64           `json:"statementsAfterRestart"`
	} `json:"database"`
	Drift struct {
		Tenants    int            `json:"tenants"`
		Seconds    float64        `json:"seconds"`
		Reconciles int            `json:"reconciles"`
		Requests   float64        `json:"requests"`
		ByVerb     map[string]int `json:"byVerb"`
	} `json:"drift"`
}

// databaseFigures are one database model's: its tenants, created to DatabaseReady.
type databaseFigures struct {
	Model               string  `json:"model"`
	Tenants             int     `json:"tenants"`
	Seconds             float64 `json:"seconds"`
	StatementsPerTenant float64 `json:"statementsPerTenant"`
}

// Database targets: at most two connections to each of the two databases the operator uses on a server, and a
// steady tenant costs no statement.
const maxDatabaseConnections = 4

func (r *report) databaseQuiet() bool {
	return r.Database.PeakConnections <= maxDatabaseConnections && r.Database.StatementsAfterRestart == 0
}

func newReport(o options) *report {
	r := &report{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Go: runtime.Version(), Tenants: o.n}
	r.Client.QPS, r.Client.Burst, r.Client.MaxConcurrentReconciles = o.qps, o.burst, o.workers
	r.GoMemLimit = o.goMemLimit
	return r
}

// machine describes the CPU and memory the figures come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%d cores (%s)%s, %s/%s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH)
}

func status(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// statusAt says where a target set for a number of tenants stands, and whether this run is at that number.
func (r *report) statusAt(ok bool, targetN int) string {
	if r.Tenants == targetN {
		return status(ok)
	}
	if ok {
		return fmt.Sprintf("met at N=%d (target for N=%d)", r.Tenants, targetN)
	}
	return fmt.Sprintf("not met at N=%d (target for N=%d)", r.Tenants, targetN)
}

func verbs(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, v := range sortedVerbs(m) {
		if strings.HasPrefix(v, resourcePrefix) && !debugResources {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", v, m[v]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// restartQuiet: a restart rewrites nothing and sends no write at all (an apply that changes nothing moves no
// resourceVersion, so the versions alone would miss it; the audit log sees every request).
func (r *report) restartQuiet() bool { return r.Restart.Rewritten == 0 && r.Restart.Writes == 0 }

// requestsBeyondObjects is what a new tenant costs besides one apply per object: the create that claims its
// namespace, the finalizer, one status write and one Event.
const requestsBeyondObjects = 4

// unmet lists the targets this run judges and misses: those that hold at any number of tenants, and the ones set for
// a number of tenants when the run is at that number.
func (r *report) unmet() []string {
	var out []string
	check := func(ok bool, target string) {
		if !ok {
			out = append(out, target)
		}
	}
	check(r.API.PerTenant <= r.API.ObjectsPerTenant+requestsBeyondObjects, "API requests per tenant <= objects + 4")
	check(r.restartQuiet(), "restart: nothing rewritten, no write sent")
	// The audit log says who wrote; resourceVersions also move for the control plane's own writes (the quota
	// controller's resync of every ResourceQuota's usage, every 5 minutes): those are reported, not judged.
	check(r.Idle.Writes == 0, "idle: no writes")
	if r.Tenants == 500 && r.Raw.Seconds > 0 {
		check(r.Provisioning.RatioToRaw <= 1.3, "provisioning / raw <= 1.3 at N=500")
	}
	if r.Tenants == 1000 {
		check(r.Memory.PeakRSSMiB <= 80, "peak RSS <= 80 MiB at N=1000")
	}
	if len(r.Database.Models) > 0 {
		check(r.databaseQuiet(), fmt.Sprintf("database: at most %d connections, no statement after a restart", maxDatabaseConnections))
	}
	return out
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### tenant-operator benchmark, N=%d\n\n", r.Tenants)
	fmt.Fprintf(&b, "%s; %s; %s. Operator and raw client: QPS %g, burst %d, %d workers.\n", r.Date, r.Machine, r.Go,
		r.Client.QPS, r.Client.Burst, r.Client.MaxConcurrentReconciles)
	if r.GoMemLimit != "" {
		fmt.Fprintf(&b, "The operator runs with GOMEMLIMIT=%s.\n", r.GoMemLimit)
	}
	fmt.Fprintf(&b, "Each tenant: owners, a quota, two generated secrets, a back-end with 2 replicas, one allowed tenant: %.0f objects.\n",
		r.Raw.ObjectsPerTenant)
	b.WriteString("Back-end availability is excluded from the N tenants (\"provisioned\" means every condition True but BackendReady); " +
		"the last row runs a few of them on the local cluster's node, back-ends included.\n\n")
	b.WriteString("| measure | value | target | |\n| --- | --- | --- | --- |\n")
	row := func(measure, value, target, state string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", measure, value, target, state)
	}
	if r.Raw.Seconds > 0 {
		row("raw limit: the same objects applied directly", fmt.Sprintf("%.1f s (%d objects)", r.Raw.Seconds, r.Raw.Objects), "", "")
	}
	row("provisioning: N tenants created to all provisioned", fmt.Sprintf("%.1f s", r.Provisioning.Seconds), "", "")
	if r.Raw.Seconds > 0 {
		row("provisioning / raw", fmt.Sprintf("%.2f", r.Provisioning.RatioToRaw), "<= 1.3", r.statusAt(r.Provisioning.RatioToRaw <= 1.3, 500))
	} else {
		row("provisioning / raw", "not measured (-raw=false)", "<= 1.3", "")
	}
	row("API requests per tenant (reads and writes of its objects and status)", strconv.FormatFloat(r.API.PerTenant, 'f', -1, 64),
		fmt.Sprintf("<= objects + 4 = %.0f", r.API.ObjectsPerTenant+requestsBeyondObjects), status(r.API.PerTenant <= r.API.ObjectsPerTenant+requestsBeyondObjects))
	row("  fixed requests (informers' list/watch, leader election, metrics scrape auth, the CA)", fmt.Sprintf("%d", r.API.Fixed), "", "")
	row("  by verb", verbs(r.API.ByVerb), "", "")
	row("restart: managed objects and Tenants rewritten, writes sent", fmt.Sprintf("%d of %d, %d writes (%.1f s to re-reconcile all)",
		r.Restart.Rewritten, r.Restart.Objects, r.Restart.Writes, r.Restart.Seconds), "0, 0", status(r.restartQuiet()))
	row(fmt.Sprintf("idle %s: writes (leader election and metrics auth apart)", time.Duration(r.Idle.Seconds*float64(time.Second))),
		fmt.Sprintf("%d (%d objects rewritten by others; %s)", r.Idle.Writes, r.Idle.Rewritten, verbs(r.Idle.ByVerb)), "0", status(r.Idle.Writes == 0))
	row("memory: RSS at N/4 → N provisioned", fmt.Sprintf("%.0f → %.0f MiB (Go heap %.0f MiB)", r.Memory.RSSQuarterMiB, r.Memory.RSSMiB, r.Memory.HeapMiB), "", "")
	row("memory: RSS after restart with N tenants", fmt.Sprintf("%.0f MiB (Go heap %.0f MiB)", r.Memory.RSSAfterRestartMiB, r.Memory.HeapAfterRestartMiB), "", "")
	row("memory: peak RSS", fmt.Sprintf("%.0f MiB", r.Memory.PeakRSSMiB), "<= 80 MiB", r.statusAt(r.Memory.PeakRSSMiB <= 80, 1000))
	row(fmt.Sprintf("drift: default-deny deleted in %d tenants at once", r.Drift.Tenants),
		fmt.Sprintf("restored in %.1f s, %d reconciles, %.0f requests (%s)", r.Drift.Seconds, r.Drift.Reconciles, r.Drift.Requests, verbs(r.Drift.ByVerb)), "", "")
	switch {
	case r.Node.Skipped != "":
		row("on the node: tenants to Ready, back-ends available", "skipped: "+r.Node.Skipped, "", "")
	case r.Node.Tenants > 0:
		row(fmt.Sprintf("on the node: %d tenants (%d back-end pods) created to provisioned → Ready, back-ends available", r.Node.Tenants, r.Node.Pods),
			fmt.Sprintf("%.1f s → %.1f s", r.Node.ProvisionedSeconds, r.Node.ReadySeconds), "", "")
	}
	switch {
	case r.Database.Skipped != "":
		row("database: tenants to DatabaseReady", "skipped: "+r.Database.Skipped, "", "")
	case len(r.Database.Models) > 0:
		for _, m := range r.Database.Models {
			row(fmt.Sprintf("database: %d %s tenants created to DatabaseReady", m.Tenants, m.Model),
				fmt.Sprintf("%.1f s, %.1f statements per tenant", m.Seconds, m.StatementsPerTenant), "", "")
		}
		row("database: the operator's peak connections to the server; statements after a restart (every tenant read again)",
			fmt.Sprintf("%d; %.0f", r.Database.PeakConnections, r.Database.StatementsAfterRestart),
			fmt.Sprintf("<= %d; 0", maxDatabaseConnections), status(r.databaseQuiet()))
	}
	b.WriteString("\n")
	return b.String()
}
