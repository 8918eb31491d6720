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

package slimcache

import (
	"sort"
	"strings"
	"sync"
)

// interner hands out one shared copy of equal values. Cached objects are never modified in place (reads return deep
// copies), so sharing is safe. It keeps two generations: when the current one has grown to twice what the previous
// one held, the previous one is dropped, so values no longer in use (a deleted tenant's) go within two generations
// while the ones in use are carried over as they are met.
type interner[V any] struct {
	mu                sync.Mutex
	current, previous map[string]V
}

// minGeneration keeps small caches from turning generations over all the time.
const minGeneration = 4096

func newInterner[V any]() *interner[V] {
	return &interner[V]{current: map[string]V{}}
}

// intern returns the shared value for key, made by newValue the first time.
func (i *interner[V]) intern(key string, newValue func() V) V {
	i.mu.Lock()
	defer i.mu.Unlock()
	if shared, ok := i.current[key]; ok {
		return shared
	}
	v, ok := i.previous[key]
	if !ok {
		v = newValue()
	}
	if len(i.current) >= max(minGeneration, 2*len(i.previous)) {
		i.previous, i.current = i.current, map[string]V{}
	}
	i.current[key] = v
	return v
}

// Strings: namespaces, namespaced object names, label names and values, Tenant conditions. Maps:
// label sets (a tenant's objects all carry the same labels, and a map per object would be most of what the cache
// holds) and the operator's annotations of secrets.
var (
	internedStrings = newInterner[string]()
	internedMaps    = newInterner[map[string]string]()
)

// String returns the shared copy of s.
func String(s string) string {
	if s == "" {
		return s
	}
	return internedStrings.intern(s, func() string { return s })
}

// StringMap returns the shared copy of the map l (nil when empty). Callers must not modify it.
func StringMap(l map[string]string) map[string]string {
	if len(l) == 0 {
		return nil
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return internedMaps.intern(b.String(), func() map[string]string {
		// A new set: its keys and values are mostly the same few strings too (label names, the tenant's name).
		own := make(map[string]string, len(l))
		for k, v := range l {
			own[String(k)] = String(v)
		}
		return own
	})
}
