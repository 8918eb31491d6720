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

package ssa_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tenant-operator/tenant-operator/controllers/ssa"
	"github.com/tenant-operator/tenant-operator/controllers/ssa/ssatest"
)

// TestOwnedFieldsHashAgreesWithExtract: for objects of several kinds, applied by one manager and then partly taken
// over and added to by another (so that the field sets hold granular maps, keyed and atomic lists, and fields that
// changed hands), the owned-fields hash is the hash of what client-go's Extract functions return, and equals the
// hash of the apply request as long as nobody else changed what it set.
func TestOwnedFieldsHashAgreesWithExtract(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithReturnManagedFields().Build()
	ours := ssa.FieldManager{Name: "tenant-operator"}
	theirs := ssa.FieldManager{Name: "someone-else"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": name}}
	}
	for _, tc := range []struct {
		name string
		// ours is applied by the operator's manager; theirs, applied next by another, takes over or adds fields.
		ours, theirs client.Object
		// changed says theirs changed a value ours set, so the request's hash no longer matches.
		changed bool
	}{{
		// A typed ClusterRole always sets rules (an empty list): applied by someone else, it takes the atomic list over.
		name: "a cluster role's rules, an atomic list, taken over with a label added",
		ours: &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr", Labels: map[string]string{"app": "cr"}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}},
		theirs:  &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr", Labels: map[string]string{"team": "x"}}},
		changed: true,
	}, {
		name: "a deployment with a container added and an env value taken over",
		ours: &appsv1.Deployment{ObjectMeta: meta("d"), Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}, Annotations: map[string]string{"v": "1"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "backend", Image: "img:1",
					Env:       []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
					Ports:     []corev1.ContainerPort{{Name: "https", ContainerPort: 8443, Protocol: corev1.ProtocolTCP}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
				}}}},
		}},
		theirs: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "backend", Env: []corev1.EnvVar{{Name: "B", Value: "changed"}}},
				{Name: "sidecar", Image: "proxy:1"},
			}}}}},
		changed: true,
	}, {
		name: "a secret with a key added",
		ours: &corev1.Secret{ObjectMeta: meta("s"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("x")}},
		theirs: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"extra": []byte("y")}},
	}, {
		// A map set empty is owned without its items: what someone adds to it is theirs.
		name: "a secret set empty, a key added",
		ours: &corev1.Secret{ObjectMeta: meta("empty"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}},
		theirs: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "empty", Namespace: "ns"}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"extra": []byte("y")}},
	}, {
		name: "a role binding's subjects, an atomic list, taken over",
		ours: &rbacv1.RoleBinding{ObjectMeta: meta("rb"), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}}},
		theirs: &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "rb", Namespace: "ns"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}}},
		changed: true,
	}, {
		name: "a service's ports, keyed by port and protocol",
		ours: &corev1.Service{ObjectMeta: meta("svc"), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "d"},
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443), Protocol: corev1.ProtocolTCP}}}},
		theirs: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "svc", Namespace: "ns"}, Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: "debug", Port: 9000, Protocol: corev1.ProtocolTCP}}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := ssa.Request(tc.ours, c.Scheme())
			if err != nil {
				t.Fatal(err)
			}
			wantHash, err := ssa.RequestHash(want)
			if err != nil {
				t.Fatal(err)
			}
			if err := ours.Apply(ctx, c, want); err != nil {
				t.Fatal(err)
			}
			check := func(stage string, matchesRequest bool) {
				t.Helper()
				stored := tc.ours.DeepCopyObject().(client.Object)
				if err := c.Get(ctx, client.ObjectKeyFromObject(tc.ours), stored); err != nil {
					t.Fatal(err)
				}
				if len(stored.GetManagedFields()) == 0 {
					t.Fatal("the fake client returned no managed fields")
				}
				got, err := ours.OwnedFieldsHash(stored)
				if err != nil {
					t.Fatal(err)
				}
				extracted, err := ssatest.ExtractedOwnedFieldsHash(stored, ours.Name)
				if err != nil {
					t.Fatal(err)
				}
				if got != extracted {
					content, _ := ours.OwnedContent(stored)
					t.Errorf("%s: owned-fields hash %s, Extract gives %s; owned content %v", stage, got, extracted, content)
				}
				if (got == wantHash) != matchesRequest {
					content, _ := ours.OwnedContent(stored)
					t.Errorf("%s: hash matches the request's: %v, want %v; owned %v, request %v, managed fields %v", stage, got == wantHash, matchesRequest,
						content, want.Object, stored.GetManagedFields())
				}
			}
			check("applied", true)
			if err := theirs.ApplyObject(ctx, c, tc.theirs); err != nil {
				t.Fatal(err)
			}
			check("after someone else's apply", !tc.changed)
		})
	}
}
