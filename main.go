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

// Command manager runs the tenant-operator: it turns each Tenant into a locked-down namespace.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenant-operator/tenant-operator/controllers"
	"github.com/tenant-operator/tenant-operator/controllers/metricsauth"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// defaultOperatorNamespace is used when neither --operator-namespace nor POD_NAMESPACE says where we run.
const defaultOperatorNamespace = "tenant-operator-system"

type flags struct {
	metricsAddr             string
	secureMetrics           bool
	metricsCertDir          string
	enableHTTP2             bool
	probeAddr               string
	leaderElect             bool
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	operatorNamespace       string
	qps                     float64
	burst                   int
	maxConcurrentReconciles int
	classRolloutRate        float64
	classRolloutBurst       int
	auditInterval           time.Duration
	auditSink               bool
	pprofAddr               string
	operator                render.Config
	zap                     zap.Options
}

func parseFlags() flags {
	var f flags
	flag.StringVar(&f.metricsAddr, "metrics-bind-address", ":8443",
		"The address the metrics endpoint binds to (HTTPS by default). Use 0 to disable the metrics endpoint.")
	flag.BoolVar(&f.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS, authenticated and authorized against the Kubernetes API (TokenReview and "+
			"SubjectAccessReview). Turn off only behind a trusted proxy.")
	flag.StringVar(&f.metricsCertDir, "metrics-cert-dir", "",
		"Directory holding the metrics endpoint's serving certificate as tls.crt and tls.key (a mounted kubernetes.io/tls "+
			"Secret), reloaded when it changes. Empty: a self-signed certificate generated at start.")
	flag.BoolVar(&f.enableHTTP2, "enable-http2", false,
		"Serve metrics over HTTP/2. Off by default: HTTP/2 Rapid Reset and Stream Cancellation (CVE-2023-44487, CVE-2023-39325).")
	flag.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "The address the health and ready probes bind to.")
	flag.BoolVar(&f.leaderElect, "leader-elect", false,
		"Enable leader election, so that only one replica of the operator reconciles at a time.")
	// Longer than client-go's 15s/10s/2s: a leader that cannot renew for the renew deadline stops, so these ride out
	// an apiserver (or etcd) outage of up to 40 seconds without a restart, at the cost of a slower failover.
	flag.DurationVar(&f.leaseDuration, "leader-elect-lease-duration", 60*time.Second,
		"How long a standby waits, after the leader's last renewal, before it takes the lease.")
	flag.DurationVar(&f.renewDeadline, "leader-elect-renew-deadline", 40*time.Second,
		"How long the leader keeps trying to renew its lease before it stops leading (and exits).")
	flag.DurationVar(&f.retryPeriod, "leader-elect-retry-period", 5*time.Second,
		"How often the leader renews, and a standby tries to take, the lease.")
	flag.StringVar(&f.operatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", defaultOperatorNamespace),
		"The namespace the operator runs in: it holds the leader-election lease and the operator's CA, and no tenant may claim it.")
	f.operator = render.DefaultConfig()
	bindConfigFlags(&f.operator)
	flag.Float64Var(&f.qps, "kube-api-qps", 50, "Queries per second the operator may send to the Kubernetes API.")
	flag.IntVar(&f.burst, "kube-api-burst", 100, "Burst of queries the operator may send to the Kubernetes API.")
	flag.IntVar(&f.maxConcurrentReconciles, "max-concurrent-reconciles", 4, "How many Tenants are reconciled in parallel.")
	flag.Float64Var(&f.classRolloutRate, "class-rollout-rate", controllers.DefaultClassRolloutRate,
		"Tenants per second that move to a TenantClass's new generation when the class changes.")
	flag.IntVar(&f.classRolloutBurst, "class-rollout-burst", 5, "Tenants that move to a changed TenantClass at once, before the rate applies.")
	flag.DurationVar(&f.auditInterval, "audit-interval", 24*time.Hour,
		"How often each tenant's access is audited (who can do what, guardrails, rotations; status condition Audited); 0 disables it.")
	flag.BoolVar(&f.auditSink, "audit-sink", false,
		"Receive the apiserver's audit events (its audit webhook, batch mode) at "+controllers.AuditSinkPath+" on the metrics "+
			"endpoint, and count refused requests in tenant namespaces by tenant, user and refuser "+
			"(tenant_operator_denied_requests_total). Needs --metrics-secure: the apiserver's identity must be allowed to post there.")
	flag.StringVar(&f.pprofAddr, "pprof-bind-address", "",
		"The address Go's pprof profiles are served on, unauthenticated: bind it to localhost only. Empty disables it.")
	f.zap = zap.Options{Development: false}
	f.zap.BindFlags(flag.CommandLine)
	flag.Parse()
	return f
}

// bindConfigFlags exposes the tenant defaults and cluster facts a cluster admin sets.
func bindConfigFlags(c *render.Config) {
	resourceList := func(name, usage string, target *corev1.ResourceList) {
		flag.Func(name, usage+" (name=quantity,...: each overrides that key of the default "+formatResourceList(*target)+")", func(s string) error {
			l, err := render.OverrideResourceList(*target, s)
			if err == nil {
				*target = l
			}
			return err
		})
	}
	resourceList("default-quota", "Every tenant's ResourceQuota; a Tenant's spec.quota overrides it key by key", &c.DefaultQuota)
	resourceList("default-container-limits", "Limit given to tenant containers that set none", &c.DefaultLimits.Default)
	resourceList("default-container-requests", "Request given to tenant containers that set none", &c.DefaultLimits.DefaultRequest)
	resourceList("max-container-limits", "Most a tenant container may ask for", &c.DefaultLimits.Max)
	list := func(name, usage string, target *[]string) {
		flag.Func(name, usage+" (comma-separated; default "+strings.Join(*target, ",")+")", func(s string) error {
			*target = nil
			for _, v := range strings.Split(s, ",") {
				if v = strings.TrimSpace(v); v != "" {
					*target = append(*target, v)
				}
			}
			return nil
		})
	}
	list("ingress-namespaces", "Namespaces of the ingress controllers allowed to reach every tenant back-end; no tenant may claim them", &c.IngressNamespaces)
	list("reserved-namespaces", "Shared namespaces (monitoring, logging) no tenant may claim, besides the operator's, the ingress controllers' and the DNS namespace", &c.ReservedNamespaces)
	list("cluster-cidrs", "The cluster's pod, service and node CIDRs, excluded from tenants' egress", &c.ClusterCIDRs)
	list("extra-roles", "ClusterRoles Tenants may have bound in their namespace through spec.extraRoles; the operator needs bind on each", &c.ExtraRoles)
	list("monitoring-namespaces", "Namespaces of the metrics scrapers allowed to reach every tenant pod on --monitoring-ports; no tenant may claim them", &c.MonitoringNamespaces)
	flag.Func("monitoring-ports", "Ports the monitoring namespaces may reach on tenant pods: numbers, or container port names (comma-separated; default metrics)", func(s string) error {
		ports, err := render.ParsePorts(s)
		c.MonitoringPorts = ports
		return err
	})
	flag.StringVar(&c.DNSNamespace, "dns-namespace", c.DNSNamespace, "Namespace of the cluster DNS pods tenants may query; no tenant may claim it.")
	flag.Func("dns-pod-labels", "Labels of the cluster DNS pods tenants may query, key=value,... (default k8s-app=kube-dns; OpenShift DNS and NodeLocal DNSCache use others)", func(s string) error {
		labels, err := render.ParseLabels(s)
		c.DNSPodLabels = labels
		return err
	})
	flag.StringVar(&c.ClusterDomain, "cluster-domain", c.ClusterDomain, "The cluster's DNS domain, for back-end certificates.")
	flag.StringVar(&c.CASecretName, "ca-secret-name", c.CASecretName,
		"Secret (type kubernetes.io/tls, ECDSA key) in the operator's namespace holding the CA that signs back-end certificates; created at first start when absent.")
	flag.DurationVar(&c.CertificateLifetime, "certificate-lifetime", c.CertificateLifetime,
		"Lifetime of back-end certificates; they are renewed at two thirds of it.")
	flag.DurationVar(&c.EncryptionKeyRotationPeriod, "encryption-key-rotation", c.EncryptionKeyRotationPeriod,
		"How often a new data key is added to each tenant's encryption key ring (0: never).")
}

func formatResourceList(l corev1.ResourceList) string {
	parts := make([]string, 0, len(l))
	for name, q := range l {
		parts = append(parts, string(name)+"="+q.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func main() {
	gcPercent := setGCPercent()
	f := parseFlags()
	if f.pprofAddr == "" {
		// Nobody can read heap profiles: stop sampling allocations for them (their tables cost megabytes).
		runtime.MemProfileRate = 0
	}
	logger := zap.New(zap.UseFlagOptions(&f.zap))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	setupLog := ctrl.Log.WithName("setup")
	if gcPercent > 0 {
		setupLog.Info("Go garbage collection target set", "GOGC", gcPercent)
	}
	if limit := setMemoryLimit(); limit > 0 {
		setupLog.Info("Go memory limit set from the container's", "bytes", limit)
	}

	if err := run(f); err != nil {
		setupLog.Error(err, "Manager exited with an error")
		os.Exit(1)
	}
}

func run(f flags) error {
	setupLog := ctrl.Log.WithName("setup")
	setupLog.Info("Starting tenant-operator", "version", version, "operatorNamespace", f.operatorNamespace)

	if f.auditSink && (!f.secureMetrics || f.metricsAddr == "0") {
		// Whoever can post to the sink can make up refusals: it is served only behind the endpoint's authentication.
		return errors.New("--audit-sink needs the metrics endpoint with --metrics-secure")
	}
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	restConfig.QPS = float32(f.qps)
	restConfig.Burst = f.burst
	restConfig.UserAgent = "tenant-operator/" + version
	// Responses from the apiserver are not gzipped: inside a cluster, compression costs more CPU and memory (a
	// decompressor per watch) than it saves.
	restConfig.DisableCompression = true

	var tlsOpts []func(*tls.Config)
	if !f.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{
		// Uncompressed: a scrape of a thousand tenants is a few hundred kilobytes on the cluster network, and each
		// concurrent gzip writer would hold over a megabyte.
		HandlerOpts:   []func(*promhttp.HandlerOpts){func(o *promhttp.HandlerOpts) { o.DisableCompression = true }},
		BindAddress:   f.metricsAddr,
		SecureServing: f.secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if f.secureMetrics {
		metricsOpts.FilterProvider = metricsauth.Filter
	}
	if f.metricsCertDir != "" {
		// controller-runtime falls back to a self-signed certificate when the files are missing; a certificate that
		// was asked for and is not there is an error instead.
		for _, name := range []string{"tls.crt", "tls.key"} {
			if _, err := os.Stat(filepath.Join(f.metricsCertDir, name)); err != nil {
				return fmt.Errorf("the metrics serving certificate: %w", err)
			}
		}
		metricsOpts.CertDir = f.metricsCertDir
	}

	f.operator.OperatorNamespace = f.operatorNamespace
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        controllers.NewScheme(),
		Cache:                         controllers.CacheOptions(),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        f.probeAddr,
		LeaderElection:                f.leaderElect,
		LeaderElectionID:              "tenant-operator.tenant-operator.dev",
		LeaderElectionNamespace:       f.operatorNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &f.leaseDuration,
		RenewDeadline:                 &f.renewDeadline,
		RetryPeriod:                   &f.retryPeriod,
		PprofBindAddress:              f.pprofAddr,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	if err := controllers.SetupWithManager(mgr, controllers.Options{
		Config:                  f.operator,
		MaxConcurrentReconciles: f.maxConcurrentReconciles,
		ClassRolloutRate:        f.classRolloutRate,
		ClassRolloutBurst:       f.classRolloutBurst,
		AuditInterval:           f.auditInterval,
		AuditSink:               f.auditSink,
		Version:                 version,
	}); err != nil {
		return fmt.Errorf("setting up controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}

	setupLog.Info("Starting manager")
	return mgr.Start(ctrl.SetupSignalHandler())
}
