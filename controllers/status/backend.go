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

package status

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// A back-end that can never start must read as failed, not as starting: the Deployment says so once its progress
// deadline has passed (or it cannot create pods at all), its pods long before, in the reason they wait for.

// failingWaitReasons are the reasons a back-end container waits for that no amount of waiting cures: the image
// cannot be pulled or named, the container cannot be created from its configuration, or it keeps crashing.
var failingWaitReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "CrashLoopBackOff": true,
}

// WaitFails reports whether a container waiting for reason will never start by waiting (failingWaitReasons).
func WaitFails(reason string) bool { return failingWaitReasons[reason] }

// FailingDeploymentConditions are the conditions of a Deployment that say it failed.
func FailingDeploymentConditions(conditions []appsv1.DeploymentCondition) []appsv1.DeploymentCondition {
	var out []appsv1.DeploymentCondition
	for _, c := range conditions {
		if deploymentConditionFails(c) {
			out = append(out, appsv1.DeploymentCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
		}
	}
	return out
}

func deploymentConditionFails(c appsv1.DeploymentCondition) bool {
	return (c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded") ||
		(c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue)
}

// BackendFailure says why the back-end cannot start, from its Deployment's conditions and its pods' waiting
// containers; "" when nothing says it cannot. The first reason found in a stable order is named, with its own message.
func BackendFailure(d *appsv1.Deployment, pods []corev1.Pod) string {
	if d != nil {
		for _, c := range d.Status.Conditions {
			if deploymentConditionFails(c) {
				return fmt.Sprintf("Deployment %s: %s: %s", d.Name, c.Reason, c.Message)
			}
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && failingWaitReasons[w.Reason] {
				msg := fmt.Sprintf("pod %s, container %s: %s", p.Name, cs.Name, w.Reason)
				if w.Message != "" {
					msg += ": " + w.Message
				}
				return msg
			}
		}
	}
	return ""
}
