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

package localcluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Metrics is the Prometheus text the operator's metrics endpoint serves.
type Metrics string

// ScrapeMetrics GETs the operator's /metrics with a bearer token (none when empty), returning the status code and,
// on 200, the metrics.
func (o *Operator) ScrapeMetrics(ctx context.Context, token string) (int, Metrics, error) {
	code, body, err := o.MetricsRequest(ctx, http.MethodGet, "/metrics", token, nil)
	if err != nil || code != http.StatusOK {
		return code, "", err
	}
	return code, Metrics(body), nil
}

// MetricsRequest sends a request to a path of the operator's metrics endpoint (/metrics, /audit-events) with a bearer
// token (none when empty), and returns the status code and the body.
func (o *Operator) MetricsRequest(ctx context.Context, method, path, token string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, o.MetricsURL+path, body)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := MetricsClient()
	if o.MetricsTLS != nil {
		client.Transport.(*http.Transport).TLSClientConfig = o.MetricsTLS
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// Scrape returns the operator's metrics, or an error unless the endpoint answered 200.
func (o *Operator) Scrape(ctx context.Context, token string) (Metrics, error) {
	code, m, err := o.ScrapeMetrics(ctx, token)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("scraping metrics: status %d", code)
	}
	return m, err
}

// Has reports whether the metrics describe a metric family.
func (m Metrics) Has(name string) bool {
	return strings.Contains(string(m), "\n# TYPE "+name+" ")
}

// Sum adds the samples of a metric that carry all the given labels (name="value").
func (m Metrics) Sum(name string, labels ...string) float64 {
	total := 0.0
lines:
	for _, line := range strings.Split(string(m), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64); err == nil {
			total += v
		}
	}
	return total
}

// MetricsReaderToken creates the ServiceAccount default/<name>, binds it to clusterRole (an install's
// metrics-reader) and returns a token for it: a scraper's credentials.
func (c *Cluster) MetricsReaderToken(ctx context.Context, name, clusterRole string) (string, error) {
	manifest := fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: %[1]s, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %[1]s-metrics-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %[2]s}
subjects: [{kind: ServiceAccount, name: %[1]s, namespace: default}]
`, name, clusterRole)
	if _, err := c.Kubectl(ctx, []byte(manifest), "apply", "--server-side", "-f", "-"); err != nil {
		return "", err
	}
	cfg, err := c.ServiceAccountConfig(ctx, "default", name)
	if err != nil {
		return "", err
	}
	return cfg.BearerToken, nil
}
