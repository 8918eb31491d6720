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
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// TestQuotaWait: a new tenant's status waits for the quota controller for quotaGrace after the quota's creation,
// whichever pass comes in between (a pass that did not create the quota used to write QuotaPending, then Ready).
func TestQuotaWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		createdNow bool
		enforced   bool
		createdAt  time.Time
		want       time.Duration
	}{
		{"created by this pass", true, false, time.Time{}, quotaGrace},
		{"created 2s ago by an earlier pass", false, false, now.Add(-2 * time.Second), quotaGrace - 2*time.Second},
		{"at least a second", false, false, now.Add(-quotaGrace + time.Millisecond), time.Second},
		{"grace over", false, false, now.Add(-quotaGrace), 0},
		{"enforced", true, true, now, 0},
		{"no quota", false, false, time.Time{}, 0},
		{"created ahead of the clock", false, false, now.Add(time.Hour), 0},
	} {
		if got := quotaWait(tc.createdNow, tc.enforced, tc.createdAt, now); got != tc.want {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStatusNotWrittenTwiceFromAStaleCache: a pass that starts before the cache shows the last status write
// computes the same status from the old one, and used to send it again (one tenant in a few hundred, in the bench).
func TestStatusNotWrittenTwiceFromAStaleCache(t *testing.T) {
	ctx := context.Background()
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "stale"}}
	writes := 0
	c := fake.NewClientBuilder().WithScheme(NewScheme()).WithObjects(tenant).WithStatusSubresource(tenant).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			writes++
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		}}).Build()
	r := &TenantReconciler{Client: c}
	scope := func(from *tenancyv1alpha1.Tenant) *tenantScope { return r.newScope(from.DeepCopy()) }
	stale := &tenancyv1alpha1.Tenant{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tenant), stale); err != nil {
		t.Fatal(err)
	}
	status := func(reason string, at time.Time) tenancyv1alpha1.TenantStatus {
		return tenancyv1alpha1.TenantStatus{ObservedGeneration: 1, Phase: tenancyv1alpha1.TenantPhaseReady, Conditions: []metav1.Condition{
			{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: reason, LastTransitionTime: metav1.NewTime(at)}}}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		name   string
		from   *tenancyv1alpha1.Tenant
		status tenancyv1alpha1.TenantStatus
		writes int
	}{
		{"first write", stale, status("Ready", now), 1},
		{"same status from the stale cache, a second later", stale, status("Ready", now.Add(time.Second)), 1},
		{"another status from the stale cache", stale, status("Other", now), 2},
	} {
		if err := r.writeStatus(ctx, scope(step.from), step.status); err != nil {
			t.Fatal(err)
		}
		if writes != step.writes {
			t.Errorf("%s: %d status writes, want %d", step.name, writes, step.writes)
		}
	}
	fresh := &tenancyv1alpha1.Tenant{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tenant), fresh); err != nil {
		t.Fatal(err)
	}
	// Once the cache shows a newer version, a status differing from it is written, even one written before.
	if err := r.writeStatus(ctx, scope(fresh), status("Ready", now)); err != nil || writes != 3 {
		t.Errorf("status written over a newer version: %d writes, %v", writes, err)
	}
}
