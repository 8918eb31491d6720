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
	"bytes"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// secretMemory remembers the values the operator last wrote into each generated Secret. Generated values
// exist nowhere else: a deleted key ring rebuilt from fresh randomness would make every byte the tenant encrypted
// unreadable, and a value someone overwrote (with one of the same length, so that nothing looks wrong) would be kept
// as if the operator had chosen it. With the values remembered, both are drift, restored as they were. The memory
// lasts as long as the process (it is part of the tenant's memo): after a restart, what the apiserver holds is taken as written.
type secretMemory map[string]*corev1.Secret // by secret name

// remember records what the operator applied (or found as desired) for a generated secret.
func (m secretMemory) remember(s *corev1.Secret) {
	// References, not copies: desired objects are built anew each pass and never modified once applied.
	m[s.Name] = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: s.Labels, Annotations: s.Annotations},
		Type:       s.Type, Data: render.GeneratedValues(s),
	}
}

// restore replaces, in the observed generated secrets, every one that is missing or differs from what the operator
// last wrote by that. Only secrets the tenant still wants (wanted) are kept in memory.
func (m secretMemory) restore(observed map[string]*corev1.Secret, wanted map[string]bool) {
	for name, s := range m {
		if !wanted[name] {
			delete(m, name)
			continue
		}
		if current := observed[name]; current == nil || !maps.EqualFunc(current.Data, s.Data, bytes.Equal) ||
			current.Annotations[render.AnnotationGenerated] != s.Annotations[render.AnnotationGenerated] {
			observed[name] = s
		}
	}
}
