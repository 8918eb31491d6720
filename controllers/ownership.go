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
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/controllers/ssa"
)

// FieldOwner is the one field manager under which the operator writes everything it manages.
const FieldOwner = "tenant-operator"

// fieldManager is the operator's server-side apply: the keys only it (and Pod Security) may set are render's.
var fieldManager = ssa.FieldManager{Name: FieldOwner, Reserved: render.ReservedMetadataKey}

// isManagedBy reports whether obj was created by the operator for tenant name: it carries the tenant's labels, and
// the operator's own apply set them. The cache's copies carry no managed fields: the cache has already removed the
// operator's labels from those it did not apply (slimcache); objects read from the apiserver are checked here.
func isManagedBy(obj client.Object, tenant string) bool {
	l := obj.GetLabels()
	return l[render.LabelManagedBy] == render.ManagedByValue && l[render.LabelTenant] == tenant &&
		(len(obj.GetManagedFields()) == 0 || appliedByOperator(obj))
}

// appliedByOperator reports whether the operator's own field manager set obj's managed-by label, by server-side
// apply or, for a namespace, by the create that claimed it (see claimNamespace): the operator's objects are the ones
// it created, whatever labels anyone else may have written.
func appliedByOperator(obj client.Object) bool {
	_, claimable := obj.(*corev1.Namespace)
	return fieldManager.SetLabel(obj, render.LabelManagedBy, claimable)
}
