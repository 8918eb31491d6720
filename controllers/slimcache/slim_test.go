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

package slimcache

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/status"
)

// TestInternerForgetsWhatIsNoLongerMet: values of deleted tenants must not stay forever.
func TestInternerForgetsWhatIsNoLongerMet(t *testing.T) {
	i := newInterner[string]()
	value := func(v string) func() string { return func() string { return v } }
	if got := i.intern("kept", value("first")); got != "first" {
		t.Fatal("the first value is the shared one")
	}
	// A value met again comes back as the shared one, across a generation.
	for n := range minGeneration {
		i.intern(fmt.Sprint("gone-", n), value(""))
	}
	if got := i.intern("kept", value("second")); got != "first" {
		t.Error("a value in use was not shared across a generation")
	}
	for n := range 2 * minGeneration {
		i.intern(fmt.Sprint("new-", n), value(""))
	}
	if _, ok := i.previous["gone-0"]; ok {
		t.Error("a value not met for two generations is still held")
	}
	if _, ok := i.current["gone-0"]; ok {
		t.Error("a value not met for two generations is still held")
	}
	if len(i.current)+len(i.previous) > 4*minGeneration {
		t.Errorf("interner holds %d values", len(i.current)+len(i.previous))
	}
}

// TestBackendFailure: what says a back-end can never start, and what does not (a rollout under way, a pod pulling),
// from the Deployment and pods as the cache keeps them.
func TestBackendFailure(t *testing.T) {
	waiting := func(name, reason string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: render.BackendName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "details"}},
		}}}}
	}
	deployment := func(conditions ...appsv1.DeploymentCondition) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: render.BackendName}, Status: appsv1.DeploymentStatus{Conditions: conditions}}
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
			d.Status.Conditions = status.FailingDeploymentConditions(d.Status.Conditions) // as the cache keeps them
			pods := make([]corev1.Pod, 0, len(tc.pods))
			for i := range tc.pods {
				slim, _ := BackendPod(&tc.pods[i])
				pods = append(pods, *slim.(*corev1.Pod))
			}
			if got := status.BackendFailure(d, pods); got != tc.want {
				t.Errorf("backendFailure = %q, want %q", got, tc.want)
			}
		})
	}
}
