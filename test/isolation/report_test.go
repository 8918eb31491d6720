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

package isolation

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// ledger is the matrix as it was measured, for the report.
type ledger struct {
	mu      sync.Mutex
	rows    []row
	timings []string
	notes   []string
}

type row struct {
	section, from, to, want, got string
	ok                           bool
}

var report = &ledger{}

func (l *ledger) add(r row) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, r)
}

func (l *ledger) timing(what string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timings = append(l.timings, fmt.Sprintf("- %s: %.2f s", what, d.Seconds()))
}

func (l *ledger) note(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, s)
}

// String is the report in Markdown: one table per section, in the order the sections were first measured.
func (l *ledger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	b.WriteString("## Isolation on the wire (make test-isolation)\n\n")
	for _, n := range l.notes {
		b.WriteString(n + "\n\n")
	}
	var sections []string
	seen := map[string]bool{}
	for _, r := range l.rows {
		if !seen[r.section] {
			seen[r.section] = true
			sections = append(sections, r.section)
		}
	}
	failed := 0
	for _, s := range sections {
		b.WriteString("### " + s + "\n\n| from | to | want | got | |\n| --- | --- | --- | --- | --- |\n")
		for _, r := range l.rows {
			if r.section != s {
				continue
			}
			mark := "ok"
			if !r.ok {
				mark = "**FAIL**"
				failed++
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.from, r.to, r.want, r.got, mark)
		}
		b.WriteString("\n")
	}
	if len(l.timings) > 0 {
		timings := append([]string(nil), l.timings...)
		sort.Strings(timings)
		b.WriteString("### Policy convergence (a Tenant edit until the wire follows it; noisy, compare within a run)\n\n")
		b.WriteString(strings.Join(timings, "\n") + "\n\n")
	}
	fmt.Fprintf(&b, "%d cells, %d failed\n", len(l.rows), failed)
	return b.String()
}

func (l *ledger) empty() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.rows) == 0 && len(l.notes) == 0
}
