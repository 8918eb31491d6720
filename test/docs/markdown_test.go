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

package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// document is a Markdown file the project shows its users: README.md, and every .md under docs/.
type document struct {
	path   string // relative to the repository root
	text   string
	blocks []*block
	spans  []span
}

// block is a fenced code block.
type block struct {
	doc  string
	line int    // the opening fence's line, from 1
	info string // the first word of the fence's info string: sh, yaml, or empty
	body string
	mark marker
	// output is an unlabelled block right after a shell block, with only blank lines between: what the shell
	// block's last command prints.
	output *block
}

// marker is what an HTML comment right before a fence tells the test: <!-- test: skip: <reason> --> or
// <!-- test: cluster=<name> -->. GitHub renders neither.
type marker struct {
	skip    string
	cluster string
}

// span is a code span of the prose (`...`), which may run over a line break.
type span struct {
	doc  string
	line int
	text string
}

func (b *block) where() string { return fmt.Sprintf("%s:%d", b.doc, b.line) }
func (s span) where() string   { return fmt.Sprintf("%s:%d", s.doc, s.line) }

// shell says whether a fence holds commands to run.
func (b *block) shell() bool { return slices.Contains([]string{"sh", "bash", "shell"}, b.info) }

// loadDocuments reads README.md and docs/**/*.md.
func loadDocuments(root string) ([]*document, error) {
	paths := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			paths = append(paths, filepath.ToSlash(rel))
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var docs []*document
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		d, err := parseMarkdown(p, string(data))
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

var (
	fenceOpen = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})\\s*([^`]*)$")
	markerRe  = regexp.MustCompile(`^<!--\s*test:\s*(.*?)\s*-->$`)
)

// parseMarkdown finds the fenced blocks, their markers and outputs, and the code spans of the prose. It knows the
// Markdown the project writes (fences, paragraphs, tables, lists), not every corner of CommonMark.
func parseMarkdown(name, text string) (*document, error) {
	p := &mdParser{doc: &document{path: name, text: text}, lines: strings.Split(text, "\n")}
	for i := 0; i < len(p.lines); i++ {
		line := p.lines[i]
		trimmed := strings.TrimSpace(line)
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			end, err := p.fence(i, m[1], m[2])
			if err != nil {
				return nil, err
			}
			i = end
			continue
		}
		if trimmed == "" {
			p.flush()
			continue
		}
		if p.pending != nil {
			return nil, fmt.Errorf("%s:%d: the test marker is not right before a fence", name, p.pendingLine)
		}
		p.lastShell = nil
		if m := markerRe.FindStringSubmatch(trimmed); m != nil {
			p.flush()
			mk, err := parseMarker(m[1])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
			}
			p.pending, p.pendingLine = &mk, i+1
			continue
		}
		if strings.HasPrefix(trimmed, "<!--") { // another comment: not prose
			p.flush()
			for ; i < len(p.lines) && !strings.Contains(p.lines[i], "-->"); i++ {
			}
			continue
		}
		if len(p.para) == 0 {
			p.paraLine = i + 1
		}
		p.para = append(p.para, line)
	}
	p.flush()
	if p.pending != nil {
		return nil, fmt.Errorf("%s:%d: the test marker is not right before a fence", name, p.pendingLine)
	}
	return p.doc, nil
}

type mdParser struct {
	doc         *document
	lines       []string
	para        []string // the paragraph being read
	paraLine    int
	pending     *marker // a marker waiting for its fence
	pendingLine int
	lastShell   *block // the shell block that closed last, while only blank lines follow it
}

// flush ends a paragraph: its code spans are collected.
func (p *mdParser) flush() {
	if len(p.para) > 0 {
		p.doc.spans = append(p.doc.spans, codeSpans(p.doc.path, p.paraLine, strings.Join(p.para, "\n"))...)
	}
	p.para = nil
}

// fence reads the fenced block opening at line i, and returns the line of its closing fence.
func (p *mdParser) fence(i int, fence, info string) (int, error) {
	p.flush()
	b := &block{doc: p.doc.path, line: i + 1}
	if f := strings.Fields(info); len(f) > 0 {
		b.info = f[0]
	}
	end := i + 1
	for ; end < len(p.lines); end++ {
		if c := strings.TrimSpace(p.lines[end]); strings.HasPrefix(c, fence) && strings.Trim(c, fence[:1]) == "" {
			break
		}
	}
	if end == len(p.lines) {
		return 0, fmt.Errorf("%s:%d: unclosed fence", p.doc.path, i+1)
	}
	b.body = strings.Join(p.lines[i+1:end], "\n")
	if p.pending != nil {
		b.mark, p.pending = *p.pending, nil
	}
	if b.info == "" && p.lastShell != nil {
		p.lastShell.output = b
		p.lastShell = nil
		return end, nil
	}
	p.doc.blocks = append(p.doc.blocks, b)
	p.lastShell = nil
	if b.shell() {
		p.lastShell = b
	}
	return end, nil
}

func parseMarker(s string) (marker, error) {
	if reason, ok := strings.CutPrefix(s, "skip:"); ok {
		if strings.TrimSpace(reason) == "" {
			return marker{}, fmt.Errorf("test: skip: needs a reason")
		}
		return marker{skip: strings.TrimSpace(reason)}, nil
	}
	var m marker
	for _, f := range strings.Fields(s) {
		switch k, v, _ := strings.Cut(f, "="); k {
		case "cluster":
			m.cluster = v
		default:
			return marker{}, fmt.Errorf("unknown test marker %q (want 'skip: <reason>' or 'cluster=<name>')", f)
		}
	}
	return m, nil
}

// codeSpans finds the `code spans` of a paragraph; a span may run over a line break, which counts as a space.
func codeSpans(doc string, firstLine int, text string) []span {
	var out []span
	run := func(i int) int {
		n := 0
		for i+n < len(text) && text[i+n] == '`' {
			n++
		}
		return n
	}
	for i := 0; i < len(text); {
		if text[i] != '`' {
			i++
			continue
		}
		n := run(i)
		end := -1
		for j := i + n; j < len(text); {
			if text[j] != '`' {
				j++
				continue
			}
			if m := run(j); m == n {
				end = j
				break
			} else {
				j += m
			}
		}
		if end < 0 {
			i += n
			continue
		}
		content := strings.ReplaceAll(text[i+n:end], "\n", " ")
		if len(content) > 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.TrimSpace(content) != "" {
			content = content[1 : len(content)-1]
		}
		out = append(out, span{doc: doc, line: firstLine + strings.Count(text[:i], "\n"), text: content})
		i = end + n
	}
	return out
}

var envAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=\S*$`)

// programs are the commands a user types that the documents show; a code span starting with one of them (after
// VAR=value assignments) and holding at least one argument is a command.
var programs = []string{"kubectl", "helm", "kustomize", "make", "docker", "go", "git"}

// isCommand says whether a code span shows a command.
func isCommand(s string) bool {
	f := strings.Fields(s)
	for len(f) > 0 && envAssignment.MatchString(f[0]) {
		f = f[1:]
	}
	return len(f) >= 2 && (slices.Contains(programs, f[0]) || strings.HasPrefix(f[0], "bin/"))
}

// normalize is a command as the report and the tables show it: one line, single spaces.
func normalize(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\\\n", " ")), " ")
}

// shellLine is one command of a shell block, with its continuation lines.
type shellLine struct {
	line int
	raw  string // as the shell gets it
}

// commands splits a shell block into its commands: blank lines and comment lines are skipped, and a line ending in
// a backslash continues on the next.
func (b *block) commands() []shellLine {
	var out []shellLine
	var cur []string
	start := 0
	for i, l := range strings.Split(b.body, "\n") {
		t := strings.TrimSpace(l)
		if len(cur) == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if len(cur) == 0 {
			start = i
		}
		cur = append(cur, l)
		if strings.HasSuffix(l, "\\") {
			continue
		}
		out = append(out, shellLine{line: b.line + 1 + start, raw: strings.Join(cur, "\n")})
		cur = nil
	}
	if len(cur) > 0 {
		out = append(out, shellLine{line: b.line + 1 + start, raw: strings.Join(cur, "\n")})
	}
	return out
}

// placeholders are what the documents leave for the reader to fill in, and what the test fills in.
var placeholders = map[string]string{
	"<registry>": "registry.example",
	"<tag>":      "v0.0.0-docs",
	"<tenant>":   "globex",
}

var placeholderRe = regexp.MustCompile(`<[a-z][a-z-]*>`)

// substitute fills in the placeholders; one the test does not know fails.
func substitute(cmd string) (string, error) {
	for p, v := range placeholders {
		cmd = strings.ReplaceAll(cmd, p, v)
	}
	if p := placeholderRe.FindString(cmd); p != "" {
		return "", fmt.Errorf("unknown placeholder %s: give it a value in test/docs placeholders", p)
	}
	return cmd, nil
}

// tableColumn returns the first cells of every Markdown table whose header row starts with header ("| flag |").
func tableColumn(doc, header string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, header):
			in = true
		case in && strings.HasPrefix(t, "| ---"):
		case in && strings.HasPrefix(t, "|"):
			out = append(out, strings.TrimSpace(strings.Split(t, "|")[1]))
		default:
			in = false
		}
	}
	return out
}

// tableCell is a first cell of a table, and the document that shows it.
type tableCell struct {
	doc  string
	text string
}

// documentTable returns the first cells of every table of the documents (README.md, docs/) whose header row starts
// with header, wherever the table lives, and the documents that hold one.
func documentTable(header string) ([]tableCell, []string, error) {
	docs, err := loadDocuments(repoRoot)
	if err != nil {
		return nil, nil, err
	}
	var cells []tableCell
	var where []string
	for _, d := range docs {
		col := tableColumn(d.text, header)
		if len(col) == 0 {
			continue
		}
		where = append(where, d.path)
		for _, c := range col {
			cells = append(cells, tableCell{doc: d.path, text: c})
		}
	}
	return cells, where, nil
}

const sampleMarkdown = "# Title\n\nRun `kubectl get\ntenants` and `make`.\n\n" +
	"<!-- test: cluster=helm -->\n```sh\nkubectl create ns x\nhelm install a b \\\n  --set c=d\n# a comment\n```\n\n" +
	"```\nNAME   AGE\nx      1s\n```\n\n" +
	"<!-- test: skip: needs a registry -->\n```sh\ndocker push x\n```\n\n```yaml\na: b\n```\n"

func TestParseMarkdown(t *testing.T) {
	d, err := parseMarkdown("x.md", sampleMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.spans) != 2 || d.spans[0].text != "kubectl get tenants" || d.spans[0].line != 3 || d.spans[1].text != "make" {
		t.Errorf("spans: %+v", d.spans)
	}
	if len(d.blocks) != 3 {
		t.Fatalf("blocks: %+v", d.blocks)
	}
	first := d.blocks[0]
	if first.mark.cluster != "helm" || first.output == nil || !strings.HasPrefix(first.output.body, "NAME") {
		t.Errorf("first block: %+v", first)
	}
	cmds := first.commands()
	if len(cmds) != 2 || cmds[0].line != 8 || normalize(cmds[1].raw) != "helm install a b --set c=d" || cmds[1].line != 9 {
		t.Errorf("commands: %+v", cmds)
	}
	if d.blocks[1].mark.skip != "needs a registry" || d.blocks[2].info != "yaml" || d.blocks[2].shell() {
		t.Errorf("blocks: %+v %+v", d.blocks[1], d.blocks[2])
	}
	for _, bad := range []string{"<!-- test: skip: x -->\ntext\n", "<!-- test: cluster=a other -->\n```sh\nx\n```\n", "```sh\nx\n"} {
		if _, err := parseMarkdown("bad.md", bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestIsCommand(t *testing.T) {
	for s, want := range map[string]bool{
		"kubectl get tenants": true, "DEMO_EXIT=1 make demo": true, "bin/manager --help": true, "make": false,
		"bin/": false, "helm.sh/resource-policy: keep": false, "BENCH_ARGS=-report-only": false, "spec.quota": false,
	} {
		if isCommand(s) != want {
			t.Errorf("isCommand(%q) = %v", s, !want)
		}
	}
	if _, err := substitute("kubectl get events --field-selector involvedObject.name=<tenant> -o <format>"); err == nil {
		t.Error("an unknown placeholder was not reported")
	}
}

var (
	linkRe     = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	headingRe  = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	codeSpanRe = regexp.MustCompile("`+[^`]*`+")
	schemeRe   = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// proseLine is a line outside fenced blocks.
type proseLine struct {
	n    int // from 1
	text string
}

// prose is a document's lines outside fenced blocks, in order.
func prose(text string) []proseLine {
	var out []proseLine
	fence := ""
	for i, l := range strings.Split(text, "\n") {
		if fence != "" {
			if c := strings.TrimSpace(l); strings.HasPrefix(c, fence) && strings.Trim(c, fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if m := fenceOpen.FindStringSubmatch(l); m != nil {
			fence = m[1]
			continue
		}
		out = append(out, proseLine{n: i + 1, text: l})
	}
	return out
}

// anchors are the ids GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens, a
// repeated one suffixed -1, -2, ...
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range prose(text) {
		m := headingRe.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[2]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			out[fmt.Sprintf("%s-%d", id, n)] = true
		} else {
			out[id] = true
		}
		seen[id]++
	}
	return out
}

// TestDocumentLinks: every relative link of the documents leads to a file of the repository, and to a heading of
// it when it names one; README.md links to every page of docs/, and every page links back to it.
func TestDocumentLinks(t *testing.T) {
	docs, err := loadDocuments(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, d := range docs {
		texts[d.path] = d.text
	}
	linked := map[string]map[string]bool{} // document -> the documents it links to
	for _, d := range docs {
		linked[d.path] = map[string]bool{}
		for _, l := range prose(d.text) {
			for _, m := range linkRe.FindAllStringSubmatch(codeSpanRe.ReplaceAllString(l.text, ""), -1) {
				target := m[1]
				if schemeRe.MatchString(target) {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				path := d.path
				if file != "" {
					path = filepath.ToSlash(filepath.Join(filepath.Dir(d.path), file))
				}
				where := fmt.Sprintf("%s:%d", d.path, l.n)
				if strings.HasPrefix(path, "../") {
					t.Errorf("%s: %s leads out of the repository", where, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(path))); err != nil {
					t.Errorf("%s: %s: %v", where, target, err)
					continue
				}
				linked[d.path][path] = true
				if anchor == "" {
					continue
				}
				text, ok := texts[path]
				if !ok {
					t.Errorf("%s: %s names a heading of a file that is not a document", where, target)
				} else if !anchors(text)[anchor] {
					t.Errorf("%s: %s: %s has no heading #%s", where, target, path, anchor)
				}
			}
		}
	}
	for _, d := range docs {
		if d.path == "README.md" {
			continue
		}
		if !linked["README.md"][d.path] {
			t.Errorf("README.md does not link to %s", d.path)
		}
		if !linked[d.path]["README.md"] {
			t.Errorf("%s does not link back to README.md", d.path)
		}
	}
}

func TestAnchors(t *testing.T) {
	got := anchors("# tenant-operator\n\n## Guardrails, without webhooks\n\n```\n## not a heading\n```\n\n" +
		"### Encryption at rest on a real cluster\n\n## `make` targets\n\n## CI\n\n## CI\n")
	for _, want := range []string{"tenant-operator", "guardrails-without-webhooks", "encryption-at-rest-on-a-real-cluster",
		"make-targets", "ci", "ci-1"} {
		if !got[want] {
			t.Errorf("no anchor %s in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Errorf("a heading inside a fence: %v", got)
	}
}
