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

package controllers

import (
	"sync"
	"time"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// tenantMemo is what the reconciler remembers of one tenant between passes, in this process only: a restart starts
// from what the apiserver holds. Only the tenant's own reconcile uses it, and controller-runtime never runs two of
// those at once, so it needs no lock of its own.
type tenantMemo struct {
	// auditFindings are the findings of the tenant's last access audit (findingKey): a new one brings an Event.
	// audited is when this process last audited the tenant; firstAudit when a tenant found overdue is first audited.
	auditFindings       map[string]bool
	audited, firstAudit time.Time
	// driftSinceAudit counts the drift corrections since the last audit (in this process).
	driftSinceAudit int
	// phase is the phase the tenant's metric series last reported.
	phase tenancyv1alpha1.TenantPhase
	// conditions are the condition types and statuses the tenant's condition series last reported.
	conditions string
	// prunedFor is the prune key (pruneKey) of the tenant's last complete prune.
	prunedFor string
	// lastStatus is the last status written, and over which version of the Tenant.
	lastStatus statusWrite
	// claimedNamespace is the namespace this process created for the tenant and the cache does not show yet.
	claimedNamespace string
	// secrets are the values the operator last wrote into the tenant's generated Secrets.
	secrets secretMemory
	// expectations are the objects created for the tenant that the cache has not shown yet.
	expectations expectations
	// classTurn is the tenant's turn in the roll-out of its class's latest change.
	classTurn classTurn
	// databaseFailures counts the passes in a row that could not provision the tenant's database (its backoff).
	databaseFailures int
}

// statusWrite is the last status the operator wrote for a tenant (status.Digest), and the Tenant's resourceVersion
// it was written over: while the cache still shows that version, the write is not in the cache yet.
type statusWrite struct{ before, status string }

// memos holds the memo of every tenant, created at first use; forget drops a deleted tenant's.
type memos struct{ byTenant sync.Map }

func (m *memos) of(tenant string) *tenantMemo {
	if memo, ok := m.byTenant.Load(tenant); ok {
		return memo.(*tenantMemo)
	}
	memo, _ := m.byTenant.LoadOrStore(tenant, &tenantMemo{secrets: secretMemory{}, expectations: expectations{}})
	return memo.(*tenantMemo)
}

func (m *memos) forget(tenant string) { m.byTenant.Delete(tenant) }

// expectations are the objects the operator created that the cache has not shown yet, by object key, and when (the
// pattern of kube-controller-manager's controllers), so that the next pass neither reads them from the apiserver nor
// applies them again. An object still missing after expectationTimeout was deleted, and is created again. Timed by
// the process's clock, not the reconciler's (which tests set): it measures the cache's lag.
type expectations map[string]time.Time

const expectationTimeout = 10 * time.Second

func (e expectations) created(key string) { e[key] = time.Now() }

func (e expectations) observed(key string) { delete(e, key) }

// anyPendingBut: some object created for the tenant, and not among those named, is not in the cache yet (expired
// expectations are dropped).
func (e expectations) anyPendingBut(desired map[string]bool) bool {
	for key := range e {
		if !desired[key] && e.pending(key) {
			return true
		}
	}
	return false
}

func (e expectations) pending(key string) bool {
	at, ok := e[key]
	if ok && time.Since(at) > expectationTimeout {
		delete(e, key)
		return false
	}
	return ok
}
