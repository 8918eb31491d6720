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

package render

import "testing"

// TestReservedMetadataKey: the keys no one but the operator may set on its objects (its own, Pod Security's), and
// some others may.
func TestReservedMetadataKey(t *testing.T) {
	for key, want := range map[string]bool{
		LabelManagedBy: true, LabelTenant: true, AnnotationGenerated: true, "pod-security.kubernetes.io/enforce": true,
		"app.kubernetes.io/name": false, "istio-injection": false, "deployment.kubernetes.io/revision": false,
		"tenancy.tenant-operator.dev": false,
	} {
		if got := ReservedMetadataKey(key); got != want {
			t.Errorf("ReservedMetadataKey(%q) = %v, want %v", key, got, want)
		}
	}
}
