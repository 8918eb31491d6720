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

// Package plugin is kubectl-tenant: it gathers what controllers/audit reads from the cluster, answers its reviews with
// SubjectAccessReviews, tries the guardrails as the tenant's own owner (server-side dry-run, impersonated), and
// prints the report.
package plugin

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/accessreview"
	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// usageError is the plugin's usage, returned for arguments it cannot take.
type usageError struct{}

func (usageError) Error() string { return usage }

// authenticated is the group every authenticated request carries.
const authenticated = "system:authenticated"

const usage = `Usage: kubectl tenant audit <tenant> [-o table|json] [--kubeconfig FILE] [--certificate-lifetime 2160h] [--attempts=true]

Reports who can do what in the tenant's namespace (by SubjectAccessReviews), what of it the Tenant does not grant,
which guardrails are in force and hold (server-side dry-run attempts as the tenant's first owner), and whether its
secrets and certificate are current. Needs a cluster admin's rights: it reads RoleBindings and ClusterRoles, creates
SubjectAccessReviews and impersonates the tenant's owner.`

// Attempt is what a tenant's owner tried, dry-run, and whether a guardrail refused it.
type Attempt struct {
	What string `json:"what"`
	// Refused is set when an admission policy or Pod Security refused it.
	Refused bool `json:"refused"`
	// Inconclusive is set when it failed for another reason (RBAC, an object missing, the apiserver): nothing is said
	// of the guardrail.
	Inconclusive bool   `json:"inconclusive,omitempty"`
	Detail       string `json:"detail"`
}

// Result is the audit report, with the attempts the plugin made.
type Result struct {
	*audit.Report
	// AttemptsAs is the owner the attempts were made as.
	AttemptsAs string    `json:"attemptsAs,omitempty"`
	Attempts   []Attempt `json:"attempts,omitempty"`
}

// Main runs kubectl-tenant with args (without the program name). cfg, when nil, comes from the kubeconfig.
func Main(ctx context.Context, args []string, out io.Writer, cfg *rest.Config) error {
	if len(args) == 0 || args[0] != "audit" {
		return usageError{}
	}
	fs := flag.NewFlagSet("kubectl tenant audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	output := fs.String("o", "table", "output format: table or json")
	kubeconfig := fs.String("kubeconfig", "", "the kubeconfig file; default $KUBECONFIG, then ~/.kube/config")
	lifetime := fs.Duration("certificate-lifetime", 90*24*time.Hour, "the operator's --certificate-lifetime")
	attempts := fs.Bool("attempts", true, "try the guardrails as the tenant's first owner (server-side dry-run)")
	// The tenant's name may come before or after the flags, as kubectl takes them.
	var positional []string
	remaining := args[1:]
	for len(remaining) > 0 {
		if err := fs.Parse(remaining); err != nil {
			return fmt.Errorf("%w: %w", err, usageError{})
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		remaining = fs.Args()[1:]
	}
	if len(positional) != 1 || (*output != "table" && *output != "json") {
		return usageError{}
	}
	if cfg == nil {
		var err error
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = *kubeconfig
		if cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig(); err != nil {
			return err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return err
	}
	result, err := Audit(ctx, c, cfg, positional[0], *lifetime, *attempts)
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(result)
	}
	return printTable(out, result)
}

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(tenancyv1alpha1.AddToScheme(s))
	return s
}

// Audit gathers the inputs of tenant's audit from the cluster and runs it.
func Audit(ctx context.Context, c client.Client, cfg *rest.Config, tenant string, lifetime time.Duration, tryGuardrails bool) (*Result, error) {
	t := &tenancyv1alpha1.Tenant{}
	if err := c.Get(ctx, client.ObjectKey{Name: tenant}, t); err != nil {
		return nil, err
	}
	ns := render.TenantNamespace(t)
	// The extra roles as rendered, the class's included (the class generation the namespace records).
	extraRoles := t.Spec.ExtraRoles
	namespace := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: ns}, namespace); err == nil {
		extraRoles = render.WithClass(t, render.AppliedClass(namespace)).Spec.ExtraRoles
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	in, err := accessreview.Gather(ctx, c, t, extraRoles)
	if err != nil {
		return nil, err
	}
	in.CertificateLifetime, in.Now = lifetime, time.Now()
	if in.DriftCorrections, err = driftCorrections(ctx, c, t); err != nil {
		return nil, err
	}
	tls := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.TLSSecretName}, tls); err == nil {
		// Metadata only: the audit never reads a secret's values.
		in.CertificateNotAfter, _ = time.Parse(time.RFC3339, tls.Annotations[render.AnnotationNotAfter])
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	report, err := audit.Run(in, accessreview.Reviewer(ctx, c, t.Name))
	if err != nil {
		return nil, err
	}
	result := &Result{Report: report}
	if tryGuardrails && len(t.Spec.Owners) > 0 && t.Spec.Owners[0].Kind != tenancyv1alpha1.SubjectServiceAccount {
		owner := t.Spec.Owners[0]
		result.AttemptsAs = string(owner.Kind) + " " + owner.Name
		if result.Attempts, err = tryAsOwner(ctx, cfg, owner, ns); err != nil {
			return nil, err
		}
		for _, a := range result.Attempts {
			if !a.Refused && !a.Inconclusive {
				report.Findings = append(report.Findings, audit.Finding{Kind: audit.FindingGuardrailNotEffective, Subject: result.AttemptsAs,
					Detail: a.What + " was not refused: " + a.Detail})
			}
		}
	}
	return result, nil
}

// driftCorrections counts the DriftCorrected Events of the tenant since its last audit by the operator, as far back as
// the apiserver keeps Events (an hour by default).
func driftCorrections(ctx context.Context, c client.Client, t *tenancyv1alpha1.Tenant) (int, error) {
	var events eventsv1.EventList
	if err := c.List(ctx, &events, client.InNamespace(metav1.NamespaceDefault)); err != nil {
		return 0, err
	}
	var since time.Time
	if a := t.Status.Audit; a != nil {
		since = a.Time.Time
	}
	n := 0
	for _, e := range events.Items {
		if e.Reason != "DriftCorrected" || e.Regarding.Kind != "Tenant" || e.Regarding.Name != t.Name {
			continue
		}
		at := e.EventTime.Time
		if e.Series != nil {
			at = e.Series.LastObservedTime.Time
		}
		if at.After(since) {
			n += occurrences(e)
		}
	}
	return n, nil
}

// occurrences is how many times an Event happened: once, or as often as its series counts.
func occurrences(e eventsv1.Event) int {
	if e.Series == nil {
		return 1
	}
	return max(1, int(e.Series.Count))
}

// tryAsOwner makes, as the tenant's owner and dry-run, what the guardrails must refuse.
func tryAsOwner(ctx context.Context, cfg *rest.Config, owner tenancyv1alpha1.Subject, ns string) ([]Attempt, error) {
	as := rest.CopyConfig(cfg)
	as.Impersonate = rest.ImpersonationConfig{UserName: owner.Name, Groups: []string{authenticated}}
	if owner.Kind == tenancyv1alpha1.SubjectGroup {
		as.Impersonate = rest.ImpersonationConfig{UserName: "kubectl-tenant-audit", Groups: []string{owner.Name, authenticated}}
	}
	c, err := client.New(as, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	dryRun := client.DryRunAll
	tries := []struct {
		what string
		do   func() error
	}{
		{"create a LoadBalancer Service", func() error {
			return c.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "audit-exposed"},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}}}, dryRun)
		}},
		{"delete NetworkPolicy " + render.PolicyDefaultDeny, func() error {
			np := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.PolicyDefaultDeny}}
			return c.Delete(ctx, np, dryRun)
		}},
		{"run a privileged pod", func() error {
			return c.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "audit-privileged"}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/audit:1", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}}, dryRun)
		}},
		{"bind tenant-viewer to system:authenticated", func() error {
			return c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "audit-everyone"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
				Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: authenticated}}}, dryRun)
		}},
	}
	out := make([]Attempt, 0, len(tries))
	for _, try := range tries {
		err := try.do()
		a := Attempt{What: try.what, Detail: "allowed"}
		if err != nil {
			a.Detail = err.Error()
			byGuardrail := strings.Contains(a.Detail, "ValidatingAdmissionPolicy") || strings.Contains(a.Detail, "violates PodSecurity")
			a.Refused = (apierrors.IsForbidden(err) || apierrors.IsInvalid(err)) && byGuardrail
			a.Inconclusive = !a.Refused
		}
		out = append(out, a)
	}
	return out, nil
}

// printTable writes the report for people.
func printTable(out io.Writer, r *Result) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	line := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format+"\n", args...) } // Flush reports errors
	line("Tenant %s, namespace %s, audited %s\n", r.Tenant, r.Namespace, r.Time.Format(time.RFC3339))
	line("SUBJECT\tLISTED AS\tBOUND BY\tALLOWED\tBEYOND THE GRANT")
	for _, s := range r.Subjects {
		listed, bound := make([]string, 0, len(s.ListedAs)), make([]string, 0, len(s.Grants))
		for _, l := range s.ListedAs {
			listed = append(listed, string(l))
		}
		for _, g := range s.Grants {
			bound = append(bound, g.Binding)
		}
		line("%s\t%s\t%s\t%d of %d\t%s", s.Subject, orNone(strings.Join(listed, ",")), orNone(strings.Join(bound, ",")),
			len(s.Allowed), len(audit.Checks), orNone(strings.Join(s.Beyond, ", ")))
	}
	line("\nGUARDRAIL\tIN FORCE")
	for _, g := range audit.Guardrails {
		line("%s\t%v", g, slices.Contains(r.Guardrails, g))
	}
	if len(r.Attempts) > 0 {
		line("\nATTEMPT (AS %s, DRY-RUN)\tREFUSED", r.AttemptsAs)
		for _, a := range r.Attempts {
			refused := fmt.Sprint(a.Refused)
			if a.Inconclusive {
				refused = "inconclusive: " + a.Detail
			}
			line("%s\t%s", a.What, refused)
		}
	}
	if len(r.Secrets) > 0 {
		line("\nSECRET\tLAST ROTATED\tROTATION PERIOD\tOVERDUE")
		for _, s := range r.Secrets {
			line("%s\t%s\t%s\t%v", s.Name, s.LastRotated.Format(time.RFC3339), orNone(s.RotationPeriod), s.Overdue)
		}
	}
	if r.CertificateNotAfter != nil {
		line("\nBack-end certificate valid until %s", r.CertificateNotAfter.Format(time.RFC3339))
	}
	line("Drift corrections since the last audit: %d", r.DriftCorrections)
	line("\nFINDINGS: %d", len(r.Findings))
	if len(r.Findings) > 0 {
		line("KIND\tSUBJECT\tDETAIL")
		for _, f := range r.Findings {
			line("%s\t%s\t%s", f.Kind, orNone(f.Subject), f.Detail)
		}
	}
	return w.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
