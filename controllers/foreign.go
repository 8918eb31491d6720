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
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Fields someone else added to one of the operator's objects (a rule in default-deny, a key in a generated Secret, a
// container in the back-end) are drift the owned-fields hash cannot see: server-side apply leaves other managers'
// fields alone, however often the operator applies. The operator takes such fields over, by moving them into its
// own managed-fields entry, so that its next apply, which does not set them, removes them.
//
// Others may still add, to the operator's objects, what changes nothing the operator promises: labels and
// annotations outside the operator's and Pod Security's keys (monitoring, mesh injection, the deployment
// controller's revision), finalizers and owner references.

// foreignFieldsMark stands in the cache, in place of the owned-fields hash, for an operator object holding foreign
// fields: it matches no desired state, so the next pass takes them over.
const foreignFieldsMark = "foreign-fields"

// fieldSet is a managed-fields entry's FieldsV1, as JSON decodes it: "f:<field>", "k:<keys>", "v:<value>" and
// "i:<index>" children, "." for the path itself.
type fieldSet = map[string]any

// hasForeignFields reports whether a manager other than the operator's owns fields of obj that the operator takes
// over. The operator's own entries are its applies and the create that claimed a namespace, which holds the two
// labels every apply sets too.
func hasForeignFields(obj client.Object) bool {
	for _, entry := range obj.GetManagedFields() {
		if entry.Manager != FieldOwner && entry.Subresource == "" && entry.FieldsV1 != nil {
			var set fieldSet
			if json.Unmarshal(entry.FieldsV1.GetRawBytes(), &set) != nil {
				continue
			}
			if taken, _ := splitForeignFields(set); len(taken) > 0 {
				return true
			}
		}
	}
	return false
}

// holdsForeignFields reports it of an object from the cache (by its mark) or from the apiserver.
func holdsForeignFields(obj client.Object) bool {
	return ownedHash(obj) == foreignFieldsMark || hasForeignFields(obj)
}

// isOperatorApply: the entry of the operator's server-side applies to the object itself (not a subresource).
func isOperatorApply(entry metav1.ManagedFieldsEntry) bool {
	return entry.Manager == FieldOwner && entry.Operation == metav1.ManagedFieldsOperationApply && entry.Subresource == ""
}

// splitForeignFields splits another manager's field set into what the operator takes over and what stays the other
// manager's (see the top of this file).
func splitForeignFields(set fieldSet) (taken, kept fieldSet) {
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
				if name, ok := strings.CutPrefix(item, "f:"); ok && reservedMetadataKey(name) {
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

// reservedMetadataKey: the label and annotation keys that are the operator's to set, or Pod Security's, which decide
// what runs in a tenant's namespace.
func reservedMetadataKey(key string) bool {
	return key == LabelManagedBy || strings.HasPrefix(key, operatorKeyPrefix) ||
		strings.HasPrefix(key, "pod-security.kubernetes.io/")
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

// claimForeignFields returns managed-fields entries in which the operator's apply entry owns, besides its own fields,
// those it takes over from the other managers of the main resource; each of those keeps the rest, or goes when
// nothing is left. changed is false when there is nothing to take over, or no apply entry of the operator's to take
// it into.
func claimForeignFields(entries []metav1.ManagedFieldsEntry) (out []metav1.ManagedFieldsEntry, changed bool, err error) {
	operator := -1
	for i, entry := range entries {
		if isOperatorApply(entry) {
			operator = i
		}
	}
	if operator < 0 {
		return entries, false, nil
	}
	own := fieldSet{}
	if raw := entries[operator].FieldsV1; raw != nil {
		if err := json.Unmarshal(raw.GetRawBytes(), &own); err != nil {
			return nil, false, fmt.Errorf("reading the operator's managed fields: %w", err)
		}
	}
	for _, entry := range entries {
		if entry.Manager == FieldOwner || entry.Subresource != "" || entry.FieldsV1 == nil {
			out = append(out, entry)
			continue
		}
		var set fieldSet
		if err := json.Unmarshal(entry.FieldsV1.GetRawBytes(), &set); err != nil {
			return nil, false, fmt.Errorf("reading the managed fields of %s: %w", entry.Manager, err)
		}
		taken, kept := splitForeignFields(set)
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
		if isOperatorApply(out[i]) {
			out[i].FieldsV1 = metav1.NewFieldsV1(string(raw))
		}
	}
	return out, true, nil
}

// takeOverForeignFields moves the fields others added to obj into the operator's managed-fields entry, on the
// object as the apiserver holds it (the cache keeps no managed fields). The write is conditional on the version read:
// a change in between fails it, and the next pass starts over.
func (r *TenantReconciler) takeOverForeignFields(ctx context.Context, obj client.Object) error {
	live, err := newObjectLike(obj)
	if err != nil {
		return err
	}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return err
	}
	managed, changed, err := claimForeignFields(live.GetManagedFields())
	if err != nil || !changed {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"managedFields": managed, "resourceVersion": live.GetResourceVersion(),
	}})
	if err != nil {
		return err
	}
	return r.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch))
}
