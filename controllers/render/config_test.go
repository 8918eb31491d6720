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

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// TestOverrideResourceList: a flag naming one resource changes that one and keeps the rest of the built-in default,
// so --default-quota=requests.cpu=8 does not silently drop the quota's other keys.
func TestOverrideResourceList(t *testing.T) {
	defaults := corev1.ResourceList{corev1.ResourcePods: mustQty("50"), corev1.ResourceRequestsCPU: mustQty("4")}
	for _, tc := range []struct {
		name, flag string
		want       corev1.ResourceList
		wantErr    bool
	}{
		{"empty keeps the defaults", "", defaults, false},
		{"one key overridden", "requests.cpu=8", corev1.ResourceList{corev1.ResourcePods: mustQty("50"), corev1.ResourceRequestsCPU: mustQty("8")}, false},
		{"a key added, spaces trimmed", " count/jobs.batch = 5 ,", corev1.ResourceList{corev1.ResourcePods: mustQty("50"), corev1.ResourceRequestsCPU: mustQty("4"), "count/jobs.batch": mustQty("5")}, false},
		{"not name=quantity", "pods", nil, true},
		{"not a quantity", "pods=many", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OverrideResourceList(defaults, tc.flag)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if cpu := defaults[corev1.ResourceRequestsCPU]; cpu.Cmp(mustQty("4")) != 0 || len(defaults) != 2 {
		t.Errorf("the defaults were changed: %v", defaults)
	}
}
