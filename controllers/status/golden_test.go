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
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	sigsyaml "sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/test/golden"
)

// TestStatusGolden writes the status of each interesting case to testdata/golden/<case>.yaml: what the admin, and
// Argo CD, read on the Tenant. Transition times are left out: they come from the clock.
func TestStatusGolden(t *testing.T) {
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 2}, Spec: tenancyv1alpha1.TenantSpec{
		Owners:  []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectUser, Name: "alice"}},
		Backend: &tenancyv1alpha1.BackendSpec{Image: "registry.example/acme:1", Replicas: ptr.To[int32](2)},
		Secrets: []tenancyv1alpha1.GeneratedSecret{{Name: "db"}},
	}}
	deployment := func(ready int32, conditions ...appsv1.DeploymentCondition) *Backend {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: render.BackendName, Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 2, ReadyReplicas: ready, Conditions: conditions}
		return &Backend{Deployment: d, Failure: BackendFailure(d, nil)}
	}
	secrets := []tenancyv1alpha1.SecretStatus{{Name: "db", LastRotationTime: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}}
	ready := Inputs{QuotaEnforced: true, Backend: deployment(2), Secrets: secrets}
	for _, tc := range []struct {
		name   string
		status func() tenancyv1alpha1.TenantStatus
	}{
		{"ready", func() tenancyv1alpha1.TenantStatus { return Compute(tenant, ready) }},
		{"provisioning", func() tenancyv1alpha1.TenantStatus {
			return Compute(tenant, Inputs{Backend: &Backend{}, Secrets: secrets})
		}},
		{"object-conflict", func() tenancyv1alpha1.TenantStatus {
			in := ready
			in.Failures = map[render.Area]render.Problem{render.AreaSecrets: {Reason: tenancyv1alpha1.ReasonObjectConflict,
				Message: "Secret acme/db exists and was not created by tenant-operator for this tenant; it was left untouched"}}
			return Compute(tenant, in)
		}},
		{"backend-failed", func() tenancyv1alpha1.TenantStatus {
			in := ready
			in.Backend = deployment(0, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: "False",
				Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet \"backend-1\" has timed out progressing."})
			return Compute(tenant, in)
		}},
		{"namespace-conflict", func() tenancyv1alpha1.TenantStatus {
			return Failed(tenant, render.Problem{Reason: tenancyv1alpha1.ReasonNamespaceConflict,
				Message: "namespace acme already exists and it was not created by tenant-operator; it was left untouched"})
		}},
		{"terminating", func() tenancyv1alpha1.TenantStatus {
			was := tenant.DeepCopy()
			was.Status = Compute(tenant, ready)
			return Terminating(was)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.status()
			for i := range s.Conditions {
				s.Conditions[i].LastTransitionTime = metav1.Time{}
			}
			out, err := sigsyaml.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "golden", tc.name+".yaml"), out)
		})
	}
}
