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

// Command kubectl-tenant is a kubectl plugin for tenant-operator: `kubectl tenant audit <tenant>` reports who can do
// what in a tenant, which guardrails hold, and whether its secrets and certificate are current. Put it on the PATH
// (make plugin builds bin/kubectl-tenant).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/tenant-operator/tenant-operator/hack/kubectl-tenant/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := plugin.Main(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
