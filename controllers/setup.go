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
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// FieldOwner is the one field manager under which the operator applies everything it manages.
const FieldOwner = "tenant-operator"

// Options is what the operator's controllers are configured with; main.go fills it from flags.
type Options struct {
	// OperatorNamespace is where the operator runs; no tenant may claim it.
	OperatorNamespace string
	// MaxConcurrentReconciles is how many Tenants are reconciled in parallel.
	MaxConcurrentReconciles int
}

// NewScheme returns the scheme holding every type the operator reads or writes.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(tenancyv1alpha1.AddToScheme(s))
	return s
}

// SetupWithManager registers the operator's controllers with mgr. main.go and the envtest suite both call it, so
// the tests exercise the wiring that ships.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.OperatorNamespace == "" {
		return fmt.Errorf("operator namespace must be set")
	}
	r := &TenantReconciler{
		Client:  mgr.GetClient(),
		Options: opts,
	}
	return r.SetupWithManager(mgr)
}
