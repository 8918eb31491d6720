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

package dockerfile

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository's root: this package's directory is test/dockerfile.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDockerfileLint: the Dockerfile passes every rule of Lint.
func TestDockerfileLint(t *testing.T) {
	root := repoRoot(t)
	d, err := Parse(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion, err := GoVersion(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Stages {
		t.Logf("%s: FROM %s, %d instructions, user %q", s, s.Base, len(s.Instructions), s.User())
	}
	for _, f := range Lint(d, goVersion) {
		t.Errorf("Dockerfile %s", f)
	}
}

// TestLintRules: each rule finds what it is for, and nothing in a Dockerfile that gets everything right.
func TestLintRules(t *testing.T) {
	const good = `FROM golang:1.26 AS builder
WORKDIR /workspace
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o manager .
FROM gcr.io/distroless/static:nonroot
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
`
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{name: "good"},
		{name: "no tag", old: "distroless/static:nonroot", new: "distroless/static", want: []string{"base-pinned"}},
		{name: "latest", old: "golang:1.26", new: "golang:latest", want: []string{"base-pinned", "go-version"}},
		{name: "digest", old: "distroless/static:nonroot", new: "distroless/static@sha256:" + strings.Repeat("a", 64)},
		{name: "old go", old: "golang:1.26", new: "golang:1.25.3", want: []string{"go-version"}},
		{name: "newer go", old: "golang:1.26", new: "golang:1.27-bookworm"},
		{name: "ADD", old: "COPY . .", new: "ADD https://example.com/src.tar.gz .", want: []string{"no-add"}},
		{name: "cgo", old: "CGO_ENABLED=0 ", new: "", want: []string{"static-build"}},
		{name: "no trimpath", old: "-trimpath ", new: "", want: []string{"static-build"}},
		{name: "root", old: "USER 65532:65532", new: "USER root", want: []string{"non-root"}},
		{name: "no user", old: "USER 65532:65532\n", new: "", want: []string{"non-root"}},
		{name: "named user", old: "USER 65532:65532", new: "USER nonroot:nonroot", want: []string{"non-root"}},
		{name: "shell entrypoint", old: `ENTRYPOINT ["/manager"]`, new: "ENTRYPOINT /manager", want: []string{"entrypoint"}},
		{name: "run in final", old: "USER 65532", new: "RUN chmod +x /manager\nUSER 65532", want: []string{"no-run-in-final"}},
		{name: "copy from unknown stage", old: "--from=builder", new: "--from=build", want: []string{"copy-from"}},
		{name: "unknown instruction", old: "WORKDIR /workspace", new: "WORKDIR /workspace\nCOPPY . .", want: []string{"unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(good, tc.old, tc.new, 1)
			path := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := Parse(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range Lint(d, "1.26.0") {
				got = append(got, f.Rule)
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v: %v", got, tc.want, Lint(d, "1.26.0"))
			}
		})
	}
}

// TestDockerfileBuild builds the manager the way `docker build` does, from exactly what the Dockerfile's COPY lines
// take from the build context, and checks the result is the image the README promises: a static binary, run as
// 65532, built from the module's Go sources and nothing else, with the Makefile's flags.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the manager")
	}
	root := repoRoot(t)
	d, err := Parse(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"VERSION": buildVersion()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := Build(ctx, d, BuildOptions{Context: root, Dir: t.TempDir(), BuildArgs: args, Log: t.Logf})
	if err != nil {
		t.Fatalf("the Dockerfile does not build from its context: %v", err)
	}
	t.Logf("build context after .dockerignore: %d files; copied into the builder: %d files", len(res.Context), len(res.Copied))
	t.Logf("image: ENTRYPOINT %v, USER %s, binary %s", res.Entrypoint, res.User, res.Binary)

	if res.User != NonRootUser+":"+NonRootUser {
		t.Errorf("the image runs as %q", res.User)
	}
	checkStatic(t, res.Binary)
	out, err := exec.Command(res.Binary, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-leader-elect") {
		t.Errorf("%s --help: %v\n%s", res.Binary, err, out)
	}
	t.Run("context is the Go sources", func(t *testing.T) { checkCopied(t, root, res.Copied) })
	t.Run("same binary as make build", func(t *testing.T) { checkSameBuild(t, root, args["VERSION"], res.Binary) })
}

// TestBuildCatchesMissingSources: the check fails on the Dockerfile issue 18 was filed about, which named the files
// it copied and missed one; a build that passed there would prove nothing.
func TestBuildCatchesMissingSources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the manager")
	}
	root := repoRoot(t)
	d, err := Parse(filepath.Join("testdata", "Dockerfile.issue-18"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err = Build(ctx, d, BuildOptions{Context: root, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "undefined:") {
		t.Fatalf("building from the files the old Dockerfile copied: want a compile error (undefined: ...), got %v", err)
	}
	t.Logf("as expected, the old Dockerfile does not build: %s", firstLines(err.Error(), 4))
}

// buildVersion is the VERSION build argument: $DOCKER_BUILD_VERSION (make docker-build-dry passes the Makefile's
// VERSION, as make docker-build does), else the Dockerfile's default.
func buildVersion() string {
	if v := os.Getenv("DOCKER_BUILD_VERSION"); v != "" {
		return v
	}
	return "dev"
}

// checkStatic: the final image (distroless/static) has no dynamic loader or C library.
func checkStatic(t *testing.T, binary string) {
	t.Helper()
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked: distroless/static cannot run it", binary)
		}
	}
}

// checkCopied: the builder got the Go files of every package of the module the binary is built from, go.mod and
// go.sum, and nothing else (no tests, tools, manifests or docs: they would only bust Docker's cache).
func checkCopied(t *testing.T, root string, copied []string) {
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Module,GoFiles,EmbedFiles", ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	want := map[string]bool{"go.mod": true, "go.sum": true}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			Dir                 string
			Module              *struct{ Main bool }
			GoFiles, EmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			rel, err := filepath.Rel(root, filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			want[filepath.ToSlash(rel)] = true
		}
	}
	for f := range want {
		if !slices.Contains(copied, f) {
			t.Errorf("the binary needs %s, which the Dockerfile does not copy", f)
		}
	}
	for _, f := range copied {
		if !want[f] && !strings.HasSuffix(f, ".go") {
			t.Errorf("the Dockerfile copies %s, which the binary does not need: leave it out in .dockerignore", f)
		}
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "test/") || strings.HasPrefix(f, "hack/") {
			t.Errorf("the Dockerfile copies %s: tests and tools have no place in the image build", f)
		}
	}
}

// checkSameBuild: the image's binary is the one make build makes, byte for byte, when both have the same VERSION:
// the same flags, dependencies and Go, so what the tests run is what the image ships. The image's build context
// has no .git, so make build runs without VCS stamping here.
func checkSameBuild(t *testing.T, root, version, binary string) {
	made := filepath.Join(t.TempDir(), "manager")
	cmd := exec.Command("make", "-s", "MANAGER="+made, "VERSION="+version, made)
	cmd.Dir = root
	cmd.Env = append(cleanEnv(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	a, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(made)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Logf("the image's binary and make build's are identical (%d bytes)", len(a))
		return
	}
	t.Errorf("the image's binary differs from make build's (%d and %d bytes)", len(a), len(b))
	ia, errA := buildinfo.ReadFile(binary)
	ib, errB := buildinfo.ReadFile(made)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if ia.String() != ib.String() {
		t.Errorf("build info, image:\n%s\nmake build:\n%s", ia, ib)
	}
}

// cleanEnv is the environment without what an enclosing make or the caller's GOFLAGS would add.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GOFLAGS":
		default:
			env = append(env, kv)
		}
	}
	return env
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
