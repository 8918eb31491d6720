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
	"fmt"
	"io"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// kindOf names an object's kind for events, logs and metrics.
func kindOf(obj client.Object) string {
	return reflect.TypeOf(obj).Elem().Name()
}

func objectRef(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// newObjectLike returns an empty object of the same type as obj.
func newObjectLike(obj client.Object) (client.Object, error) {
	out, ok := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not a client.Object", obj)
	}
	return out, nil
}

// prunableList is one kind the operator may prune, listed by label.
type prunableList struct {
	kind       string
	namespaced bool
	list       client.ObjectList
	items      func() []client.Object
}

// prunableLists are the kinds that may stop being desired. The namespace never does while the Tenant exists.
func prunableLists() []prunableList {
	var (
		nps  networkingv1.NetworkPolicyList
		rbs  rbacv1.RoleBindingList
		crs  rbacv1.ClusterRoleList
		crbs rbacv1.ClusterRoleBindingList
		sas  corev1.ServiceAccountList
		secs corev1.SecretList
		deps appsv1.DeploymentList
		svcs corev1.ServiceList
		pdbs policyv1.PodDisruptionBudgetList
	)
	return []prunableList{
		{"NetworkPolicy", true, &nps, func() []client.Object { return ptrs(nps.Items) }},
		{"RoleBinding", true, &rbs, func() []client.Object { return ptrs(rbs.Items) }},
		{kindClusterRole, false, &crs, func() []client.Object { return ptrs(crs.Items) }},
		{"ClusterRoleBinding", false, &crbs, func() []client.Object { return ptrs(crbs.Items) }},
		{"ServiceAccount", true, &sas, func() []client.Object { return ptrs(sas.Items) }},
		{"Secret", true, &secs, func() []client.Object { return ptrs(secs.Items) }},
		{"Deployment", true, &deps, func() []client.Object { return ptrs(deps.Items) }},
		{"Service", true, &svcs, func() []client.Object { return ptrs(svcs.Items) }},
		{"PodDisruptionBudget", true, &pdbs, func() []client.Object { return ptrs(pdbs.Items) }},
	}
}

// ptrs returns pointers to a list's items as client.Objects.
func ptrs[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}

// eventRecorder is the part of the events API the reconciler uses.
type eventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

var _ eventRecorder = events.EventRecorder(nil)

// event records an Event on the Tenant. Messages never hold secret values: they name objects only.
func (r *TenantReconciler) event(t *tenancyv1alpha1.Tenant, eventType, reason, action, message string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(t, nil, eventType, reason, action, "%s", message)
	}
}

// CAProvider loads the operator's CA from its Secret, creating the Secret at first use unless the admin supplied one,
// and keeps it in memory.
type CAProvider struct {
	Reader    client.Reader
	Writer    client.Client
	Namespace string
	Name      string
	Clock     func() time.Time
	Rand      io.Reader

	mu sync.Mutex
	ca *CA
}

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create

// Get returns the CA.
func (p *CAProvider) Get(ctx context.Context) (*CA, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ca != nil {
		return p.ca, nil
	}
	secret := &corev1.Secret{}
	err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, secret)
	if apierrors.IsNotFound(err) {
		ca, err := NewCA(p.Clock(), p.Rand)
		if err != nil {
			return nil, err
		}
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: map[string]string{
				LabelManagedBy: ManagedByValue, LabelComponent: "ca",
			}},
			Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: ca.CertPEM, corev1.TLSPrivateKeyKey: ca.KeyPEM},
		}
		switch err := p.Writer.Create(ctx, secret); {
		case err == nil:
			p.ca = ca
			return ca, nil
		case !apierrors.IsAlreadyExists(err):
			return nil, fmt.Errorf("creating CA secret %s/%s: %w", p.Namespace, p.Name, err)
		}
		// Another replica created it first: use theirs.
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, secret); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	ca, err := ParseCA(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("CA secret %s/%s: %w", p.Namespace, p.Name, err)
	}
	p.ca = ca
	return ca, nil
}
