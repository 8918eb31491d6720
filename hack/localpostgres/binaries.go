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

package localpostgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// debianBinGlob is where Debian's postgresql-<version> packages put the server's programs.
const debianBinGlob = "/usr/lib/postgresql/*/bin/initdb"

// ErrNotInstalled is returned (wrapped) when PostgreSQL's server programs are missing and cannot be installed.
var ErrNotInstalled = errors.New("PostgreSQL server not installed")

// installMu serialises the look-up and install, so that parallel Starts run apt-get once.
var installMu sync.Mutex

// binDir returns the directory holding initdb and postgres: dir when set, else the highest Debian version installed,
// installing Debian's postgresql package first when none is and this process is root.
func binDir(ctx context.Context, dir string) (string, error) {
	if dir != "" {
		if err := checkBinDir(dir); err != nil {
			return "", err
		}
		return dir, nil
	}
	installMu.Lock()
	defer installMu.Unlock()
	if dir := highestDebianBinDir(); dir != "" {
		return dir, nil
	}
	howTo := "install Debian's postgresql package as root (apt-get install --no-install-recommends postgresql, " +
		"or hack/postgres-packages.sh), or set TEST_DATABASE=skip to skip the database tier"
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: no %s, and not root to install it: %s", ErrNotInstalled, debianBinGlob, howTo)
	}
	if err := install(ctx); err != nil {
		return "", fmt.Errorf("%w: no %s, and installing it failed: %w; %s", ErrNotInstalled, debianBinGlob, err, howTo)
	}
	if dir := highestDebianBinDir(); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("%w: still no %s after installing: %s", ErrNotInstalled, debianBinGlob, howTo)
}

func checkBinDir(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := exec.LookPath(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrNotInstalled, dir, err)
		}
	}
	return nil
}

// highestDebianBinDir returns the bin directory of the highest PostgreSQL version installed, or "" if none is.
func highestDebianBinDir() string {
	matches, _ := filepath.Glob(debianBinGlob)
	best, bestVersion := "", -1.0
	for _, initdb := range matches {
		dir := filepath.Dir(initdb)
		// Versions are "15" since PostgreSQL 10, "9.6" before: a float orders both.
		version, err := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		if err != nil || version <= bestVersion || checkBinDir(dir) != nil {
			continue
		}
		best, bestVersion = dir, version
	}
	return best
}

// install runs hack/postgres-packages.sh, which holds the package list and the apt-get invocation for the Makefile
// and for this package alike. The script is found next to this file's source, as tests run from the source tree.
func install(ctx context.Context) error {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("cannot locate hack/postgres-packages.sh: no source path")
	}
	script := filepath.Join(filepath.Dir(self), "..", "postgres-packages.sh")
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("locating the install script: %w", err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", script, err, strings.TrimSpace(tail(out.String(), 10)))
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
