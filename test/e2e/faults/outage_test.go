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
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// TestAPIServerOutage: the apiserver frozen for 30 seconds while tenants provision, the operator leading with its
// default lease settings. It keeps running (a leader that cannot renew its lease would exit, and restart into an
// apiserver still down) and every tenant converges once the apiserver is back.
func TestAPIServerOutage(t *testing.T) {
	ctx := needCluster(t, 10*time.Minute)
	logPath := filepath.Join(cluster.WorkDir, "outage.log")
	op, err := cluster.RunOperator(ctx, localcluster.OperatorOptions{Binary: binary, LogPath: logPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = op.Signal(syscall.SIGTERM)
		<-op.Exited()
		if t.Failed() {
			logs, _ := os.ReadFile(logPath)
			t.Logf("operator log (tail):\n%s", tail(logs, 40))
		}
	})
	waitForLeaseHolder(ctx, t, "")
	createTenantsNamed(ctx, t, "outage", 30)
	waitForWrites(ctx, t, 0)

	apiserver := apiserverProcess(t)
	if err := apiserver.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-op.Exited():
		_ = apiserver.Signal(syscall.SIGCONT)
		t.Fatalf("the operator exited during the outage: %v", op.ExitError())
	case <-time.After(30 * time.Second):
	}
	if err := apiserver.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitAllProvisioned(ctx, t, tenantsNamed(ctx, t, "outage"))
	select {
	case <-op.Exited():
		t.Fatalf("the operator exited after the outage: %v", op.ExitError())
	default:
	}
	if logs, _ := os.ReadFile(logPath); bytes.Contains(logs, []byte("leader election lost")) {
		t.Error("the operator lost its lease during the outage")
	}
}

// apiserverProcess finds the local cluster's kube-apiserver among its processes.
func apiserverProcess(t *testing.T) *os.Process {
	t.Helper()
	for _, pid := range cluster.PIDs() {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		if first, _, _ := bytes.Cut(cmdline, []byte{0}); filepath.Base(string(first)) == "kube-apiserver" {
			p, err := os.FindProcess(pid)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatal("no kube-apiserver among the cluster's processes")
	return nil
}
