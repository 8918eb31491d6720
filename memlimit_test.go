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
	"runtime/debug"
	"testing"
)

func TestGCPercentDefaultsUnlessGOGCIsSet(t *testing.T) {
	previous := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(previous) })

	t.Setenv("GOGC", "200")
	if got := setGCPercent(); got != 0 || debug.SetGCPercent(100) != 100 {
		t.Errorf("GOGC=200 in the environment: the operator set its own target (%d)", got)
	}
	t.Setenv("GOGC", "")
	if got := setGCPercent(); got != defaultGCPercent || debug.SetGCPercent(100) != defaultGCPercent {
		t.Errorf("no GOGC: target %d, want %d", got, defaultGCPercent)
	}
}
