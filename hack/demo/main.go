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

// Command demo shows tenant-operator on a machine with no cluster: it starts the local control plane with its node
// (where the machine can run one), installs the operator's manifests, runs the operator binary under its own
// ServiceAccount, applies the sample Tenants (their back-ends the example back-end, built here), waits for them to
// be Ready and prints what each got, then sends one connection from a pod of an allowed tenant to a back-end and one
// from a tenant that is not allowed. It keeps the cluster running until Ctrl-C, or exits after the summary when
// DEMO_EXIT=1. `make demo` builds what is missing and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
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
	withNode := os.Getenv("TEST_NODE") != "skip" && localcluster.NodeRequirements() == ""
	if withNode {
		step("Starting the local control plane (etcd, kube-apiserver, kube-controller-manager) and its node")
	} else {
		step("Starting the local control plane (etcd, kube-apiserver, kube-controller-manager), without a node: " +
			orDash(localcluster.NodeRequirements()) + " (TEST_NODE=" + os.Getenv("TEST_NODE") + "); back-ends will stay Pending")
	}
	cluster, err := localcluster.Start(ctx, localcluster.Options{Node: withNode})
	if err != nil {
		return err
	}
	defer func() {
		step("Stopping the operator and the local control plane")
		retErr = errors.Join(retErr, cluster.Stop())
	}()

	step("Installing the operator's manifests from " + manifests + " (CRD, RBAC, namespace, guardrail policies)")
	if err := cluster.InstallOperatorManifests(ctx, manifests); err != nil {
		return err
	}
	step("Running " + manager + " as ServiceAccount " + localcluster.OperatorNamespace + "/" + localcluster.OperatorServiceAccount)
	operator, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: manager})
	if err != nil {
		return err
	}

	step("Applying the samples in " + samples)
	out, err := applySamples(ctx, cluster, samples)
	if err != nil {
		return err
	}
	fmt.Print(indent(string(out)))

	k8s, err := client.New(cluster.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	step("Waiting for the operator to provision every sample")
	tenants, err := waitForTenants(ctx, k8s, timeout, withNode)
	if err != nil {
		return err
	}
	if err := printSummary(ctx, os.Stdout, k8s, tenants, withNode); err != nil {
		return err
	}
	if withNode {
		if out, err = cluster.Kubectl(ctx, nil, "get", "tenants"); err != nil {
			return err
		}
		fmt.Printf("\n$ kubectl get tenants\n%s", out)
		if err := showIsolation(ctx, cluster, k8s, tenants); err != nil {
			return err
		}
	}

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

// provisionedAreas are the conditions a sample must reach on a local control plane without a node, where back-end
// pods stay Pending; with a node, every sample must be Ready.
var provisionedAreas = []string{
	tenancyv1alpha1.ConditionNamespaceReady, tenancyv1alpha1.ConditionNetworkIsolated, tenancyv1alpha1.ConditionAccessConfigured,
	tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ConditionSecretsReady,
}

// waitForTenants waits until the operator has provisioned the current generation of every Tenant.
func waitForTenants(ctx context.Context, k8s client.Client, timeout time.Duration, withNode bool) ([]tenancyv1alpha1.Tenant, error) {
	areas := provisionedAreas
	if withNode {
		areas = []string{tenancyv1alpha1.ConditionReady}
	}
	var list tenancyv1alpha1.TenantList
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := k8s.List(ctx, &list); err != nil {
			return false, err
		}
		for _, t := range list.Items {
			if t.Status.ObservedGeneration != t.Generation {
				return false, nil
			}
			for _, c := range areas {
				if !meta.IsStatusConditionTrue(t.Status.Conditions, c) {
					return false, nil
				}
			}
		}
		return len(list.Items) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the sample tenants to be provisioned: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// printSummary shows, per tenant, where it stands and what its namespace holds.
func printSummary(ctx context.Context, w io.Writer, k8s client.Client, tenants []tenancyv1alpha1.Tenant, withNode bool) error {
	// A failed write to stdout leaves nothing to report it to.
	printf := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
	printf("\nWhat each sample Tenant got:\n")
	for _, t := range tenants {
		ns := t.Status.Namespace
		printf("\n  %s (%s) -> namespace %s, phase %s\n", t.Name, orDash(t.Spec.DisplayName), ns, t.Status.Phase)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, c := range t.Status.Conditions {
			_, _ = fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, c.Message)
		}
		_ = tw.Flush()
		objects, err := managedObjects(ctx, k8s, t.Name, ns)
		if err != nil {
			return err
		}
		for _, line := range objects {
			printf("    %s\n", line)
		}
	}
	if !withNode {
		printf("\nBack-end pods stay Pending here: the local control plane has no node, so BackendReady waits.\n")
	}
	return nil
}

// managedObjects lists, by kind, the names of what the operator created for a tenant.
func managedObjects(ctx context.Context, k8s client.Client, tenant, namespace string) ([]string, error) {
	labels := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: tenant}
	lists := []struct {
		kind string
		list client.ObjectList
	}{
		{"NetworkPolicies", &networkingv1.NetworkPolicyList{}},
		{"RoleBindings", &rbacv1.RoleBindingList{}},
		{"ResourceQuotas", &corev1.ResourceQuotaList{}},
		{"LimitRanges", &corev1.LimitRangeList{}},
		{"Secrets", &corev1.SecretList{}},
		{"ServiceAccounts", &corev1.ServiceAccountList{}},
		{"Deployments", &appsv1.DeploymentList{}},
		{"Services", &corev1.ServiceList{}},
		{"PodDisruptionBudgets", &policyv1.PodDisruptionBudgetList{}},
	}
	var out []string
	for _, l := range lists {
		if err := k8s.List(ctx, l.list, client.InNamespace(namespace), labels); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(l.list)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			continue
		}
		names := make([]string, 0, len(items))
		for _, item := range items {
			if o, ok := item.(client.Object); ok {
				names = append(names, o.GetName())
			}
		}
		sort.Strings(names)
		out = append(out, fmt.Sprintf("%-21s %s", l.kind+":", strings.Join(names, ", ")))
	}
	return out, nil
}

// applySamples applies the samples server-side. With a node, their back-ends' images (registries this machine
// cannot reach) become the example back-end, built here and served by the node's registry, listening on each
// back-end's port.
func applySamples(ctx context.Context, cluster *localcluster.Cluster, samples string) ([]byte, error) {
	if cluster.Node == nil {
		return cluster.Kubectl(ctx, nil, "apply", "--server-side", "-k", samples)
	}
	step("Building the example back-end (test/fixtures/backend) into the node's registry, for the samples' back-ends")
	_, image, err := cluster.Node.PushFixture(ctx, "backend")
	if err != nil {
		return nil, err
	}
	built, err := cluster.Kubectl(ctx, nil, "kustomize", samples)
	if err != nil {
		return nil, err
	}
	var docs []string
	for _, doc := range strings.Split(string(built), "\n---\n") {
		var tenant tenancyv1alpha1.Tenant
		if err := yaml.Unmarshal([]byte(doc), &tenant); err != nil {
			return nil, err
		}
		if b := tenant.Spec.Backend; tenant.Kind == "Tenant" && b != nil {
			b.Image, b.Command = image, nil
			b.Args = []string{"-addr", fmt.Sprintf(":%d", render.BackendPort(b))}
			edited, err := yaml.Marshal(&tenant)
			if err != nil {
				return nil, err
			}
			doc = string(edited)
		}
		docs = append(docs, doc)
	}
	return cluster.Kubectl(ctx, []byte(strings.Join(docs, "\n---\n")), "apply", "--server-side", "-f", "-")
}

// showIsolation connects, from netprobe pods, to the back-end of a tenant that allows another in: once from a pod
// of the allowed tenant, once from a tenant it does not allow.
func showIsolation(ctx context.Context, cluster *localcluster.Cluster, k8s client.Client, tenants []tenancyv1alpha1.Tenant) error {
	target, allowed, other := pickAllowedPair(tenants)
	if target == nil {
		return nil
	}
	addr := fmt.Sprintf("%s.%s.svc.cluster.local:%d", render.BackendName, target.Status.Namespace, render.BackendPort(target.Spec.Backend))
	step("Connecting to " + addr + " from a pod of " + allowed.Name + ", which " + target.Name + " allows in, and from one of " + other.Name + ", which it does not")
	for _, from := range []*tenancyv1alpha1.Tenant{allowed, other} {
		pod := localcluster.NetprobePod(from.Status.Namespace, "demo-netprobe", cluster.Node.NetprobeImage)
		if err := k8s.Create(ctx, pod); err != nil {
			return err
		}
		var got localcluster.Dial
		err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil || pod.Status.PodIP == "" {
				return false, err
			}
			d, err := localcluster.NetprobeDial(ctx, pod.Status.PodIP, addr)
			if err != nil {
				return false, nil // not serving yet
			}
			got = d
			// New pods wait a moment for their policies: the allowed one retries until it connects.
			return d.Connected || from != allowed, nil
		})
		if err != nil {
			return fmt.Errorf("the netprobe pod of %s: %w", from.Name, err)
		}
		fmt.Printf("    from a pod of %-10s -> %s: %s\n", from.Name, addr, got)
	}
	return nil
}

// pickAllowedPair finds a tenant with a back-end that allows another tenant in, that tenant, and a third it does not
// allow; nil when the samples have none.
func pickAllowedPair(tenants []tenancyv1alpha1.Tenant) (target, allowed, other *tenancyv1alpha1.Tenant) {
	for i := range tenants {
		t := &tenants[i]
		if t.Spec.Backend == nil {
			continue
		}
		for j := range tenants {
			switch o := &tenants[j]; {
			case o.Name == t.Name:
			case slices.Contains(render.AllowedTenants(t), o.Name):
				allowed = o
			default:
				other = o
			}
		}
		if allowed != nil && other != nil {
			return t, allowed, other
		}
		allowed, other = nil, nil
	}
	return nil, nil, nil
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
