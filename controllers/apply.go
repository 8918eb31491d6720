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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// toApplyConfiguration turns a typed desired object into a server-side apply request holding only what the builder
// set: status and the null fields a typed struct serialises (creationTimestamp: null) are dropped, so the
// operator never claims fields it has no opinion on.
func toApplyConfiguration(obj client.Object, scheme *runtime.Scheme) (*unstructured.Unstructured, error) {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return nil, err
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	delete(content, "status")
	pruneNulls(content)
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	// The hash of everything the operator sets travels with the object: a stored object whose hash differs was
	// applied from another desired state, even when a field the operator no longer sets is all that changed.
	encoded, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(encoded)
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationAppliedHash] = hex.EncodeToString(sum[:12])
	u.SetAnnotations(annotations)
	return u, nil
}

// upToDate reports whether a stored object already is what applying want would make it: it carries the hash of
// this desired state, and every field want sets holds the wanted value (fields others set or the apiserver
// defaults do not matter). The operator then sends nothing: a steady tenant costs no API request.
func upToDate(current client.Object, want *unstructured.Unstructured) (bool, error) {
	if current.GetAnnotations()[AnnotationAppliedHash] != want.GetAnnotations()[AnnotationAppliedHash] {
		return false, nil
	}
	have, err := runtime.DefaultUnstructuredConverter.ToUnstructured(current)
	if err != nil {
		return false, err
	}
	for k, v := range want.Object {
		// Typed objects from the cache carry no apiVersion and kind.
		if k != "apiVersion" && k != "kind" && !contains(have[k], v) {
			return false, nil
		}
	}
	return true, nil
}

// contains reports whether have holds every field of want with the same value. Lists must match element by
// element: an element someone added or removed is a difference.
func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if v != nil && !contains(h[k], v) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	case int64, int32, int, float64:
		return toFloat(have) == toFloat(want) && have != nil
	default:
		return have == want
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case int:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// pruneNulls removes nil values, recursively. Empty maps stay: "podSelector: {}" and "emptyDir: {}" mean something.
func pruneNulls(m map[string]any) {
	for k, v := range m {
		switch val := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			pruneNulls(val)
		case []any:
			for _, item := range val {
				if im, ok := item.(map[string]any); ok {
					pruneNulls(im)
				}
			}
		}
	}
}

// apply server-side applies an apply configuration under the operator's field owner, forcing ownership of the
// fields it sets (the object is the operator's: the caller has checked). u becomes the object as stored.
func apply(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership)
}

// applyObject applies a typed desired object.
func applyObject(ctx context.Context, c client.Client, obj client.Object) error {
	u, err := toApplyConfiguration(obj, c.Scheme())
	if err != nil {
		return err
	}
	return apply(ctx, c, u)
}
