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

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/database"
	"github.com/tenant-operator/tenant-operator/hack/localpostgres"
)

// databaseModels are measured in this order, each with its own tenants.
var databaseModels = []tenancyv1alpha1.DatabaseModel{
	tenancyv1alpha1.DatabaseModelSharedSchema, tenancyv1alpha1.DatabaseModelSchemaPerTenant, tenancyv1alpha1.DatabaseModelDatabasePerTenant,
}

// measureDatabase provisions o.databaseTenants tenants of each database model with the operator's binary against a
// real PostgreSQL server (hack/localpostgres), and reports per model the time from creation to DatabaseReady and the
// statements run per tenant (tenant_operator_database_statements_total), the peak of the operator's connections to
// the server throughout, and the statements a restart of the operator runs (every tenant read again: none).
func measureDatabase(ctx context.Context, root string, o options, r *report) error {
	if os.Getenv("TEST_DATABASE") == "skip" {
		r.Database.Skipped = "TEST_DATABASE=skip"
	}
	if r.Database.Skipped != "" || o.databaseTenants == 0 {
		logf("database: skipped (%s)", r.Database.Skipped)
		return nil
	}
	pg, err := localpostgres.Start(ctx, localpostgres.Options{MaxConnections: 200})
	if err != nil {
		return err
	}
	defer func() { _ = pg.Stop() }()
	cluster, err := startCluster(ctx, root)
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()
	b := &bench{o: o, cluster: cluster, binary: o.manager}
	if b.k8s, err = benchClient(cluster); err != nil {
		return err
	}
	if err := b.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-operator-system", Name: "database-main", Labels: map[string]string{database.LabelServer: "main"}},
		StringData: map[string]string{database.KeyHost: pg.Host, database.KeyPort: strconv.Itoa(pg.Port),
			database.KeyUsername: pg.AdminUser, database.KeyPassword: pg.AdminPassword, database.KeyCACert: string(pg.CACertPEM)},
	}); err != nil {
		return err
	}
	if err := b.start(ctx); err != nil {
		return err
	}
	peak, stopSampling, err := sampleConnections(ctx, pg)
	if err != nil {
		return err
	}
	defer stopSampling()
	for _, model := range databaseModels {
		figures, err := b.databaseModel(ctx, model, o.databaseTenants)
		if err != nil {
			return err
		}
		r.Database.Models = append(r.Database.Models, figures)
	}
	// Every tenant read again by a new operator: only the catalog, no statement.
	if err := b.operator.Stop(); err != nil {
		return err
	}
	if err := b.startOperator(ctx); err != nil {
		return err
	}
	if err := b.waitIdle(ctx, o.databaseTenants*len(databaseModels)); err != nil {
		return err
	}
	if r.Database.StatementsAfterRestart, err = b.databaseStatements(ctx); err != nil {
		return err
	}
	r.Database.PeakConnections = int(peak.Load())
	return nil
}

// sampleConnections counts the operator's connections to the server every 20 ms, keeping the peak, until stopped.
func sampleConnections(ctx context.Context, pg *localpostgres.Server) (peak *atomic.Int64, stop func(), err error) {
	admin, err := pg.Connect(ctx, pg.AdminUser, pg.AdminPassword, "postgres")
	if err != nil {
		return nil, nil, err
	}
	peak = &atomic.Int64{}
	sampling, cancel := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampling.Err() == nil {
			var n int64
			if err := admin.QueryRow(sampling, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tenant-operator'").Scan(&n); err == nil && n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return peak, func() {
		cancel()
		<-sampled
		_ = admin.Close(context.Background())
	}, nil
}

// databaseModel creates n tenants of model at once and times them to DatabaseReady, counting the statements run.
func (b *bench) databaseModel(ctx context.Context, model tenancyv1alpha1.DatabaseModel, n int) (databaseFigures, error) {
	before, err := b.databaseStatements(ctx)
	if err != nil {
		return databaseFigures{}, err
	}
	logf("database: %d %s tenants", n, model)
	start := time.Now()
	prefix := "db-" + strings.ToLower(string(model)) + "-"
	if err := parallel(ctx, n, b.o.workers, func(ctx context.Context, i int) error {
		return b.k8s.Create(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: prefix + strconv.Itoa(i)}, Spec: tenancyv1alpha1.TenantSpec{
			Owners:   []tenancyv1alpha1.Subject{{Kind: "Group", Name: prefix + strconv.Itoa(i) + "-admins"}},
			Database: &tenancyv1alpha1.DatabaseSpec{Server: "main", Model: model},
		}})
	}); err != nil {
		return databaseFigures{}, err
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
		return b.databaseReady(prefix) == n, nil
	}); err != nil {
		return databaseFigures{}, fmt.Errorf("waiting for %d %s tenants to be DatabaseReady: %w", n, model, err)
	}
	seconds := time.Since(start).Seconds()
	after, err := b.databaseStatements(ctx)
	if err != nil {
		return databaseFigures{}, err
	}
	return databaseFigures{Model: string(model), Tenants: n, Seconds: seconds, StatementsPerTenant: (after - before) / float64(n)}, nil
}

// databaseStatements is the operator's count of statements run on database servers.
func (b *bench) databaseStatements(ctx context.Context) (float64, error) {
	m, err := b.operator.Scrape(ctx, b.token)
	if err != nil {
		return 0, err
	}
	return m.Sum("tenant_operator_database_statements_total"), nil
}

// databaseReady counts the Tenants named with prefix whose database is ready for their current spec.
func (b *bench) databaseReady(prefix string) int {
	var list tenancyv1alpha1.TenantList
	if err := b.tenants.List(context.Background(), &list); err != nil {
		return 0
	}
	n := 0
	for _, t := range list.Items {
		if strings.HasPrefix(t.Name, prefix) && t.Status.ObservedGeneration == t.Generation &&
			meta.IsStatusConditionTrue(t.Status.Conditions, tenancyv1alpha1.ConditionDatabaseReady) {
			n++
		}
	}
	return n
}
