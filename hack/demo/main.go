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

// Command demo shows tenant-operator on a machine with no cluster: it starts the local control plane, installs the
// operator's manifests, runs the operator binary under its own ServiceAccount, applies the sample Tenants, waits for
// the operator to act on them and prints what each got. It keeps the cluster running until Ctrl-C, or exits after
// the summary when DEMO_EXIT=1. `make demo` builds what is missing and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

func main() {
	manager := flag.String("manager", "bin/manager", "The operator binary to run.")
	manifests := flag.String("manifests", "config/default", "The kustomization that installs the operator.")
	samples := flag.String("samples", "config/samples", "The kustomization of sample Tenants to apply.")
	timeout := flag.Duration("timeout", 3*time.Minute, "How long to wait for the samples to be reconciled.")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *manager, *manifests, *samples, *timeout, os.Getenv("DEMO_EXIT") == "1"); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, manager, manifests, samples string, timeout time.Duration, exitAfterSummary bool) (retErr error) {
	step("Starting the local control plane (etcd, kube-apiserver, kube-controller-manager)")
	cluster, err := localcluster.Start(ctx, localcluster.Options{})
	if err != nil {
		return err
	}
	defer func() {
		step("Stopping the operator and the local control plane")
		retErr = errors.Join(retErr, cluster.Stop())
	}()

	step("Installing the operator's manifests from " + manifests + " (CRD, RBAC, namespace)")
	if err := cluster.InstallOperatorManifests(ctx, manifests); err != nil {
		return err
	}
	step("Running " + manager + " as ServiceAccount " + localcluster.OperatorNamespace + "/" + localcluster.OperatorServiceAccount)
	operator, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: manager})
	if err != nil {
		return err
	}

	step("Applying the samples in " + samples)
	out, err := cluster.Kubectl(ctx, nil, "apply", "--server-side", "-k", samples)
	if err != nil {
		return err
	}
	fmt.Print(indent(string(out)))

	k8s, err := client.New(cluster.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	step("Waiting for the operator to reconcile every sample")
	tenants, err := waitForTenants(ctx, k8s, timeout)
	if err != nil {
		return err
	}
	printSummary(os.Stdout, tenants)

	if exitAfterSummary {
		return nil
	}
	fmt.Printf("\nThe cluster is yours to explore while the demo runs:\n")
	fmt.Printf("  export KUBECONFIG=%s\n", cluster.KubeconfigPath)
	fmt.Printf("  bin/kubectl get tenants\n")
	fmt.Printf("Operator log: %s\nAudit log:    %s\n", operator.LogPath, cluster.AuditLogPath)
	fmt.Printf("\nPress Ctrl-C to stop everything (the work directory is removed).\n")
	select {
	case <-ctx.Done():
	case <-operator.Exited():
		return fmt.Errorf("the operator exited; see %s", operator.LogPath)
	}
	return nil
}

// waitForTenants waits until the operator has observed the current generation of every Tenant.
func waitForTenants(ctx context.Context, k8s client.Client, timeout time.Duration) ([]tenancyv1alpha1.Tenant, error) {
	var list tenancyv1alpha1.TenantList
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := k8s.List(ctx, &list); err != nil {
			return false, err
		}
		for _, t := range list.Items {
			if t.Status.ObservedGeneration != t.Generation {
				return false, nil
			}
		}
		return len(list.Items) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the sample tenants to be reconciled: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

func printSummary(w io.Writer, tenants []tenancyv1alpha1.Tenant) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// A failed write to stdout leaves nothing to report it to.
	printf := func(format string, args ...any) { _, _ = fmt.Fprintf(tw, format, args...) }
	printf("\nWhat each sample Tenant got:\n")
	printf("  TENANT\tDISPLAY NAME\tNAMESPACE\tPHASE\tREADY\n")
	for _, t := range tenants {
		ready := "-"
		if c := meta.FindStatusCondition(t.Status.Conditions, "Ready"); c != nil {
			ready = string(c.Status) + " (" + c.Reason + ")"
		}
		printf("  %s\t%s\t%s\t%s\t%s\n", t.Name, orDash(t.Spec.DisplayName), t.Status.Namespace, t.Status.Phase, ready)
	}
	_ = tw.Flush()
}

func step(msg string) { fmt.Printf("==> %s\n", msg) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
