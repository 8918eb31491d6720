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

// Package dockerfile checks the operator's Dockerfile where no container engine runs: it parses the Dockerfile with
// BuildKit's own parser, lints it, and builds the manager the way `docker build` would, in an empty directory holding
// exactly the files the Dockerfile's COPY lines take from the build context (.dockerignore applied), with the
// Dockerfile's own RUN commands. A file the image build needs and the Dockerfile does not copy fails the build here
// as it would in Docker. `make docker-build-dry` runs it, and so does `make test`.
package dockerfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	Path string
	// Args are the ARGs declared before the first FROM, with their defaults: the only ones FROM lines may use.
	Args   map[string]string
	Stages []*Stage
	// Unknown lists instructions BuildKit's parser does not know (it ignores them, and so would Docker).
	Unknown []Instruction
	escape  rune
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	Index int
	// Name is the stage's AS name, empty when it has none.
	Name string
	// Base is the image (or earlier stage) after FROM, global ARGs expanded.
	Base         string
	Line         int
	Instructions []Instruction
}

// Instruction is one instruction of a stage.
type Instruction struct {
	// Command is the instruction in lower case: copy, run, workdir, ...
	Command string
	// Flags are the instruction's --flags (--from=builder).
	Flags []string
	// Args are its arguments: the words of a COPY or FROM, the one string of a shell-form RUN, the elements of an
	// exec-form (JSON) RUN or ENTRYPOINT.
	Args     []string
	JSON     bool
	Line     int
	Original string
}

// Flag returns the value of --name=value, and whether the instruction has it.
func (i Instruction) Flag(name string) (string, bool) {
	for _, f := range i.Flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
		if f == "--"+name {
			return "", true
		}
	}
	return "", false
}

// Parse reads and parses a Dockerfile.
func Parse(file string) (*Dockerfile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d := &Dockerfile{Path: file, Args: map[string]string{}, escape: res.EscapeToken}
	var stage *Stage
	for _, n := range res.AST.Children {
		inst := Instruction{
			Command:  strings.ToLower(n.Value),
			Flags:    n.Flags,
			JSON:     n.Attributes["json"],
			Line:     n.StartLine,
			Original: n.Original,
		}
		for next := n.Next; next != nil; next = next.Next {
			inst.Args = append(inst.Args, next.Value)
		}
		if _, known := command.Commands[inst.Command]; !known {
			d.Unknown = append(d.Unknown, inst)
			continue
		}
		switch {
		case inst.Command == command.From:
			if stage, err = d.newStage(inst); err != nil {
				return nil, err
			}
			d.Stages = append(d.Stages, stage)
		case stage == nil && inst.Command == command.Arg:
			for _, a := range inst.Args {
				name, value, _ := strings.Cut(a, "=")
				d.Args[name] = value
			}
		case stage == nil:
			return nil, fmt.Errorf("%s:%d: %s before the first FROM", file, inst.Line, inst.Original)
		default:
			stage.Instructions = append(stage.Instructions, inst)
		}
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", file)
	}
	return d, nil
}

func (d *Dockerfile) newStage(from Instruction) (*Stage, error) {
	s := &Stage{Index: len(d.Stages), Line: from.Line}
	args := from.Args
	if len(args) == 3 && strings.EqualFold(args[1], "as") {
		s.Name = strings.ToLower(args[2])
		args = args[:1]
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("%s:%d: cannot read %q", d.Path, from.Line, from.Original)
	}
	base, err := d.expand(args[0], d.Args)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", d.Path, from.Line, err)
	}
	s.Base = base
	return s, nil
}

// Final is the stage the image is: the last one.
func (d *Dockerfile) Final() *Stage { return d.Stages[len(d.Stages)-1] }

// Stage finds a stage by name or index, as COPY --from and FROM name it.
func (d *Dockerfile) Stage(ref string) *Stage {
	for _, s := range d.Stages {
		if s.Name != "" && s.Name == strings.ToLower(ref) || strconv.Itoa(s.Index) == ref {
			return s
		}
	}
	return nil
}

// Last returns the last instruction of a kind in the stage.
func (s *Stage) Last(cmd string) (Instruction, bool) {
	for i := len(s.Instructions) - 1; i >= 0; i-- {
		if s.Instructions[i].Command == cmd {
			return s.Instructions[i], true
		}
	}
	return Instruction{}, false
}

// User is the user the stage's processes run as: its last USER, empty for none (root).
func (s *Stage) User() string {
	if u, ok := s.Last(command.User); ok && len(u.Args) > 0 {
		return u.Args[0]
	}
	return ""
}

func (s *Stage) String() string {
	if s.Name != "" {
		return s.Name
	}
	return "stage " + strconv.Itoa(s.Index)
}

type envMap map[string]string

func (e envMap) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e envMap) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// expand substitutes ${VAR}, ${VAR:-default} and the like the way BuildKit does in FROM, COPY and WORKDIR.
func (d *Dockerfile) expand(word string, vars map[string]string) (string, error) {
	out, _, err := shell.NewLex(d.escape).ProcessWord(word, envMap(vars))
	return out, err
}

// Finding is a lint result.
type Finding struct {
	Line    int
	Rule    string
	Message string
}

func (f Finding) String() string { return fmt.Sprintf("line %d: %s: %s", f.Line, f.Rule, f.Message) }

// NonRootUser is the user the image runs as: distroless' nonroot, numeric so that the kubelet can check
// runAsNonRoot, which the operator's manifests set.
const NonRootUser = "65532"

var goTag = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// Lint checks what the image build must get right, whatever the code it builds:
//   - base-pinned: every base image names a tag or a digest, never latest (nor nothing, which means latest);
//   - go-version: a golang builder image is at least the go.mod's go version (goVersion, "1.26.0");
//   - no-add: no ADD (it fetches URLs and unpacks archives; COPY does neither);
//   - copy-from: COPY --from names an earlier stage;
//   - static-build: the go build runs with CGO_ENABLED=0 (the final image has no C library) and -trimpath;
//   - non-root: the final stage runs as numeric user 65532;
//   - entrypoint: the final stage has an exec-form ENTRYPOINT (no shell to run another form, and signals reach the
//     manager);
//   - no-run-in-final: the final stage runs nothing (distroless has no shell);
//   - unknown: no instruction Docker would ignore.
func Lint(d *Dockerfile, goVersion string) []Finding {
	var out []Finding
	add := func(line int, rule, format string, args ...any) {
		out = append(out, Finding{Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	for _, u := range d.Unknown {
		add(u.Line, "unknown", "unknown instruction %q", u.Original)
	}
	goBuilds := 0
	for _, s := range d.Stages {
		lintBase(d, s, goVersion, add)
		for _, inst := range s.Instructions {
			if lintInstruction(d, s, inst, add) {
				goBuilds++
			}
		}
	}
	if goBuilds == 0 {
		add(0, "static-build", "no RUN ... go build")
	}
	lintFinal(d.Final(), add)
	return out
}

var cgoOff = regexp.MustCompile(`(^|\s)CGO_ENABLED=0\s`)

// lintInstruction checks one instruction of any stage, and says whether it is a go build.
func lintInstruction(d *Dockerfile, s *Stage, inst Instruction, add func(int, string, string, ...any)) (goBuild bool) {
	switch inst.Command {
	case command.Add:
		add(inst.Line, "no-add", "ADD fetches URLs and unpacks archives: use COPY (%s)", inst.Original)
	case command.Copy:
		if from, ok := inst.Flag("from"); ok {
			if src := d.Stage(from); src == nil || src.Index >= s.Index {
				add(inst.Line, "copy-from", "COPY --from=%s names no earlier stage", from)
			}
		}
	case command.Run:
		cmd := strings.Join(inst.Args, " ")
		if !strings.Contains(cmd, "go build") {
			return false
		}
		if !cgoOff.MatchString(cmd) {
			add(inst.Line, "static-build", "go build without CGO_ENABLED=0: the binary may need a C library the final image lacks")
		}
		if !strings.Contains(cmd, "-trimpath") {
			add(inst.Line, "static-build", "go build without -trimpath: the binary would embed the builder's paths")
		}
		return true
	}
	return false
}

// lintFinal checks the stage the image is.
func lintFinal(final *Stage, add func(int, string, string, ...any)) {
	switch user, _, _ := strings.Cut(final.User(), ":"); {
	case final.User() == "":
		add(final.Line, "non-root", "the final stage has no USER: the image would run as root")
	case user != NonRootUser:
		add(final.Line, "non-root", "the final stage runs as %q, want numeric %s (distroless nonroot; runAsNonRoot needs a number)", final.User(), NonRootUser)
	case strings.Contains(final.User(), ":") && !strings.HasSuffix(final.User(), ":"+NonRootUser):
		add(final.Line, "non-root", "the final stage's group is not %s: %q", NonRootUser, final.User())
	}
	if ep, ok := final.Last(command.Entrypoint); !ok {
		add(final.Line, "entrypoint", "the final stage has no ENTRYPOINT")
	} else if !ep.JSON {
		add(ep.Line, "entrypoint", "ENTRYPOINT in shell form needs a shell the final image lacks, and keeps signals from the manager: use [\"/manager\"]")
	}
	for _, inst := range final.Instructions {
		if inst.Command == command.Run {
			add(inst.Line, "no-run-in-final", "RUN in the final stage: distroless has no shell")
		}
	}
}

func lintBase(d *Dockerfile, s *Stage, goVersion string, add func(int, string, string, ...any)) {
	if strings.EqualFold(s.Base, "scratch") {
		return
	}
	if src := d.Stage(s.Base); src != nil && src.Index < s.Index {
		return
	}
	name, digest, _ := strings.Cut(s.Base, "@")
	tag := ""
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	switch {
	case tag == "" && digest == "":
		add(s.Line, "base-pinned", "FROM %s names no tag or digest (it means latest)", s.Base)
	case tag == "latest":
		add(s.Line, "base-pinned", "FROM %s: latest moves; name a version or a digest", s.Base)
	}
	if path.Base(name) != "golang" || goVersion == "" {
		return
	}
	m, want := goTag.FindStringSubmatch(tag), goTag.FindStringSubmatch(goVersion)
	if m == nil || want == nil {
		add(s.Line, "go-version", "cannot read the Go version of FROM %s", s.Base)
		return
	}
	for i := 1; i <= 3; i++ {
		if m[i] == "" { // golang:1.26 is the newest 1.26.x: enough for any go 1.26.y
			return
		}
		have, _ := strconv.Atoi(m[i])
		need, _ := strconv.Atoi(want[i])
		if have != need {
			if have < need {
				add(s.Line, "go-version", "FROM %s is older than go.mod's go %s", s.Base, goVersion)
			}
			return
		}
	}
}

// GoVersion reads the go directive of a go.mod.
func GoVersion(goMod string) (string, error) {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no go directive", goMod)
}

// BuildOptions says how to build.
type BuildOptions struct {
	// Context is the build context's directory (the repository root, as `docker build .` has it).
	Context string
	// Dir is an empty directory; each stage's file system is made in a folder of it.
	Dir string
	// BuildArgs are --build-arg values.
	BuildArgs map[string]string
	// Log receives what the build does, line by line.
	Log func(format string, args ...any)
}

// Result is what a build produced.
type Result struct {
	// Context lists the files of the build context once .dockerignore is applied.
	Context []string
	// Copied lists the context files the COPY lines copied.
	Copied []string
	// Runs are the RUN commands run, as written.
	Runs []string
	// Binary is the final stage's ENTRYPOINT, in the final stage's file system.
	Binary     string
	Entrypoint []string
	User       string
}

// Build builds the stages the final stage needs from the build context, as `docker build` would, without a container
// engine: a stage's file system is a folder that starts empty (or as the copy of the stage it is FROM), COPY copies
// into it from the context (.dockerignore applied) or from another stage's folder, WORKDIR moves within it, and RUN
// runs the stage's go commands there with the host's Go (the golang image's job). A RUN of anything but go fails:
// the check would otherwise pass where Docker might not.
func Build(ctx context.Context, d *Dockerfile, opts BuildOptions) (*Result, error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	bctx, err := readContext(opts.Context)
	if err != nil {
		return nil, err
	}
	res := &Result{Context: bctx.files}
	b := &builder{d: d, opts: opts, bctx: bctx, res: res, roots: map[int]string{}, copied: map[string]bool{}}
	for _, s := range d.Stages {
		if !b.needed(d.Final())[s.Index] {
			continue
		}
		if err := b.stage(ctx, s); err != nil {
			return res, fmt.Errorf("%s:%d (%s): %w", filepath.Base(d.Path), b.line, s, err)
		}
	}
	for f := range b.copied {
		res.Copied = append(res.Copied, f)
	}
	sort.Strings(res.Copied)

	final := d.Final()
	res.User = final.User()
	ep, ok := final.Last(command.Entrypoint)
	if !ok || len(ep.Args) == 0 {
		return res, errors.New("the final stage has no ENTRYPOINT")
	}
	res.Entrypoint = ep.Args
	if !ep.JSON {
		return res, fmt.Errorf("shell-form ENTRYPOINT %q: the final image has no shell", ep.Original)
	}
	res.Binary = filepath.Join(b.roots[final.Index], filepath.FromSlash(ep.Args[0]))
	if fi, err := os.Stat(res.Binary); err != nil || fi.Mode()&0o111 == 0 {
		return res, fmt.Errorf("ENTRYPOINT %s: no executable in the final stage (%v)", ep.Args[0], err)
	}
	return res, nil
}

// buildContext is the build context as Docker sends it: every file .dockerignore does not exclude.
type buildContext struct {
	dir   string
	files []string // slash-separated, relative, sorted
	set   map[string]bool
}

func readContext(dir string) (*buildContext, error) {
	var patterns []string
	if f, err := os.Open(filepath.Join(dir, ".dockerignore")); err == nil {
		patterns, err = ignorefile.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf(".dockerignore: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	c := &buildContext{dir: dir, set: map[string]bool{}}
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if e.IsDir() {
			// An excluded directory is still walked when a later "!" pattern may take files of it back.
			if excluded && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if !excluded {
			c.files = append(c.files, rel)
			c.set[rel] = true
		}
		return nil
	})
	return c, err
}

type builder struct {
	d      *Dockerfile
	opts   BuildOptions
	bctx   *buildContext
	res    *Result
	roots  map[int]string
	copied map[string]bool
	line   int
}

// needed returns the stages a stage depends on, itself included: BuildKit builds only those.
func (b *builder) needed(s *Stage) map[int]bool {
	out := map[int]bool{s.Index: true}
	deps := []*Stage{}
	if base := b.d.Stage(s.Base); base != nil && base.Index < s.Index {
		deps = append(deps, base)
	}
	for _, inst := range s.Instructions {
		if from, ok := inst.Flag("from"); ok && inst.Command == command.Copy {
			if src := b.d.Stage(from); src != nil && src.Index < s.Index {
				deps = append(deps, src)
			}
		}
	}
	for _, dep := range deps {
		for i := range b.needed(dep) {
			out[i] = true
		}
	}
	return out
}

// stage builds one stage into its folder.
func (b *builder) stage(ctx context.Context, s *Stage) error {
	root := filepath.Join(b.opts.Dir, fmt.Sprintf("stage-%d", s.Index))
	b.roots[s.Index] = root
	b.line = s.Line
	if base := b.d.Stage(s.Base); base != nil && base.Index < s.Index {
		if err := copyTree(b.roots[base.Index], root); err != nil {
			return err
		}
	} else if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	b.opts.Log("%s: FROM %s (not pulled: the stage starts empty, and RUN go uses this machine's Go)", s, s.Base)
	st := &stageState{workdir: "/", vars: map[string]string{}}
	for _, inst := range s.Instructions {
		b.line = inst.Line
		var err error
		switch inst.Command {
		case command.Arg:
			err = b.arg(st, inst)
		case command.Env:
			// The parser gives ENV's arguments as triples: name, value, separator.
			for i := 0; err == nil && i+1 < len(inst.Args); i += 3 {
				st.vars[inst.Args[i]], err = b.d.expand(inst.Args[i+1], st.vars)
			}
		case command.Workdir:
			err = b.workdir(root, st, inst)
		case command.Copy:
			err = b.copy(root, st.workdir, st.vars, inst)
		case command.Run:
			err = b.run(ctx, inRoot(root, st.workdir), st.vars, inst)
		case command.Add:
			err = fmt.Errorf("ADD is not supported (and not allowed: see Lint): %s", inst.Original)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// stageState is where a stage's build stands: its working directory, and its ARGs and ENVs.
type stageState struct {
	workdir string
	vars    map[string]string
}

// arg is ARG: a --build-arg wins, then the ARG's own default, then the global ARG's, then BuildKit's platform ARGs.
func (b *builder) arg(st *stageState, inst Instruction) error {
	for _, a := range inst.Args {
		name, def, hasDefault := strings.Cut(a, "=")
		v, ok := b.opts.BuildArgs[name]
		if !ok && hasDefault {
			var err error
			if v, err = b.d.expand(def, st.vars); err != nil {
				return err
			}
			ok = true
		}
		if !ok {
			v, ok = b.d.Args[name]
		}
		if !ok {
			v, ok = platformArgs()[name]
		}
		if ok {
			st.vars[name] = v
		}
	}
	return nil
}

func (b *builder) workdir(root string, st *stageState, inst Instruction) error {
	w, err := b.d.expand(inst.Args[0], st.vars)
	if err != nil {
		return err
	}
	if !path.IsAbs(w) {
		w = path.Join(st.workdir, w)
	}
	st.workdir = path.Clean(w)
	return os.MkdirAll(inRoot(root, st.workdir), 0o755)
}

// platformArgs are the ARGs BuildKit sets for the target platform: a Linux image for this machine's architecture.
func platformArgs() map[string]string {
	return map[string]string{
		"TARGETOS": "linux", "TARGETARCH": runtime.GOARCH, "TARGETPLATFORM": "linux/" + runtime.GOARCH,
		"BUILDOS": "linux", "BUILDARCH": runtime.GOARCH, "BUILDPLATFORM": "linux/" + runtime.GOARCH,
	}
}

func inRoot(root, p string) string { return filepath.Join(root, filepath.FromSlash(path.Clean("/"+p))) }

var wildcard = regexp.MustCompile(`[*?\[]`)

// copy is COPY [--from=stage] src... dest.
func (b *builder) copy(root, workdir string, vars map[string]string, inst Instruction) error {
	for _, f := range inst.Flags {
		name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if !slices.Contains([]string{"from", "chown", "chmod", "link"}, name) {
			return fmt.Errorf("COPY %s is not supported by this check", f)
		}
	}
	if len(inst.Args) < 2 {
		return fmt.Errorf("COPY needs a source and a destination: %s", inst.Original)
	}
	words := make([]string, len(inst.Args))
	for i, a := range inst.Args {
		w, err := b.d.expand(a, vars)
		if err != nil {
			return err
		}
		words[i] = w
	}
	srcs, dest := words[:len(words)-1], words[len(words)-1]
	destDir := strings.HasSuffix(dest, "/") || dest == "." || len(srcs) > 1
	if !path.IsAbs(dest) {
		dest = path.Join(workdir, dest)
	}
	from, fromStage := inst.Flag("from")
	for _, src := range srcs {
		var files map[string]string // source file -> path relative to dest (or "" for dest itself)
		var err error
		if fromStage {
			st := b.d.Stage(from)
			if st == nil {
				return fmt.Errorf("COPY --from=%s: no such stage (images cannot be pulled here)", from)
			}
			files, err = stageFiles(b.roots[st.Index], src)
		} else {
			files, err = b.contextFiles(src)
		}
		if err != nil {
			return err
		}
		for file, rel := range files {
			target := dest
			switch {
			case rel != "":
				target = path.Join(dest, rel)
			case destDir:
				target = path.Join(dest, path.Base(filepath.ToSlash(file)))
			}
			if err := copyFile(file, inRoot(root, target)); err != nil {
				return err
			}
			if !fromStage {
				rel, _ := filepath.Rel(b.bctx.dir, file)
				b.copied[filepath.ToSlash(rel)] = true
			}
		}
		b.opts.Log("COPY %s -> %s: %d file(s)", src, dest, len(files))
	}
	return nil
}

// contextFiles resolves a COPY source in the build context: a file, a directory (its contents) or a pattern. A
// source of which .dockerignore left nothing fails, as it does in Docker.
func (b *builder) contextFiles(src string) (map[string]string, error) {
	src = path.Clean(strings.TrimPrefix(src, "/"))
	out := map[string]string{}
	if wildcard.MatchString(src) {
		dirs := map[string]bool{}
		for _, f := range b.bctx.files {
			for d := path.Dir(f); d != "."; d = path.Dir(d) {
				dirs[d] = true
			}
		}
		for _, f := range b.bctx.files {
			if ok, _ := path.Match(src, f); ok {
				out[filepath.Join(b.bctx.dir, f)] = ""
			}
		}
		for d := range dirs {
			if ok, _ := path.Match(src, d); ok {
				for _, f := range b.bctx.files {
					if rel, ok := strings.CutPrefix(f, d+"/"); ok {
						out[filepath.Join(b.bctx.dir, f)] = path.Join(path.Base(d), rel)
					}
				}
			}
		}
	} else {
		for _, f := range b.bctx.files {
			switch {
			case f == src:
				out[filepath.Join(b.bctx.dir, f)] = ""
			case src == ".":
				out[filepath.Join(b.bctx.dir, f)] = f
			case strings.HasPrefix(f, src+"/"):
				out[filepath.Join(b.bctx.dir, f)] = strings.TrimPrefix(f, src+"/")
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("COPY %s: not found in the build context (after .dockerignore)", src)
	}
	return out, nil
}

// stageFiles resolves a COPY --from source in another stage's folder.
func stageFiles(root, src string) (map[string]string, error) {
	p := inRoot(root, src)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("COPY --from: %s not found in the stage: %w", src, err)
	}
	out := map[string]string{}
	if !fi.IsDir() {
		out[p] = ""
		return out, nil
	}
	err = filepath.WalkDir(p, func(f string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(p, f)
		out[f] = filepath.ToSlash(rel)
		return err
	})
	return out, err
}

var envAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// run is RUN: only go commands, run by sh as the golang image's shell would.
func (b *builder) run(ctx context.Context, dir string, vars map[string]string, inst Instruction) error {
	var cmd *exec.Cmd
	if inst.JSON {
		if len(inst.Args) == 0 || inst.Args[0] != "go" {
			return fmt.Errorf("RUN %s: only go commands can run without a container engine", inst.Original)
		}
		cmd = exec.CommandContext(ctx, "go", inst.Args[1:]...)
	} else {
		script := strings.Join(inst.Args, " ")
		words := strings.Fields(script)
		for len(words) > 0 && envAssignment.MatchString(words[0]) {
			words = words[1:]
		}
		if len(words) == 0 || words[0] != "go" || strings.ContainsAny(script, ";&|`") {
			return fmt.Errorf("RUN %s: only a single go command can run without a container engine", inst.Original)
		}
		cmd = exec.CommandContext(ctx, "sh", "-c", script)
	}
	cmd.Dir = dir
	cmd.Env = goEnv()
	for _, k := range envMap(vars).Keys() {
		cmd.Env = append(cmd.Env, k+"="+vars[k])
	}
	b.opts.Log("RUN %s", strings.Join(inst.Args, " "))
	out, err := cmd.CombinedOutput()
	b.res.Runs = append(b.res.Runs, strings.Join(inst.Args, " "))
	if err != nil {
		return fmt.Errorf("RUN %s: %w\n%s", strings.Join(inst.Args, " "), err, out)
	}
	return nil
}

// goEnv is the environment of a RUN: the golang image's, which sets no GOFLAGS, CGO_ENABLED, GOOS or GOARCH, with the
// host's Go caches and proxy settings, so nothing is downloaded twice.
func goEnv() []string {
	env := []string{"GOTOOLCHAIN=local"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOSUMDB", "GONOSUMDB",
		"GOPRIVATE", "GONOPROXY", "GOINSECURE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}
