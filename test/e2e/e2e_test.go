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

// Package e2e runs the built manager binary, as a process under its own ServiceAccount, against the local control
// plane with the manifests of config/default installed: what a cluster admin would get, short of the container.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

var (
	cluster  *localcluster.Cluster
	operator *localcluster.Operator
	k8s      client.Client
	issuer   *oidcIssuer
	repoRoot string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The apiserver authenticates SSO users with config/authentication, against an OIDC issuer of the suite's own.
	var err error
	if issuer, err = startIssuer(); err != nil {
		return fail(err)
	}
	defer issuer.server.Close()
	root, err := localcluster.RepoRoot()
	if err != nil {
		return fail(err)
	}
	authentication, err := issuer.authenticationConfig(root)
	if err != nil {
		return fail(err)
	}
	installed, err := localcluster.StartInstalled(ctx, localcluster.Options{AuthenticationConfig: authentication})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := installed.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping local cluster:", err)
		}
	}()
	cluster, repoRoot = installed.Cluster, installed.RepoRoot
	binary := installed.Binary
	// At debug level, as the chart's full values run it: the per-object logs are written too, and the suite checks
	// that no generated value reaches them.
	if operator, err = cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: binary, Args: []string{"--zap-log-level=debug"}}); err != nil {
		return fail(err)
	}
	if k8s, err = client.New(cluster.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return fail(err)
	}
	code := m.Run()
	if code != 0 {
		logs, _ := os.ReadFile(operator.LogPath)
		fmt.Fprintf(os.Stderr, "operator log:\n%s\n", logs)
	}
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e setup:", err)
	return 1
}

func needCluster(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane")
	}
	// An outer limit only: every wait inside is on a condition (see the controllers suite).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func eventually(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestCAIsCreatedAtStart runs before any Tenant exists: the operator creates its CA when it starts.
func TestCAIsCreatedAtStart(t *testing.T) {
	ctx := needCluster(t)
	secret := &corev1.Secret{}
	eventually(ctx, t, "CA secret created", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: "tenant-operator-ca"}, secret)
		return err == nil, client.IgnoreNotFound(err)
	})
	if secret.Type != corev1.SecretTypeTLS || len(secret.Data[corev1.TLSCertKey]) == 0 || len(secret.Data[corev1.TLSPrivateKeyKey]) == 0 {
		t.Errorf("CA secret is not a complete kubernetes.io/tls Secret: type %s", secret.Type)
	}
}

func TestOperatorHoldsTheLeaderLease(t *testing.T) {
	ctx := needCluster(t)
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: "tenant-operator.tenant-operator.dev"}
	eventually(ctx, t, "leader lease acquired", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, key, lease)
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", client.IgnoreNotFound(err)
	})
}

// TestSamplesAreProvisioned applies config/samples and checks what each Tenant got: its conditions (all but
// BackendReady, as no pod runs without a node), its objects, and that no generated secret value reached the log.
func TestSamplesAreProvisioned(t *testing.T) {
	ctx := needCluster(t)
	if _, err := cluster.Kubectl(ctx, nil, "apply", "--server-side", "-k", filepath.Join(repoRoot, "config", "samples")); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		namespace string
		policies  int
		secrets   []string
	}{
		"acme":     {"acme", 3, []string{"encryption-key"}},
		"globex":   {"globex-prod", 5, []string{"backend-tls", "db-credentials", "encryption-key", "session-key"}},
		"initech":  {"initech", 5, []string{"backend-tls", "encryption-key"}},
		"initrode": {"initrode", 5, []string{"encryption-key"}}, // no back-end; egress to globex's, which allows it in
	}
	provisioned := []string{
		tenancyv1alpha1.ConditionNamespaceReady, tenancyv1alpha1.ConditionNetworkIsolated, tenancyv1alpha1.ConditionAccessConfigured,
		tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ConditionSecretsReady,
	}
	var secretValues [][]byte
	for name, w := range want {
		tenant := &tenancyv1alpha1.Tenant{}
		eventually(ctx, t, "tenant "+name+" provisioned", func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKey{Name: name}, tenant); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			for _, c := range provisioned {
				if !meta.IsStatusConditionTrue(tenant.Status.Conditions, c) {
					return false, nil
				}
			}
			return tenant.Status.ObservedGeneration == tenant.Generation, nil
		})
		if tenant.Status.Namespace != w.namespace {
			t.Errorf("%s: status.namespace = %q, want %q", name, tenant.Status.Namespace, w.namespace)
		}
		if tenant.Spec.ClassName != "" {
			checkClassApplied(ctx, t, tenant)
		}
		labels := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: name}
		var nps networkingv1.NetworkPolicyList
		if err := k8s.List(ctx, &nps, client.InNamespace(w.namespace), labels); err != nil || len(nps.Items) != w.policies {
			t.Errorf("%s: %d NetworkPolicies (%v), want %d", name, len(nps.Items), err, w.policies)
		}
		var secrets corev1.SecretList
		if err := k8s.List(ctx, &secrets, client.InNamespace(w.namespace), labels); err != nil {
			t.Fatal(err)
		}
		got := make([]string, 0, len(secrets.Items))
		for _, s := range secrets.Items {
			got = append(got, s.Name)
			for _, v := range s.Data {
				secretValues = append(secretValues, v)
			}
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(w.secrets, ",") {
			t.Errorf("%s: secrets %v, want %v", name, got, w.secrets)
		}
	}
	logs, err := os.ReadFile(operator.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(secretValues) < 8 {
		t.Fatalf("found only %d secret values to look for", len(secretValues))
	}
	for _, v := range secretValues {
		for _, form := range [][]byte{v, []byte(base64.StdEncoding.EncodeToString(v))} {
			if len(v) >= 8 && bytes.Contains(logs, form) {
				t.Errorf("a generated secret value appears in the operator's log")
			}
		}
	}
}

// checkClassApplied: a sample Tenant naming a TenantClass has the class's quota and namespace labels, its status
// names the class, and the class counts it.
func checkClassApplied(ctx context.Context, t *testing.T, tenant *tenancyv1alpha1.Tenant) {
	t.Helper()
	class := &tenancyv1alpha1.TenantClass{}
	eventually(ctx, t, "class "+tenant.Spec.ClassName+" counts "+tenant.Name, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKey{Name: tenant.Spec.ClassName}, class); err != nil {
			return false, err
		}
		return class.Status.Tenants >= 1 && class.Status.UpdatedTenants == class.Status.Tenants, nil
	})
	if c := tenant.Status.Class; c == nil || c.Name != class.Name || c.Generation != class.Generation {
		t.Errorf("%s: status.class = %+v, want %s generation %d", tenant.Name, c, class.Name, class.Generation)
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: tenant.Status.Namespace}, ns); err != nil {
		t.Fatal(err)
	}
	for k, v := range class.Spec.NamespaceMetadata.Labels {
		if ns.Labels[k] != string(v) {
			t.Errorf("%s: namespace label %s = %q, want the class's %q", tenant.Name, k, ns.Labels[k], v)
		}
	}
	quota := &corev1.ResourceQuota{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: tenant.Status.Namespace, Name: render.QuotaName}, quota); err != nil {
		t.Fatal(err)
	}
	if want := class.Spec.Quota.Hard.Pods(); !quota.Spec.Hard.Pods().Equal(*want) {
		t.Errorf("%s: quota pods %v, want the class's %v", tenant.Name, quota.Spec.Hard.Pods(), want)
	}
}

func TestMetricsRequireAuthenticationAndAuthorization(t *testing.T) {
	ctx := needCluster(t)
	// A scraper bound to the metrics-reader ClusterRole, and a ServiceAccount without it.
	stranger := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "stranger"}}
	if err := k8s.Create(ctx, stranger); err != nil {
		t.Fatal(err)
	}
	strangerConfig, err := cluster.ServiceAccountConfig(ctx, "default", "stranger")
	if err != nil {
		t.Fatal(err)
	}
	scraperToken, err := cluster.MetricsReaderToken(ctx, "scraper", "tenant-operator-metrics-reader")
	if err != nil {
		t.Fatal(err)
	}
	scrape := func(token string) (int, localcluster.Metrics) {
		code, m, err := operator.ScrapeMetrics(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return code, m
	}

	if code, _ := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("scrape without a token: status %d, want 401", code)
	}
	if code, _ := scrape(strangerConfig.BearerToken); code != http.StatusForbidden {
		t.Errorf("scrape by a ServiceAccount without metrics-reader: status %d, want 403", code)
	}
	// RBAC for the new binding reaches the authorizer's cache within moments.
	var body localcluster.Metrics
	eventually(ctx, t, "scrape by metrics-reader allowed", func(context.Context) (bool, error) {
		var code int
		code, body = scrape(scraperToken)
		return code == http.StatusOK, nil
	})
	for _, metric := range []string{"controller_runtime_reconcile_total", "tenant_operator_tenant_phase"} {
		if !body.Has(metric) {
			t.Errorf("metrics lack %s", metric)
		}
	}
}

func TestMetricsRefuseHTTP2(t *testing.T) {
	needCluster(t)
	conn, err := tls.Dial("tcp", strings.TrimPrefix(operator.MetricsURL, "https://"), &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // only the negotiated protocol is inspected
		NextProtos:         []string{"h2", "http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if proto := conn.ConnectionState().NegotiatedProtocol; proto == "h2" {
		t.Fatalf("metrics endpoint negotiated HTTP/2; it must be off by default")
	}
}

// TestLifecycleUnderTheOperatorsOwnIdentity: everything the operator does after creation, done as itself (its
// ServiceAccount, its RBAC, every guardrail installed, operator-scope included): drift repair by edit and by
// deletion, pruning after a spec change, a rotation, a conflict, an apply failure, and both deletion policies. Its
// debug log, through all of it, holds none of the values it generated.
func TestLifecycleUnderTheOperatorsOwnIdentity(t *testing.T) {
	ctx := needCluster(t)
	seen := &generatedValues{}
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "lifecycle"}, Spec: tenancyv1alpha1.TenantSpec{
		Owners:         []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "lena@lifecycle.example"}},
		Backend:        &tenancyv1alpha1.BackendSpec{Image: "registry.example/lifecycle/api:1"},
		Secrets:        []tenancyv1alpha1.GeneratedSecret{{Name: "api", Keys: []string{"token"}}, {Name: "legacy"}},
		DeletionPolicy: tenancyv1alpha1.DeletionPolicyRetain,
	}}
	if err := k8s.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	waitProvisioned(ctx, t, tenant)
	seen.collect(ctx, t, "lifecycle")

	t.Run("drift by edit", func(t *testing.T) {
		np := &networkingv1.NetworkPolicy{}
		key := client.ObjectKey{Namespace: "lifecycle", Name: render.PolicyDefaultDeny}
		if err := k8s.Get(ctx, key, np); err != nil {
			t.Fatal(err)
		}
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if err := k8s.Update(ctx, np); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "egress denial restored", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, key, np)
			return err == nil && len(np.Spec.PolicyTypes) == 2, err
		})
	})
	t.Run("drift by a rule someone else adds", func(t *testing.T) { ruleSomeoneElseAddsIsRemoved(ctx, t, "lifecycle") })
	t.Run("drift by deletion keeps the key ring", func(t *testing.T) {
		key := client.ObjectKey{Namespace: "lifecycle", Name: render.EncryptionKeyName}
		ring := &corev1.Secret{}
		if err := k8s.Get(ctx, key, ring); err != nil {
			t.Fatal(err)
		}
		before := ring.Data
		if err := k8s.Delete(ctx, ring); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "key ring restored with its keys", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, key, ring)
			return err == nil && ring.UID != "" && bytes.Equal(ring.Data["key-1"], before["key-1"]), client.IgnoreNotFound(err)
		})
	})
	t.Run("prune after a spec change", func(t *testing.T) {
		setSecrets(ctx, t, tenant, tenancyv1alpha1.GeneratedSecret{Name: "api", Keys: []string{"token"}})
		eventually(ctx, t, "Secret legacy pruned", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: "lifecycle", Name: "legacy"}, &corev1.Secret{})
			return err != nil, client.IgnoreNotFound(err)
		})
	})
	t.Run("rotation", func(t *testing.T) {
		setSecrets(ctx, t, tenant, tenancyv1alpha1.GeneratedSecret{Name: "api", Keys: []string{"token"}, Length: ptrTo[int32](48)})
		eventually(ctx, t, "api rotated to 48 characters", func(ctx context.Context) (bool, error) {
			s := &corev1.Secret{}
			err := k8s.Get(ctx, client.ObjectKey{Namespace: "lifecycle", Name: "api"}, s)
			return err == nil && len(s.Data["token"]) == 48, err
		})
		seen.collect(ctx, t, "lifecycle")
	})
	t.Run("conflict", func(t *testing.T) {
		foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "lifecycle", Name: "taken"}, Data: map[string][]byte{"password": []byte("not the operator's")}}
		if err := k8s.Create(ctx, foreign); err != nil {
			t.Fatal(err)
		}
		setSecrets(ctx, t, tenant, tenancyv1alpha1.GeneratedSecret{Name: "api", Keys: []string{"token"}, Length: ptrTo[int32](48)},
			tenancyv1alpha1.GeneratedSecret{Name: "taken"})
		waitForReason(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, tenancyv1alpha1.ReasonObjectConflict)
	})
	t.Run("apply failure", func(t *testing.T) {
		refuse := refuseSecret(ctx, t, "refused")
		setSecrets(ctx, t, tenant, tenancyv1alpha1.GeneratedSecret{Name: "api", Keys: []string{"token"}, Length: ptrTo[int32](48)},
			tenancyv1alpha1.GeneratedSecret{Name: "refused"})
		waitForReason(ctx, t, tenant, tenancyv1alpha1.ConditionSecretsReady, tenancyv1alpha1.ReasonApplyFailed)
		refuse()
		setSecrets(ctx, t, tenant, tenancyv1alpha1.GeneratedSecret{Name: "api", Keys: []string{"token"}, Length: ptrTo[int32](48)})
		waitProvisioned(ctx, t, tenant)
	})
	t.Run("deletion policy Retain", func(t *testing.T) {
		owner := impersonating(t, "lena@lifecycle.example")
		colleague := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "lifecycle", Name: "colleague"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: render.TenantDeveloperRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "carl@lifecycle.example"}},
		}
		if err := owner.Create(ctx, colleague); err != nil {
			t.Fatal(err)
		}
		seen.collect(ctx, t, "lifecycle")
		if err := k8s.Delete(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		waitGone(ctx, t, tenant)
		for _, who := range []string{"lena@lifecycle.example", "carl@lifecycle.example"} {
			if err := impersonating(t, who).List(ctx, &corev1.ConfigMapList{}, client.InNamespace("lifecycle")); !apierrors.IsForbidden(err) {
				t.Errorf("%s can still read the retained namespace (err %v)", who, err)
			}
		}
		ns := &corev1.Namespace{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: "lifecycle"}, ns); err != nil || ns.Annotations[render.AnnotationRetained] != "true" {
			t.Errorf("namespace not retained: %v (%v)", ns.Annotations, err)
		}
	})
	t.Run("deletion policy Delete", func(t *testing.T) {
		doomed := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}, Spec: tenancyv1alpha1.TenantSpec{
			DeletionPolicy: tenancyv1alpha1.DeletionPolicyDelete, Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
		}}
		if err := k8s.Create(ctx, doomed); err != nil {
			t.Fatal(err)
		}
		waitProvisioned(ctx, t, doomed)
		seen.collect(ctx, t, "doomed")
		if err := k8s.Delete(ctx, doomed); err != nil {
			t.Fatal(err)
		}
		waitGone(ctx, t, doomed)
		waitGone(ctx, t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}})
	})
	seen.checkLog(t)
}

// TestSSOWithMFA: the apiserver, configured with config/authentication, lets an SSO user in only with multi-factor
// authentication, maps the token's groups to prefixed groups that a Tenant names, and refuses tokens without MFA,
// expired, from another issuer or claiming a system: group. A user in a group the Tenant does not name gets in but
// has nothing in the tenant's namespace.
func TestSSOWithMFA(t *testing.T) {
	ctx := needCluster(t)
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "sso"}, Spec: tenancyv1alpha1.TenantSpec{
		Owners:         []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectGroup, Name: "oidc:sso-admins"}},
		DeletionPolicy: tenancyv1alpha1.DeletionPolicyDelete,
	}}
	if err := k8s.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), tenant) })
	owner := map[string]any{"email": "alice@sso.example", "groups": []string{"sso-admins"}, "amr": []string{"pwd", "mfa"}}
	configMap := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "sso", Name: name}}
	}

	// With MFA: alice is oidc:alice@sso.example in oidc:sso-admins, the Tenant's owners, and works in its namespace.
	alice := withToken(t, issuer.idToken(t, owner))
	review, err := alice.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("an ID token with MFA was refused: %v", err)
	}
	if u := review.Status.UserInfo; u.Username != "oidc:alice@sso.example" || !slices.Contains(u.Groups, "oidc:sso-admins") {
		t.Errorf("the token maps to %s in %v, want oidc:alice@sso.example in oidc:sso-admins", u.Username, u.Groups)
	}
	eventually(ctx, t, "the owner works in the tenant's namespace", func(ctx context.Context) (bool, error) {
		_, err := alice.CoreV1().ConfigMaps("sso").Create(ctx, configMap("by-alice"), metav1.CreateOptions{})
		return err == nil, nil // until the operator has bound the owners
	})

	// Another SSO user, with MFA, in a group the Tenant does not name: authenticated, and nothing in the tenant.
	mallory := withToken(t, issuer.idToken(t, map[string]any{"email": "mallory@sso.example", "groups": []string{"others"}, "amr": []string{"mfa"}}))
	if _, err := mallory.CoreV1().ConfigMaps("sso").Create(ctx, configMap("by-mallory"), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("a user outside the Tenant's groups in its namespace: %v, want forbidden", err)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"without MFA": issuer.idToken(t, owner, func(c map[string]any, _ **rsa.PrivateKey) { c["amr"] = []string{"pwd"} }),
		"without amr": issuer.idToken(t, owner, func(c map[string]any, _ **rsa.PrivateKey) { delete(c, "amr") }),
		"expired": issuer.idToken(t, owner, func(c map[string]any, _ **rsa.PrivateKey) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}),
		"from another issuer": issuer.idToken(t, owner, func(c map[string]any, key **rsa.PrivateKey) {
			c["iss"], *key = "https://sso.attacker.example", other
		}),
		"signed by another key": issuer.idToken(t, owner, func(_ map[string]any, key **rsa.PrivateKey) { *key = other }),
		"for another audience":  issuer.idToken(t, owner, func(c map[string]any, _ **rsa.PrivateKey) { c["aud"] = "another-cluster" }),
		"claiming system:masters": issuer.idToken(t, owner, func(c map[string]any, _ **rsa.PrivateKey) {
			c["groups"] = []string{"sso-admins", "system:masters"}
		}),
		"with an unverified email": issuer.idToken(t, owner, func(c map[string]any, _ **rsa.PrivateKey) { c["email_verified"] = false }),
	} {
		_, err := withToken(t, token).CoreV1().ConfigMaps("sso").List(ctx, metav1.ListOptions{})
		if !apierrors.IsUnauthorized(err) {
			t.Errorf("an ID token %s: %v, want 401 Unauthorized", name, err)
		}
	}
}

// TestGracefulShutdown runs last: it stops the operator and checks it exits cleanly and hands the lease back.
func TestGracefulShutdown(t *testing.T) {
	ctx := needCluster(t)
	if err := operator.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-operator.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("operator did not exit within 30 s of SIGTERM")
	}
	if err := operator.ExitError(); err != nil {
		t.Fatalf("operator exited with %v", err)
	}
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: "tenant-operator.tenant-operator.dev"}
	if err := k8s.Get(ctx, key, lease); err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" {
		t.Errorf("lease still held by %q after shutdown; it should be released", *lease.Spec.HolderIdentity)
	}
}

// ruleSomeoneElseAddsIsRemoved: an allow-all ingress rule added to default-deny by another field manager goes.
func ruleSomeoneElseAddsIsRemoved(ctx context.Context, t *testing.T, ns string) {
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.PolicyDefaultDeny}}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"ingress":[{}]}}`))
	if err := k8s.Patch(ctx, np, patch, client.FieldOwner("intruder")); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, "the allow-all rule removed", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(np), np)
		return err == nil && np.Spec.Ingress == nil, err
	})
}
