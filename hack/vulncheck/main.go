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

// Command vulncheck runs govulncheck (JSON output) and fails on every vulnerability the code reaches in a module
// it depends on: those are fixed by upgrading the module. Vulnerabilities in the Go standard library are listed but
// do not fail the check: they are fixed by the Go patch release the build uses (the Dockerfile builds with the
// newest golang:1.26 image), not by this repository, and a build host may lag behind it.
//
// Usage: go run ./hack/vulncheck <govulncheck> -db file:///... ./...
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
)

// finding is the part of govulncheck's JSON "finding" message used here.
type finding struct {
	OSV          string `json:"osv"`
	FixedVersion string `json:"fixed_version"`
	Trace        []struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Function string `json:"function"`
	} `json:"trace"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vulncheck <govulncheck> [args...]")
		os.Exit(2)
	}
	failed, err := run(os.Args[1], os.Args[2:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

func run(govulncheck string, args []string, out io.Writer) (failed bool, err error) {
	cmd := exec.Command(govulncheck, append([]string{"-format", "json"}, args...)...) //nolint:gosec // the Makefile's own tool
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	if err := cmd.Start(); err != nil {
		return false, err
	}
	// Keyed by OSV id and module: govulncheck reports one finding per trace.
	called := map[string]finding{}
	dec := json.NewDecoder(stdout)
	for {
		var msg struct {
			Finding *finding `json:"finding"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return false, fmt.Errorf("reading govulncheck output: %w", err)
		}
		f := msg.Finding
		// Only findings whose trace reaches a function are in code that runs; the rest are in imported code
		// this project never calls.
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		called[f.OSV+" "+f.Trace[0].Module] = *f
	}
	if err := cmd.Wait(); err != nil {
		return false, fmt.Errorf("govulncheck: %w", err)
	}
	keys := make([]string, 0, len(called))
	for k := range called {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	stdlib := 0
	for _, k := range keys {
		f := called[k]
		m := f.Trace[0]
		if m.Module == "stdlib" {
			stdlib++
			_, _ = fmt.Fprintf(out, "note: %s in the Go standard library %s, fixed in Go %s (use that Go release)\n", f.OSV, m.Version, f.FixedVersion)
			continue
		}
		failed = true
		_, _ = fmt.Fprintf(out, "FAIL: %s in %s@%s is reached by this code; fixed in %s\n", f.OSV, m.Module, m.Version, f.FixedVersion)
	}
	_, _ = fmt.Fprintf(out, "vulncheck: %d vulnerable module finding(s), %d in the standard library of the Go used here\n", len(keys)-stdlib, stdlib)
	return failed, nil
}
