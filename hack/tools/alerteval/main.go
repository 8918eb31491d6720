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

// Command alerteval evaluates Prometheus alerting rules, with Prometheus's own rule engine, over metrics scraped from
// a real run, so a test can show which alerts a Prometheus scraping those targets would fire. It reads a JSON input
// on stdin:
//
//	{"rules": "<rule file>", "interval": "30s", "hold": "20m",
//	 "scrapes": [{"time": "<RFC 3339>", "target": {"job": "..."}, "text": "<Prometheus text exposition>"}]}
//
// Each target is scraped every interval from the first scrape on, serving its latest real scrape, the last one for
// hold more (a run that has ended leaves its metrics standing). Series gone from a scrape get staleness markers and
// each scrape gets up{<target>}=1, as Prometheus's scrape loop writes them. The rules
// are evaluated every interval from the first scrape to the end of the hold, with their for: durations on that
// clock. It writes the alerts that fired, each once with its first firing, as JSON on stdout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

type input struct {
	Rules    string         `json:"rules"`
	Interval model.Duration `json:"interval"`
	Hold     model.Duration `json:"hold"`
	Scrapes  []scrape       `json:"scrapes"`
}

type scrape struct {
	Time   time.Time         `json:"time"`
	Target map[string]string `json:"target"`
	Text   string            `json:"text"`
}

// Alert is one alert that fired: its labels and annotations as Prometheus sends them to Alertmanager.
type Alert struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Value       float64           `json:"value"`
	ActiveAt    time.Time         `json:"activeAt"`
	FiredAt     time.Time         `json:"firedAt"`
}

type output struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Alerts []Alert   `json:"alerts"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "alerteval:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	var req input
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	interval, hold := time.Duration(req.Interval), time.Duration(req.Hold)
	if interval <= 0 || len(req.Scrapes) == 0 {
		return errors.New("the input needs an interval and at least one scrape")
	}
	logger := promslog.NewNopLogger()
	alerting, err := loadAlertingRules(req.Rules, logger)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "alerteval-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := tsdb.Open(dir, logger, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	from, to, err := store(db, req.Scrapes, interval, hold)
	if err != nil {
		return err
	}

	engine := promql.NewEngine(promql.EngineOpts{Logger: logger, MaxSamples: 50_000_000, Timeout: time.Minute})
	query := rules.EngineQueryFunc(engine, db)
	fired := map[string]Alert{}
	ctx := context.Background()
	for ts := from; !ts.After(to); ts = ts.Add(interval) {
		for _, r := range alerting {
			if _, err := r.Eval(ctx, 0, ts, query, nil, 0); err != nil {
				return fmt.Errorf("evaluating %s at %s: %w", r.Name(), ts.Format(time.RFC3339), err)
			}
			for _, a := range r.ActiveAlerts() {
				key := r.Name() + a.Labels.String()
				if _, seen := fired[key]; a.State == rules.StateFiring && !seen {
					fired[key] = Alert{Name: r.Name(), Labels: a.Labels.Map(), Annotations: a.Annotations.Map(),
						Value: a.Value, ActiveAt: a.ActiveAt.UTC(), FiredAt: a.FiredAt.UTC()}
				}
			}
		}
	}
	res := output{From: from.UTC(), To: to.UTC(), Alerts: []Alert{}}
	for _, a := range fired {
		res.Alerts = append(res.Alerts, a)
	}
	sort.Slice(res.Alerts, func(i, j int) bool {
		return res.Alerts[i].FiredAt.Before(res.Alerts[j].FiredAt) ||
			res.Alerts[i].FiredAt.Equal(res.Alerts[j].FiredAt) && fmt.Sprint(res.Alerts[i]) < fmt.Sprint(res.Alerts[j])
	})
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// loadAlertingRules parses a rule file as Prometheus does (unknown fields and invalid expressions are errors) and
// builds its alerting rules; recording rules are refused, as nothing here would store their results.
func loadAlertingRules(file string, logger *slog.Logger) ([]*rules.AlertingRule, error) {
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, p, logger)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var alerting []*rules.AlertingRule
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				return nil, fmt.Errorf("group %s: recording rule %s: only alerting rules are evaluated", g.Name, r.Record)
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				return nil, fmt.Errorf("alert %s: %w", r.Alert, err)
			}
			alerting = append(alerting, rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
				rules.FromMaps(g.Labels, r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true, logger))
		}
	}
	if len(alerting) == 0 {
		return nil, fmt.Errorf("%s has no alerting rules", file)
	}
	return alerting, nil
}

// store writes what a scrape loop with the given interval would have written: from the first scrape on, every
// interval, each target serves its latest real scrape, the last one for hold more. It returns the span written.
func store(db *tsdb.DB, scrapes []scrape, interval, hold time.Duration) (from, to time.Time, err error) {
	byTarget := map[string][]scrape{}
	for _, s := range scrapes {
		key := labels.FromMap(s.Target).String()
		byTarget[key] = append(byTarget[key], s)
		if from.IsZero() || s.Time.Before(from) {
			from = s.Time
		}
		if end := s.Time.Add(hold); end.After(to) {
			to = end
		}
	}
	previous := map[string]map[string]seriesValue{}
	parsed := map[*scrape]map[string]seriesValue{}
	app := db.Appender(context.Background())
	for ts := from; !ts.After(to); ts = ts.Add(interval) {
		for key, ss := range byTarget {
			latest := -1
			for i, s := range ss {
				if !s.Time.After(ts) && (latest < 0 || s.Time.After(ss[latest].Time)) {
					latest = i
				}
			}
			if latest < 0 {
				continue
			}
			series, ok := parsed[&ss[latest]]
			if !ok {
				if series, err = parse(ss[latest]); err != nil {
					_ = app.Rollback()
					return from, to, err
				}
				parsed[&ss[latest]] = series
			}
			if err := appendScrape(app, ts.UnixMilli(), series, previous[key]); err != nil {
				_ = app.Rollback()
				return from, to, err
			}
			previous[key] = series
		}
	}
	return from, to, app.Commit()
}

// appendScrape writes one scrape's samples at t, and staleness markers for the series the previous one had.
func appendScrape(app storage.Appender, t int64, series, previous map[string]seriesValue) error {
	for key, sv := range previous {
		if _, still := series[key]; !still {
			if _, err := app.Append(0, sv.labels, t, math.Float64frombits(value.StaleNaN)); err != nil {
				return err
			}
		}
	}
	for _, sv := range series {
		if _, err := app.Append(0, sv.labels, t, sv.v); err != nil {
			return fmt.Errorf("storing %s: %w", sv.labels, err)
		}
	}
	return nil
}

type seriesValue struct {
	labels labels.Labels
	v      float64
}

// parse reads a scrape's text exposition into its series, with the target's labels added and up=1.
func parse(s scrape) (map[string]seriesValue, error) {
	p := textparse.NewPromParser([]byte(s.Text), labels.NewSymbolTable(), false)
	series := map[string]seriesValue{}
	add := func(lset labels.Labels, v float64) {
		b := labels.NewBuilder(lset)
		for k, val := range s.Target {
			// As Prometheus does (honor_labels false): a scraped label the target sets too is kept as exported_<name>.
			if scraped := lset.Get(k); scraped != "" {
				b.Set("exported_"+k, scraped)
			}
			b.Set(k, val)
		}
		lset = b.Labels()
		series[lset.String()] = seriesValue{labels: lset, v: v}
	}
	add(labels.FromStrings(model.MetricNameLabel, "up"), 1)
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return series, nil
		}
		if err != nil {
			return nil, fmt.Errorf("scrape of %v at %s: %w", s.Target, s.Time.Format(time.RFC3339), err)
		}
		if entry != textparse.EntrySeries {
			continue
		}
		_, _, v := p.Series()
		var lset labels.Labels
		p.Labels(&lset)
		add(lset, v)
	}
}
