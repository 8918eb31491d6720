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
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// ComponentShared is the component label of the copies of shared objects; AnnotationSharedFrom names the original.
const (
	ComponentShared      = "shared"
	AnnotationSharedFrom = OperatorKeyPrefix + "shared-from"
)

// SharedKey names a shared object: "Secret/registry", "ConfigMap/ca-bundle".
func SharedKey(kind tenancyv1alpha1.SharedObjectKind, name string) string {
	return string(kind) + "/" + name
}

// SharedObjects are the shared objects the tenant gets: its class's, then its own, each once. t is the Tenant
// without its class.
func SharedObjects(t *tenancyv1alpha1.Tenant, c *Class) []tenancyv1alpha1.SharedObject {
	if c == nil {
		return t.Spec.SharedObjects
	}
	return withClassSharedObjects(t.Spec.SharedObjects, c.Spec.SharedObjects)
}

func withClassSharedObjects(own, class []tenancyv1alpha1.SharedObject) []tenancyv1alpha1.SharedObject {
	if len(class) == 0 {
		return own
	}
	out := slices.Clone(class)
	for _, o := range own {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// addSharedObjects adds the copies of the tenant's shared objects (t is the tenant with its class), from the
// originals observed in the operator's namespace, and returns the shared Secrets that hold registry credentials,
// for the back-end's imagePullSecrets. An original that is missing or not marked shareable is not copied, and
// neither is a Secret named as one of the operator's own in the namespace: the admin must correct either.
func (d *Desired) addSharedObjects(t *tenancyv1alpha1.Tenant, cfg Config, originals map[string]client.Object) (pullSecrets []string) {
	generated := GeneratedSecretNames(t)
	var unavailable []string
	for _, ref := range t.Spec.SharedObjects {
		original := originals[SharedKey(ref.Kind, ref.Name)]
		if original == nil || original.GetLabels()[tenancyv1alpha1.LabelShareable] != markTrue ||
			(ref.Kind == tenancyv1alpha1.SharedSecret && generated[ref.Name]) {
			unavailable = append(unavailable, SharedKey(ref.Kind, ref.Name))
			continue
		}
		meta := objectMeta(t, ref.Name)
		meta.Labels[LabelComponent] = ComponentShared
		meta.Annotations = map[string]string{AnnotationSharedFrom: cfg.OperatorNamespace + "/" + ref.Name}
		var copied client.Object
		switch o := original.(type) {
		case *corev1.Secret:
			copied = &corev1.Secret{ObjectMeta: meta, Type: o.Type, Data: maps.Clone(o.Data)}
			if o.Type == corev1.SecretTypeDockerConfigJson {
				pullSecrets = append(pullSecrets, ref.Name)
			}
		case *corev1.ConfigMap:
			copied = &corev1.ConfigMap{ObjectMeta: meta, Data: maps.Clone(o.Data), BinaryData: maps.Clone(o.BinaryData)}
		default:
			unavailable = append(unavailable, SharedKey(ref.Kind, ref.Name))
			continue
		}
		d.Objects = append(d.Objects, Object{Area: AreaSecrets, Obj: copied})
	}
	if len(unavailable) > 0 {
		d.Refused = append(d.Refused, AreaProblem{AreaSecrets, Problem{tenancyv1alpha1.ReasonSharedObjectUnavailable, fmt.Sprintf(
			"Shared objects not copied: %s (each must exist in namespace %s, labelled %s=true, and a Secret must not be named "+
				"as one of the operator's own)", strings.Join(unavailable, ", "), cfg.OperatorNamespace, tenancyv1alpha1.LabelShareable)}})
	}
	return pullSecrets
}
