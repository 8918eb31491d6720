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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Fields someone else added to one of a manager's objects (a rule in a NetworkPolicy, a key in a Secret, a container
// in a Deployment) are drift the owned-fields hash cannot see: server-side apply leaves other managers' fields alone,
// however often the manager applies. The manager takes such fields over, by moving them into its own managed-fields
// entry, so that its next apply, which does not set them, removes them.
//
// Others may still add what changes nothing the manager promises: labels and annotations outside its reserved keys
// (monitoring, mesh injection, the deployment controller's revision), finalizers and owner references.

// fieldSet is a managed-fields entry's FieldsV1, as JSON decodes it: "f:<field>", "k:<keys>", "v:<value>" and
// "i:<index>" children, "." for the path itself.
type fieldSet = map[string]any

// HasForeignFields reports whether another manager owns fields of obj that the manager takes over. Every entry of
// the manager's own (its applies, and any update it sent) is its own.
func (m FieldManager) HasForeignFields(obj client.Object) bool {
	for _, entry := range obj.GetManagedFields() {
		if entry.Manager != m.Name && entry.Subresource == "" && entry.FieldsV1 != nil {
			var set fieldSet
			if json.Unmarshal(entry.FieldsV1.GetRawBytes(), &set) != nil {
				continue
			}
			if taken, _ := m.splitForeignFields(set); len(taken) > 0 {
				return true
			}
		}
	}
	return false
}

// isApply: the entry of the manager's server-side applies to the object itself (not a subresource).
func (m FieldManager) isApply(entry metav1.ManagedFieldsEntry) bool {
	return entry.Manager == m.Name && entry.Operation == metav1.ManagedFieldsOperationApply && entry.Subresource == ""
}

// SetLabel reports whether the manager set obj's label key: by server-side apply, or also by update when updates is
// true (a create the manager sent, for instance). Looked up in the raw field set rather than parsed: cache transforms
// call it for every event of every object.
func (m FieldManager) SetLabel(obj client.Object, key string, updates bool) bool {
	field := []byte(`"f:` + key + `"`)
	for _, entry := range obj.GetManagedFields() {
		byManager := entry.Operation == metav1.ManagedFieldsOperationApply || (updates && entry.Operation == metav1.ManagedFieldsOperationUpdate)
		if entry.Manager == m.Name && byManager && entry.Subresource == "" &&
			entry.FieldsV1 != nil && bytes.Contains(entry.FieldsV1.GetRawBytes(), field) {
			return true
		}
	}
	return false
}

// splitForeignFields splits another manager's field set into what the manager takes over and what stays the other
// manager's (see the top of this file).
func (m FieldManager) splitForeignFields(set fieldSet) (taken, kept fieldSet) {
	taken, kept = fieldSet{}, fieldSet{}
	for key, child := range set {
		if key != "f:metadata" {
			taken[key] = child
			continue
		}
		metaTaken, metaKept := fieldSet{}, fieldSet{}
		for metaKey, metaChild := range asNode(child) {
			if metaKey != "f:labels" && metaKey != "f:annotations" {
				metaKept[metaKey] = metaChild
				continue
			}
			mapTaken, mapKept := fieldSet{}, fieldSet{}
			for item, itemChild := range asNode(metaChild) {
				if name, ok := strings.CutPrefix(item, "f:"); ok && m.Reserved != nil && m.Reserved(name) {
					mapTaken[item] = itemChild
				} else {
					mapKept[item] = itemChild
				}
			}
			if len(mapTaken) > 0 {
				metaTaken[metaKey] = mapTaken
			}
			if len(mapKept) > 0 {
				metaKept[metaKey] = mapKept
			}
		}
		if len(metaTaken) > 0 {
			taken[key] = metaTaken
		}
		if len(metaKept) > 0 {
			kept[key] = metaKept
		}
	}
	return taken, kept
}

// unionFields adds the paths of from to into, recursively.
func unionFields(into, from fieldSet) {
	for key, child := range from {
		existing, ok := into[key].(fieldSet)
		if !ok {
			into[key] = child
			continue
		}
		if node := asNode(child); node != nil {
			unionFields(existing, node)
		}
	}
}

// ClaimForeignFields returns managed-fields entries in which the manager's apply entry owns, besides its own fields,
// those it takes over from the other managers of the main resource; each of those keeps the rest, or goes when
// nothing is left. changed is false when there is nothing to take over, or no apply entry of the manager's to take
// it into.
func (m FieldManager) ClaimForeignFields(entries []metav1.ManagedFieldsEntry) (out []metav1.ManagedFieldsEntry, changed bool, err error) {
	operator := -1
	for i, entry := range entries {
		if m.isApply(entry) {
			operator = i
		}
	}
	if operator < 0 {
		return entries, false, nil
	}
	own := fieldSet{}
	if raw := entries[operator].FieldsV1; raw != nil {
		if err := json.Unmarshal(raw.GetRawBytes(), &own); err != nil {
			return nil, false, fmt.Errorf("reading the managed fields of %s: %w", m.Name, err)
		}
	}
	for _, entry := range entries {
		if entry.Manager == m.Name || entry.Subresource != "" || entry.FieldsV1 == nil {
			out = append(out, entry)
			continue
		}
		var set fieldSet
		if err := json.Unmarshal(entry.FieldsV1.GetRawBytes(), &set); err != nil {
			return nil, false, fmt.Errorf("reading the managed fields of %s: %w", entry.Manager, err)
		}
		taken, kept := m.splitForeignFields(set)
		if len(taken) == 0 {
			out = append(out, entry)
			continue
		}
		changed = true
		unionFields(own, taken)
		if len(kept) == 0 {
			continue
		}
		raw, err := json.Marshal(kept)
		if err != nil {
			return nil, false, err
		}
		entry.FieldsV1 = metav1.NewFieldsV1(string(raw))
		out = append(out, entry)
	}
	if !changed {
		return entries, false, nil
	}
	raw, err := json.Marshal(own)
	if err != nil {
		return nil, false, err
	}
	for i := range out {
		if m.isApply(out[i]) {
			out[i].FieldsV1 = metav1.NewFieldsV1(string(raw))
		}
	}
	return out, true, nil
}

// TakeOverForeignFields moves the fields others added to obj into the manager's managed-fields entry, on the object
// as the apiserver holds it (read with reader: a cache may keep no managed fields). The write is conditional on the
// version read: a change in between fails it, and the caller starts over.
func (m FieldManager) TakeOverForeignFields(ctx context.Context, reader client.Reader, c client.Client, obj client.Object) error {
	// An empty object of obj's type: decoding into a copy of obj would keep what the response does not set.
	live, err := NewObjectLike(obj)
	if err != nil {
		return err
	}
	if err := reader.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return err
	}
	managed, changed, err := m.ClaimForeignFields(live.GetManagedFields())
	if err != nil || !changed {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"managedFields": managed, "resourceVersion": live.GetResourceVersion(),
	}})
	if err != nil {
		return err
	}
	return c.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch))
}

// NewObjectLike returns an empty object of the same type as obj.
func NewObjectLike(obj client.Object) (client.Object, error) {
	out, ok := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not a client.Object", obj)
	}
	return out, nil
}
