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
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// FieldManager is one field manager's server-side applies: what it sends, what it owns of the objects it applied,
// and what other managers added to them.
type FieldManager struct {
	// Name is the field manager's name, the field owner of its applies.
	Name string
	// Reserved reports whether a label or annotation key is the manager's alone to set: another manager's value for it
	// is a foreign field (see HasForeignFields). Others may add the other keys.
	Reserved func(key string) bool
}

// OwnedFieldsHash hashes the fields of obj that the manager owns by server-side apply, with their stored values: the
// same hash as RequestHash of the apply request that set them, as long as nobody changed them since.
func (m FieldManager) OwnedFieldsHash(obj client.Object) (string, error) {
	content, err := m.OwnedContent(obj)
	if err != nil {
		return "", err
	}
	return ContentHash(content)
}

// OwnedContent returns the fields of obj that the manager owns by server-side apply, with their values, plus the object's identity: what
// client-go's Extract functions return, for a third of their allocations. The informers call it for every event of every
// managed object, so it walks the field set of the manager's managed-fields entry over the object's plain content,
// consulting the schema only for how a path's type merges, where Extract converts and validates the whole object.
func (m FieldManager) OwnedContent(obj client.Object) (map[string]any, error) {
	gvks, _, err := clientgoscheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return nil, err
	}
	root, err := schemaOf(gvks[0], obj)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	var fields *metav1.FieldsV1
	for _, entry := range obj.GetManagedFields() {
		if m.isApply(entry) {
			fields = entry.FieldsV1
			break
		}
	}
	if fields != nil {
		var set map[string]any
		if err := json.Unmarshal(fields.GetRawBytes(), &set); err != nil {
			return nil, fmt.Errorf("reading the managed fields of %s: %w", obj.GetName(), err)
		}
		// The managed fields are metadata, not content: leave them out of the conversion, then put them back.
		managed := obj.GetManagedFields()
		obj.SetManagedFields(nil)
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		obj.SetManagedFields(managed)
		if err != nil {
			return nil, err
		}
		if owned, ok := root.ownedValue(set, content, root.typeRef).(map[string]any); ok {
			out = owned
		}
	}
	out["apiVersion"], out["kind"] = gvks[0].GroupVersion().String(), gvks[0].Kind
	metadata, _ := out["metadata"].(map[string]any)
	if metadata == nil {
		metadata = map[string]any{}
		out["metadata"] = metadata
	}
	metadata["name"] = obj.GetName()
	if obj.GetNamespace() != "" {
		metadata["namespace"] = obj.GetNamespace()
	}
	return out, nil
}

// typeSchema is the structured-merge-diff schema of a kind: which maps and lists merge item by item (granular) and
// which are set whole (atomic).
type typeSchema struct {
	schema  *smdschema.Schema
	typeRef smdschema.TypeRef
}

// schemas holds the schema of each kind met, read from client-go's once.
var schemas sync.Map // schema.GroupVersionKind -> typeSchema

func schemaOf(gvk schema.GroupVersionKind, obj client.Object) (typeSchema, error) {
	if s, ok := schemas.Load(gvk); ok {
		return s.(typeSchema), nil
	}
	// An empty object of the kind: the schema is the type's, and converting an empty object cannot fail on content.
	typed, err := NewObjectLike(obj)
	if err != nil {
		return typeSchema{}, err
	}
	typed.GetObjectKind().SetGroupVersionKind(gvk)
	tv, err := typeConverter().ObjectToTyped(typed)
	if err != nil {
		return typeSchema{}, fmt.Errorf("schema of %s: %w", gvk, err)
	}
	s := typeSchema{schema: tv.Schema(), typeRef: tv.TypeRef()}
	schemas.Store(gvk, s)
	return s, nil
}

var typeConverter = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(clientgoscheme.Scheme)
})

// ownedValue returns the part of value, of type t, that the field set node covers, as Extract does: a path without
// children is owned whole when its type is a scalar or atomic, and holds nothing of the manager's when it is a
// granular map or list (the manager set it empty; what is in it now is someone else's or a default).
func (s typeSchema) ownedValue(node map[string]any, value any, t smdschema.TypeRef) any {
	atom, _ := s.schema.Resolve(t)
	if !hasChildren(node) {
		switch {
		case atom.Map != nil && atom.Map.ElementRelationship != smdschema.Atomic && !isEmpty(value):
			return nil
		case atom.List != nil && atom.List.ElementRelationship != smdschema.Atomic && !isEmpty(value):
			return nil
		}
		return value
	}
	switch v := value.(type) {
	case map[string]any:
		if atom.Map == nil {
			return value
		}
		out := map[string]any{}
		for key, child := range node {
			name, ok := strings.CutPrefix(key, "f:")
			if !ok {
				continue
			}
			item, present := v[name]
			if !present {
				continue
			}
			fieldType := atom.Map.ElementType
			if field, ok := atom.FindField(name); ok {
				fieldType = field.Type
			}
			out[name] = s.ownedValue(asNode(child), item, fieldType)
		}
		return out
	case []any:
		if atom.List == nil {
			return value
		}
		// Items keep the list's order, as the apiserver stores it.
		var out []any
		for i, item := range v {
			if child, ok := listItemNode(node, i, item); ok {
				out = append(out, s.ownedValue(child, item, atom.List.ElementType))
			}
		}
		return out
	}
	return value
}

// listItemNode finds the field set node of the list item at index i.
func listItemNode(node map[string]any, i int, item any) (map[string]any, bool) {
	for key, child := range node {
		switch {
		case strings.HasPrefix(key, "k:"):
			var keys map[string]any
			fields, ok := item.(map[string]any)
			if json.Unmarshal([]byte(key[2:]), &keys) != nil || !ok {
				continue
			}
			match := true
			for k, want := range keys {
				if !sameValue(fields[k], want) {
					match = false
					break
				}
			}
			if match {
				return asNode(child), true
			}
		case strings.HasPrefix(key, "v:"):
			var want any
			if json.Unmarshal([]byte(key[2:]), &want) == nil && sameValue(item, want) {
				return asNode(child), true
			}
		case strings.HasPrefix(key, "i:"):
			if index, err := strconv.Atoi(key[2:]); err == nil && index == i {
				return asNode(child), true
			}
		}
	}
	return nil, false
}

// sameValue compares a converted value with one read from JSON: numbers by value, the rest as JSON.
func sameValue(got, want any) bool {
	if g, ok := got.(string); ok {
		w, ok := want.(string)
		return ok && g == w
	}
	if g, ok := number(got); ok {
		w, ok := number(want)
		return ok && g == w
	}
	a, errA := json.Marshal(got)
	b, errB := json.Marshal(want)
	return errA == nil && errB == nil && string(a) == string(b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func asNode(v any) map[string]any {
	node, _ := v.(map[string]any)
	return node
}

// hasChildren: "." only marks the path itself as owned.
func hasChildren(node map[string]any) bool {
	for key := range node {
		if key != "." {
			return true
		}
	}
	return false
}
