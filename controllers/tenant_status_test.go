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
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func TestComputeStatus(t *testing.T) {
	plain := tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 3}}
	withBackend := *plain.DeepCopy()
	withBackend.Spec.Backend = &tenancyv1alpha1.BackendSpec{Image: "img", Replicas: ptr.To[int32](2)}
	deployment := func(ready int32) *backendObservation {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 2, ReadyReplicas: ready}
		return &backendObservation{deployment: d}
	}
	cannotStart := deployment(0)
	cannotStart.failure = "pod backend-1, container backend: ImagePullBackOff: Back-off pulling image"
	conflict := applyResults{}
	conflict.fail(areaSecrets, tenancyv1alpha1.ReasonObjectConflict, "Secret acme/db exists", nil)
	forbiddenCIDR := applyResults{}
	forbiddenCIDR.fail(areaNetwork, tenancyv1alpha1.ReasonForbiddenCIDR, "Egress was not opened to ...", nil)

	tests := []struct {
		name        string
		tenant      tenancyv1alpha1.Tenant
		in          statusInputs
		wantPhase   tenancyv1alpha1.TenantPhase
		wantFalse   string
		wantReason  string
		wantBackend string
	}{
		{"all applied, no back-end", plain, statusInputs{quotaEnforced: true}, tenancyv1alpha1.TenantPhaseReady, "", "", ""},
		{"quota not yet enforced", plain, statusInputs{}, tenancyv1alpha1.TenantPhaseProvisioning,
			tenancyv1alpha1.ConditionQuotaEnforced, tenancyv1alpha1.ReasonQuotaPending, ""},
		{"back-end not ready", withBackend, statusInputs{quotaEnforced: true, backend: deployment(1)}, tenancyv1alpha1.TenantPhaseProvisioning,
			tenancyv1alpha1.ConditionBackendReady, tenancyv1alpha1.ReasonBackendUnavailable, "1/2"},
		{"back-end ready", withBackend, statusInputs{quotaEnforced: true, backend: deployment(2)}, tenancyv1alpha1.TenantPhaseReady, "", "", "2/2"},
		{"object conflict fails the tenant", plain, statusInputs{quotaEnforced: true, results: conflict}, tenancyv1alpha1.TenantPhaseFailed,
			tenancyv1alpha1.ConditionSecretsReady, tenancyv1alpha1.ReasonObjectConflict, ""},
		{"a back-end that cannot start fails the tenant", withBackend, statusInputs{quotaEnforced: true, backend: cannotStart}, tenancyv1alpha1.TenantPhaseFailed,
			tenancyv1alpha1.ConditionBackendReady, tenancyv1alpha1.ReasonBackendFailed, "0/2"},
		{"a forbidden egress CIDR fails the tenant", plain, statusInputs{quotaEnforced: true, results: forbiddenCIDR}, tenancyv1alpha1.TenantPhaseFailed,
			tenancyv1alpha1.ConditionNetworkIsolated, tenancyv1alpha1.ReasonForbiddenCIDR, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeStatus(&tt.tenant, tt.in)
			if got.Phase != tt.wantPhase || got.ObservedGeneration != 3 || got.Namespace != "acme" {
				t.Errorf("phase %s, observedGeneration %d, namespace %s", got.Phase, got.ObservedGeneration, got.Namespace)
			}
			if len(got.Conditions) != 7 {
				t.Errorf("want Ready and six area conditions, got %d", len(got.Conditions))
			}
			ready := meta.FindStatusCondition(got.Conditions, tenancyv1alpha1.ConditionReady)
			if (ready.Status == metav1.ConditionTrue) != (tt.wantPhase == tenancyv1alpha1.TenantPhaseReady) {
				t.Errorf("Ready = %s with phase %s", ready.Status, got.Phase)
			}
			if tt.wantFalse != "" {
				c := meta.FindStatusCondition(got.Conditions, tt.wantFalse)
				if c.Status != metav1.ConditionFalse || c.Reason != tt.wantReason {
					t.Errorf("%s = %s/%s, want False/%s", tt.wantFalse, c.Status, c.Reason, tt.wantReason)
				}
				// A failure is named on Ready in its own words; what is only under way is not.
				if failed := tt.wantPhase == tenancyv1alpha1.TenantPhaseFailed; failed != strings.Contains(ready.Message, c.Message) {
					t.Errorf("Ready message %q naming %q: %v, want %v", ready.Message, c.Message, !failed, failed)
				}
			}
			if tt.wantBackend != "" && (got.Backend == nil || got.Backend.Ready != tt.wantBackend) {
				t.Errorf("backend status = %+v, want ready %s", got.Backend, tt.wantBackend)
			}
			// Recomputing from the written status changes nothing: no status write, no timestamp churn.
			written := tt.tenant.DeepCopy()
			written.Status = got
			if !statusEqual(got, computeStatus(written, tt.in)) {
				t.Error("recomputing an up-to-date status must not change it")
			}
		})
	}
}

// TestBackendFailure: what says a back-end can never start, and what does not (a rollout under way, a pod pulling).
func TestBackendFailure(t *testing.T) {
	waiting := func(name, reason string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: BackendName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "details"}},
		}}}}
	}
	deployment := func(conditions ...appsv1.DeploymentCondition) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: BackendName}, Status: appsv1.DeploymentStatus{Conditions: conditions}}
	}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		pods []corev1.Pod
		want string
	}{
		{"starting", deployment(appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated"}),
			[]corev1.Pod{waiting("b", "ContainerCreating")}, ""},
		{"progress deadline exceeded", deployment(appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
			Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "backend-1" has timed out progressing.`}), nil,
			`Deployment backend: ProgressDeadlineExceeded: ReplicaSet "backend-1" has timed out progressing.`},
		{"pods cannot be created", deployment(appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue,
			Reason: "FailedCreate", Message: "exceeded quota"}), nil, "Deployment backend: FailedCreate: exceeded quota"},
		{"image pull back-off, first pod by name", deployment(), []corev1.Pod{waiting("b", "ImagePullBackOff"), waiting("a", "ErrImagePull")},
			"pod a, container backend: ErrImagePull: details"},
		{"crash loop", deployment(), []corev1.Pod{waiting("a", "CrashLoopBackOff")}, "pod a, container backend: CrashLoopBackOff: details"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d.DeepCopy()
			d.Status.Conditions = failingDeploymentConditions(d.Status.Conditions) // as the cache keeps them
			pods := make([]corev1.Pod, 0, len(tc.pods))
			for i := range tc.pods {
				slim, _ := slimBackendPod(&tc.pods[i])
				pods = append(pods, *slim.(*corev1.Pod))
			}
			if got := backendFailure(d, pods); got != tc.want {
				t.Errorf("backendFailure = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFailedStatusOnNamespaceConflict(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 1}}
	s := failedStatus(tenant, problem{tenancyv1alpha1.ReasonNamespaceConflict, "taken"})
	c := meta.FindStatusCondition(s.Conditions, tenancyv1alpha1.ConditionReady)
	if s.Phase != tenancyv1alpha1.TenantPhaseFailed || c.Reason != tenancyv1alpha1.ReasonNamespaceConflict || c.Message != "taken" {
		t.Errorf("status = %+v", s)
	}
}

// TestQuotaWait: a new tenant's status waits for the quota controller for quotaGrace after the quota's creation,
// whichever pass comes in between (a pass that did not create the quota used to write QuotaPending, then Ready).
func TestQuotaWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		results   applyResults
		enforced  bool
		createdAt time.Time
		want      time.Duration
	}{
		{"created by this pass", applyResults{quotaCreated: true}, false, time.Time{}, quotaGrace},
		{"created 2s ago by an earlier pass", applyResults{}, false, now.Add(-2 * time.Second), quotaGrace - 2*time.Second},
		{"at least a second", applyResults{}, false, now.Add(-quotaGrace + time.Millisecond), time.Second},
		{"grace over", applyResults{}, false, now.Add(-quotaGrace), 0},
		{"enforced", applyResults{quotaCreated: true}, true, now, 0},
		{"no quota", applyResults{}, false, time.Time{}, 0},
		{"created ahead of the clock", applyResults{}, false, now.Add(time.Hour), 0},
	} {
		if got := quotaWait(tc.results, tc.enforced, tc.createdAt, now); got != tc.want {
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
		if err := r.writeStatus(ctx, step.from.DeepCopy(), step.status); err != nil {
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
	if err := r.writeStatus(ctx, fresh, status("Ready", now)); err != nil || writes != 3 {
		t.Errorf("status written over a newer version: %d writes, %v", writes, err)
	}
}
