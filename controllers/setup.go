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
	"crypto/rand"
	"io"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/auditsink"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/controllers/pki"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// caLabels are the labels of the CA Secret the operator creates.
var caLabels = map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelComponent: "ca"}

// Options is what the operator's controllers are configured with; main.go fills it from flags.
// DefaultClassRolloutRate paces class roll-outs to a tenant per second: a class change can restart every back-end
// of the class (placement, runtime class), and a mistake in it is seen on the first tenants before it reaches all.
const DefaultClassRolloutRate = 1.0

// AuditSinkPath is where the metrics endpoint receives the apiserver's audit events (Options.AuditSink); the
// apiserver's identity needs the nonResourceURL's post verb.
const AuditSinkPath = "/audit-events"

type Options struct {
	render.Config
	// MaxConcurrentReconciles is how many Tenants are reconciled in parallel.
	MaxConcurrentReconciles int
	// ClassRolloutRate is how many tenants per second move to a TenantClass's new generation (DefaultClassRolloutRate
	// when 0), after a first ClassRolloutBurst at once.
	ClassRolloutRate  float64
	ClassRolloutBurst int
	// AuditInterval is how often each tenant's access is audited; 0 never.
	AuditInterval time.Duration
	// AuditSink serves AuditSinkPath on the metrics endpoint (behind its authentication and authorization): the
	// apiserver's audit webhook, whose refused requests in tenant namespaces tenant_operator_denied_requests_total
	// counts by tenant, user and refuser.
	AuditSink bool
	// Version is the operator's, for tenant_operator_build_info ("dev" when empty).
	Version string
	// Clock and Rand default to the real ones; tests inject theirs.
	Clock func() time.Time
	Rand  io.Reader
	// Databases provisions tenants' databases; one of its own by default (it connects to no server until a Tenant
	// asks for a database).
	Databases *database.Provisioner
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
	if err := opts.Validate(); err != nil {
		return err
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ClassRolloutRate <= 0 {
		opts.ClassRolloutRate = DefaultClassRolloutRate
	}
	opts.ClassRolloutBurst = max(opts.ClassRolloutBurst, 1)
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	recordBuildInfo(opts.Version)
	if opts.Databases == nil {
		opts.Databases = database.NewProvisioner(rand.Reader)
		opts.Databases.OnStatement = func(server string) { databaseStatements.WithLabelValues(server).Inc() }
	}
	// Every write of the operator's, not only its applies, is recorded under its one field manager: what it wrote
	// can be told from what anyone else did.
	writer := client.WithFieldOwner(mgr.GetClient(), FieldOwner)
	shared, err := newSharedCache(mgr, opts.OperatorNamespace)
	if err != nil {
		return err
	}
	if err := mgr.Add(shared); err != nil {
		return err
	}
	r := &TenantReconciler{
		Client:    writer,
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("tenant-operator"),
		Config:    opts.Config,
		CA: &pki.CAProvider{
			Reader: mgr.GetAPIReader(), Writer: writer, Namespace: opts.OperatorNamespace, Name: opts.CASecretName,
			Labels:        caLabels,
			ClusterDomain: opts.ClusterDomain, Clock: opts.Clock, Rand: opts.Rand,
		},
		Clock:                   opts.Clock,
		Rand:                    opts.Rand,
		Databases:               opts.Databases,
		Shared:                  shared,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		AuditInterval:           opts.AuditInterval,
		ClassRollout:            rate.NewLimiter(rate.Limit(opts.ClassRolloutRate), opts.ClassRolloutBurst),
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	retention := &RetentionReconciler{
		Client: writer, APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("tenant-operator"),
		Clock: opts.Clock, Databases: opts.Databases, OperatorNamespace: opts.OperatorNamespace,
	}
	if err := retention.SetupWithManager(mgr); err != nil {
		return err
	}
	if opts.AuditSink {
		sink := &auditsink.Handler{Namespaces: mgr.GetClient(), Counter: deniedRequestsCounter{}}
		if err := mgr.AddMetricsServerExtraHandler(AuditSinkPath, sink); err != nil {
			return err
		}
	}
	classes := &TenantClassReconciler{Client: writer, Recorder: mgr.GetEventRecorder("tenant-operator")}
	if err := classes.SetupWithManager(mgr); err != nil {
		return err
	}
	// The CA exists from the operator's first start (on the leader), so an admin can distribute its ca.crt before
	// any tenant has a back-end. Failures are retried; reconciles load it on demand anyway.
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		_ = wait.PollUntilContextCancel(ctx, 5*time.Second, true, func(ctx context.Context) (bool, error) {
			if _, err := r.CA.Get(ctx); err != nil {
				logf.FromContext(ctx).Error(err, "Loading the operator's CA; retrying")
				return false, nil
			}
			return true, nil
		})
		return nil
	}))
}
