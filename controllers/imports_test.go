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
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPackagesImportOnlyWhatTheirDocSays holds the packages below controllers/ to the imports their doc.go allows:
// the domain (render, status) knows no client-go, cache or server-side apply; the machinery (ssa, pki, metricsauth)
// knows nothing of the domain; none imports the reconciler. The standard library is always allowed.
func TestPackagesImportOnlyWhatTheirDocSays(t *testing.T) {
	const module = "github.com/tenant-operator/tenant-operator/"
	kube := []string{"k8s.io/api/", "k8s.io/apimachinery/", "k8s.io/utils/"}
	allowed := map[string][]string{
		"render": append(kube, "sigs.k8s.io/controller-runtime/pkg/client", module+"api/", module+"controllers/pki"),
		"status": append(kube, module+"api/", module+"controllers/render"),
		"ssa": append(kube, "k8s.io/client-go/applyconfigurations", "k8s.io/client-go/kubernetes/scheme",
			"sigs.k8s.io/controller-runtime/pkg/client", "sigs.k8s.io/structured-merge-diff/"),
		"slimcache": append(kube, "k8s.io/client-go/tools/cache", "sigs.k8s.io/controller-runtime/pkg/client", module+"api/",
			module+"controllers/render", module+"controllers/ssa", module+"controllers/status"),
		"pki":      append(kube, "sigs.k8s.io/controller-runtime/pkg/client"),
		"database": append(kube, "github.com/jackc/pgx/v5", module+"api/", module+"controllers/render"),
		"audit":    append(kube, module+"api/", module+"controllers/render"),
		"accessreview": append(kube, "sigs.k8s.io/controller-runtime/pkg/client", module+"api/", module+"controllers/audit",
			module+"controllers/render"),
		"auditsink": append(kube, "k8s.io/apiserver/pkg/apis/audit/v1", "sigs.k8s.io/controller-runtime/pkg/client",
			module+"controllers/render"),
		"metricsauth": append(kube, "github.com/go-logr/logr", "k8s.io/client-go/kubernetes/typed/", "k8s.io/client-go/rest", "sigs.k8s.io/controller-runtime/pkg/metrics/server"),
	}
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "testdata" {
			continue
		}
		rules, ok := allowed[d.Name()]
		if !ok {
			t.Errorf("package %s has no import rules here: add them, with its doc.go", d.Name())
			continue
		}
		if _, err := os.Stat(filepath.Join(d.Name(), "doc.go")); err != nil {
			t.Errorf("package %s has no doc.go", d.Name())
		}
		files, _ := filepath.Glob(filepath.Join(d.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if !importAllowed(path, rules) {
					t.Errorf("%s imports %s, which package %s may not", f, path, d.Name())
				}
			}
		}
	}
	// The rule itself: the reconciler is never allowed, the standard library always is.
	if importAllowed(module+"controllers", allowed["render"]) || !importAllowed("crypto/x509", nil) {
		t.Error("importAllowed misjudges")
	}
}

func importAllowed(path string, prefixes []string) bool {
	if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
		return true // the standard library
	}
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}
