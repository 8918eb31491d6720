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

package security

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/audit"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/kubectl-tenant/plugin"
)

// auditEvent is what the tests read of an apiserver audit event.
type auditEvent struct {
	Level            string `json:"level"`
	Verb             string `json:"verb"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	ObjectRef *struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage `json:"requestObject"`
	ResponseObject json.RawMessage `json:"responseObject"`
}

func (e auditEvent) is(verb, resource, namespace, name, user string) bool {
	return e.Verb == verb && e.ObjectRef != nil && e.ObjectRef.Resource == resource && e.ObjectRef.Namespace == namespace &&
		e.ObjectRef.Name == name && e.ImpersonatedUser != nil && e.ImpersonatedUser.Username == user
}

// readAudit parses the local apiserver's audit log.
func readAudit(t *testing.T) []auditEvent {
	t.Helper()
	f, err := os.Open(cluster.AuditLogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var events []auditEvent
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 4<<20)
	for lines.Scan() {
		var e auditEvent
		if json.Unmarshal(lines.Bytes(), &e) == nil {
			events = append(events, e)
		}
	}
	return events
}

// waitForAudit waits for the audit event of user's request (the apiserver writes its log in batches).
func waitForAudit(ctx context.Context, t *testing.T, verb, resource, namespace, name, user string) auditEvent {
	t.Helper()
	var found *auditEvent
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		for _, e := range readAudit(t) {
			if e.is(verb, resource, namespace, name, user) {
				found = &e
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no audit event of %s %s %s/%s by %s", verb, resource, namespace, name, user)
	}
	return *found
}

// TestAuditTrail: the apiserver, run with the project's audit policy (config/audit), records who tried what a
// guardrail refused (the user, the object, the 403 with the policy's message), who widened access and to whom (the
// RoleBinding as asked), and who read which Secret, never its value.
func TestAuditTrail(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	owner := as(t, alphaOwner)

	err := owner.Create(ctx, alphaService("audited-lb", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer }))
	if layer := byPolicy("service-exposure"); !layer.refused(err) {
		t.Fatalf("a LoadBalancer Service in a tenant namespace: %v, want refused by %s", err, layer.name)
	}
	grant := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "audited-grant"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "carol@alpha.example"}},
	}
	if err := owner.Create(ctx, grant); err != nil {
		t.Fatalf("the owner grants a colleague read access: %v", err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), grant) })
	if err := owner.Get(ctx, client.ObjectKey{Namespace: alphaNS, Name: render.EncryptionKeyName}, &corev1.Secret{}); err != nil {
		t.Fatalf("the owner reads the tenant's key ring: %v", err)
	}

	refused := waitForAudit(ctx, t, "create", "services", alphaNS, "audited-lb", alphaOwner.name)
	granted := waitForAudit(ctx, t, "create", "rolebindings", alphaNS, "audited-grant", alphaOwner.name)
	read := waitForAudit(ctx, t, "get", "secrets", alphaNS, render.EncryptionKeyName, alphaOwner.name)
	if s := refused.ResponseStatus; s == nil || s.Code != 403 || !strings.Contains(s.Message, "tenant-operator-service-exposure") {
		t.Errorf("the refused attempt is audited with response %+v, want 403 naming the guardrail", s)
	}
	if granted.Level != "RequestResponse" || !bytes.Contains(granted.RequestObject, []byte("carol@alpha.example")) {
		t.Errorf("the RoleBinding is audited at level %s with request %s, want RequestResponse naming who was granted", granted.Level, granted.RequestObject)
	}
	if read.Level != "Metadata" {
		t.Errorf("the Secret read is audited at level %s, want Metadata", read.Level)
	}
	for _, e := range readAudit(t) {
		if e.ObjectRef != nil && e.ObjectRef.Resource == "secrets" && (len(e.RequestObject) > 0 || len(e.ResponseObject) > 0) {
			t.Fatalf("the audit log holds a Secret's body (%s %s/%s, level %s)", e.Verb, e.ObjectRef.Namespace, e.ObjectRef.Name, e.Level)
		}
	}
}

// TestAccessAuditPlugin: kubectl tenant audit, found by kubectl on the PATH as plugins are, reports alpha's people
// with what the apiserver lets them do, flags the colleague its owner bound (a subject the Tenant does not name, and
// who granted it), finds every guardrail in force, and every attempt it makes as the owner refused.
func TestAccessAuditPlugin(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	colleague := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: alphaNS, Name: "audit-colleague"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantViewerRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "cora@alpha.example"}},
	}
	if err := as(t, alphaOwner).Create(ctx, colleague); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), colleague) })

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-tenant"), "./hack/kubectl-tenant")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	// As a user runs it: kubectl finds kubectl-tenant on the PATH; the kubeconfig comes from the environment, since
	// kubectl takes no flag before a plugin's name.
	kubectl := func(args ...string) []byte {
		t.Helper()
		assets := os.Getenv("KUBEBUILDER_ASSETS")
		if assets == "" {
			assets = filepath.Join("..", "..", "bin", "envtest")
		}
		cmd := exec.CommandContext(ctx, filepath.Join(assets, "kubectl"), args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.KubeconfigPath, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	out := kubectl("tenant", "audit", alphaNS, "-o", "json")
	var r plugin.Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	// alpha names its owners by their SSO group.
	owner := slices.IndexFunc(r.Subjects, func(s audit.SubjectReport) bool { return s.Subject.Name == alphaOwner.groups[0] })
	if owner < 0 {
		t.Fatalf("the owner is not in the report: %+v", r.Subjects)
	}
	if s := r.Subjects[owner]; !slices.Contains(s.Allowed, "create pods/exec") || slices.Contains(s.Allowed, "update resourcequotas") || len(s.Beyond) > 0 {
		t.Errorf("the owner's permissions: allowed %v, beyond %v; want exec, not the quota, nothing beyond", s.Allowed, s.Beyond)
	}
	var colleagueFlagged bool
	for _, f := range r.Findings {
		switch {
		case f.Kind == audit.FindingUnlistedSubject && f.Subject == "User cora@alpha.example":
			colleagueFlagged = strings.Contains(f.Detail, "granted by "+alphaOwner.name)
		case f.Kind == audit.FindingGuardrailMissing || f.Kind == audit.FindingGuardrailNotEffective:
			t.Errorf("finding %+v", f)
		}
	}
	if !colleagueFlagged {
		t.Errorf("the colleague the owner bound is not flagged with who granted it: %+v", r.Findings)
	}
	if len(r.Attempts) != 4 || slices.ContainsFunc(r.Attempts, func(a plugin.Attempt) bool { return !a.Refused }) {
		t.Errorf("attempts as the owner %+v, want 4, all refused", r.Attempts)
	}

	table := kubectl("tenant", "audit", alphaNS)
	for _, want := range []string{"SUBJECT", "LISTED AS", "Group " + alphaOwner.groups[0], "GUARDRAIL", "Drift corrections since the last audit:",
		"FINDINGS:", "UnlistedSubject"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("the table does not show %q:\n%s", want, table)
		}
	}
	t.Logf("kubectl tenant audit %s:\n%s", alphaNS, table)
}
