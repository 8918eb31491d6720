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

package faults

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// TestLeaderFailover: two replicas with leader election; the leader killed while tenants provision. The other takes
// over once the lease runs out and finishes, and never writes while the first one leads: every write of each
// replica, told apart in the audit log by the token it authenticated with, falls on its side of the kill.
func TestLeaderFailover(t *testing.T) {
	ctx := needCluster(t, 10*time.Minute)
	type replica struct {
		op  *localcluster.Operator
		jti string
	}
	start := func(name string) replica {
		op, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: binary, LogPath: filepath.Join(cluster.WorkDir, name+".log")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = op.Signal(syscall.SIGTERM)
			<-op.Exited()
		})
		return replica{op, tokenID(t, filepath.Join(cluster.WorkDir, "operator.kubeconfig"))}
	}
	first := start("leader")
	holder := waitForLeaseHolder(ctx, t, "")
	second := start("standby")
	createTenantsNamed(ctx, t, "failover", 40)
	waitForWrites(ctx, t, 0)
	if err := first.op.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.op.Exited()
	killed := time.Now()
	waitForLeaseHolder(ctx, t, holder)
	t.Logf("the standby took the lease %s after the leader was killed (lease duration 60s)", time.Since(killed).Round(time.Second))
	waitAllProvisioned(ctx, t, tenantsNamed(ctx, t, "failover"))

	writes := writesByToken(t)
	if writes[first.jti].n == 0 || writes[second.jti].n == 0 {
		t.Fatalf("writes: leader %d, standby %d: both must have written", writes[first.jti].n, writes[second.jti].n)
	}
	// A request the leader sent just before it died can be received a moment after: on a loaded machine the
	// apiserver took one up a millisecond after the leader's exit. Anything later would be a leader still writing.
	const inFlight = time.Second
	if last := writes[first.jti].last; last.After(killed.Add(inFlight)) {
		t.Errorf("the killed leader wrote at %s, more than %s after its kill at %s", last, inFlight, killed)
	}
	if firstWrite := writes[second.jti].first; firstWrite.Before(killed) {
		t.Errorf("the standby wrote at %s, while the leader still led (killed at %s)", firstWrite, killed)
	}
}

// waitForLeaseHolder waits until the operator's lease is held by someone other than previous, and returns who.
func waitForLeaseHolder(ctx context.Context, t *testing.T, previous string) string {
	t.Helper()
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: "tenant-operator.tenant-operator.dev"}
	holder := ""
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, key, lease); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		return holder != "" && holder != previous, nil
	})
	if err != nil {
		t.Fatalf("lease holder other than %q: %v", previous, err)
	}
	return holder
}

// tokenID is the JWT ID of the ServiceAccount token in a kubeconfig: the audit log names it with every request.
func tokenID(t *testing.T, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo].Token, ".")
	if len(parts) != 3 {
		t.Fatal("the operator's kubeconfig holds no JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.JTI == "" {
		t.Fatalf("no jti in the token (%v)", err)
	}
	return claims.JTI
}

type writeSpan struct {
	n           int
	first, last time.Time
}

// writesByToken reads the audit log: the operator's writes, by the ID of the token they came with.
func writesByToken(t *testing.T) map[string]*writeSpan {
	t.Helper()
	f, err := os.Open(cluster.AuditLogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]*writeSpan{}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	for scanner.Scan() {
		var e struct {
			Verb string `json:"verb"`
			User struct {
				Username string              `json:"username"`
				Extra    map[string][]string `json:"extra"`
			} `json:"user"`
			Received time.Time `json:"requestReceivedTimestamp"`
			Ref      struct {
				Resource string `json:"resource"`
			} `json:"objectRef"`
		}
		if json.Unmarshal(scanner.Bytes(), &e) != nil || e.User.Username != "system:serviceaccount:"+localcluster.OperatorNamespace+":"+localcluster.OperatorServiceAccount {
			continue
		}
		switch e.Verb {
		case "create", "update", "patch", "delete", "deletecollection":
		default:
			continue
		}
		if e.Ref.Resource == "leases" || e.Ref.Resource == "events" {
			continue // the election itself, and Events, which a standby may send
		}
		var jti string
		for _, v := range e.User.Extra["authentication.kubernetes.io/credential-id"] {
			jti = strings.TrimPrefix(v, "JTI=")
		}
		span := out[jti]
		if span == nil {
			span = &writeSpan{first: e.Received}
			out[jti] = span
		}
		span.n++
		span.last = e.Received
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
