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

package ssa

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// Request turns a typed desired object into a server-side apply request holding only what the builder
// set: status and the null fields a typed struct serialises (creationTimestamp: null) are dropped, so the
// operator never claims fields it has no opinion on.
func Request(obj client.Object, scheme *runtime.Scheme) (*unstructured.Unstructured, error) {
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
	return u, nil
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

// RequestHash hashes what an apply request sets: applied by a manager, and unchanged since, the fields that manager
// owns hash the same (FieldManager.OwnedFieldsHash), so comparing the two says whether applying would change
// anything. A field someone else changed changes hands, and one the manager no longer sets is still its own: both
// make a difference, so drift and removals are applied, and a steady object costs no request.
func RequestHash(u *unstructured.Unstructured) (string, error) {
	return ContentHash(u.Object)
}

// ContentHash hashes an object's content, leaving out what carries no value (nulls, empty maps and lists), so that
// an apply request and the owned fields it produced hash the same. Numbers hash by value: the request holds integers,
// what comes back from JSON holds floats.
func ContentHash(content map[string]any) (string, error) {
	h := sha256.New()
	if err := hashValue(h, content); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// hashValue writes a canonical form of v: map keys sorted, every value tagged with its type.
func hashValue(h hash.Hash, v any) error {
	switch val := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(val))
		for k, item := range val {
			if !isEmpty(item) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		h.Write([]byte{'{'})
		for _, k := range keys {
			h.Write([]byte(strconv.Quote(k)))
			if err := hashValue(h, val[k]); err != nil {
				return err
			}
		}
		h.Write([]byte{'}'})
	case []any:
		h.Write([]byte{'['})
		for _, item := range val {
			if err := hashValue(h, item); err != nil {
				return err
			}
			h.Write([]byte{','})
		}
		h.Write([]byte{']'})
	case string:
		h.Write([]byte("s" + strconv.Quote(val)))
	case bool:
		h.Write([]byte("b" + strconv.FormatBool(val)))
	case int64:
		h.Write([]byte("n" + strconv.FormatFloat(float64(val), 'g', -1, 64)))
	case int:
		h.Write([]byte("n" + strconv.FormatFloat(float64(val), 'g', -1, 64)))
	case float64:
		h.Write([]byte("n" + strconv.FormatFloat(val, 'g', -1, 64)))
	case nil:
		h.Write([]byte("null"))
	default:
		return fmt.Errorf("cannot hash a %T", v)
	}
	return nil
}

// isEmpty: nulls, and maps and lists holding nothing but empty values.
func isEmpty(v any) bool {
	switch val := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, item := range val {
			if !isEmpty(item) {
				return false
			}
		}
		return true
	case []any:
		return len(val) == 0
	}
	return false
}

// Apply server-side applies an apply request under the manager's name, forcing ownership of the fields it sets (the
// object is the manager's: the caller has checked). u becomes the object as stored.
func (m FieldManager) Apply(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(m.Name), client.ForceOwnership)
}

// ApplyObject applies a typed object (see Request).
func (m FieldManager) ApplyObject(ctx context.Context, c client.Client, obj client.Object) error {
	u, err := Request(obj, c.Scheme())
	if err != nil {
		return err
	}
	return m.Apply(ctx, c, u)
}
