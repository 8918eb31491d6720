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
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// reaperScript reads "watch PID", "cleanup SCRIPT" and "remove DIR" lines on stdin. When stdin closes without a final
// "disarm" line (the caller died or its cleanup failed), it kills the process group of every PID it was given
// (SIGTERM, then SIGKILL), runs the cleanup scripts (a node's: its containers, mounts, bridge, iptables rules) and
// removes the directory. It ignores
// the terminal's signals so that a Ctrl-C which kills the caller cannot kill the reaper too.
const reaperScript = `trap '' INT TERM HUP QUIT
pids=""
dir=""
cleanups=""
armed=1
while read -r cmd arg; do
  case "$cmd" in
    watch) pids="$pids $arg" ;;
    remove) dir="$arg" ;;
    cleanup) cleanups="$cleanups $arg" ;;
    disarm) armed=0 ;;
  esac
done
[ "$armed" = 1 ] || exit 0
for p in $pids; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
sleep 5
for p in $pids; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; done
for s in $cleanups; do /bin/sh "$s" >/dev/null 2>&1; done
[ -z "$dir" ] || rm -rf -- "$dir"
exit 0
`

// reaper is a tiny shell process that outlives the caller only to kill what the caller started. Linux's
// parent-death signal cannot be set on the processes envtest starts, and a killed process runs no cleanup, so the
// reaper learns of the caller's death from the end of its stdin pipe, which the kernel closes whatever the death.
type reaper struct {
	mu    sync.Mutex
	stdin io.WriteCloser
	cmd   *exec.Cmd
	pids  []int
}

func startReaper() (*reaper, error) {
	cmd := exec.Command("/bin/sh", "-c", reaperScript)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	claimedMu.Lock()
	claimed[cmd.Process.Pid] = true
	claimedMu.Unlock()
	return &reaper{stdin: stdin, cmd: cmd}, nil
}

// claimed holds every pid a reaper of this process watches, so that two clusters in one process never watch (and
// kill) each other's processes. startMu serialises the start of clusters' children for the same reason.
var (
	claimedMu sync.Mutex
	claimed   = map[int]bool{}
	startMu   sync.Mutex
)

func (r *reaper) watch(pid int) error {
	claimedMu.Lock()
	defer claimedMu.Unlock()
	return r.watchLocked(pid)
}

func (r *reaper) watchLocked(pid int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := fmt.Fprintf(r.stdin, "watch %d\n", pid); err != nil {
		return fmt.Errorf("registering pid %d with the reaper: %w", pid, err)
	}
	claimed[pid] = true
	r.pids = append(r.pids, pid)
	return nil
}

// removeOnDeath has the reaper remove dir (the cluster's temporary work directory) after killing the processes.
func (r *reaper) removeOnDeath(dir string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := fmt.Fprintf(r.stdin, "remove %s\n", dir)
	return err
}

// cleanupOnDeath has the reaper run script (with /bin/sh) after killing the processes, before removing the directory.
func (r *reaper) cleanupOnDeath(script string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := fmt.Fprintf(r.stdin, "cleanup %s\n", script)
	return err
}

// watchChildren registers every live child of this process that no reaper watches yet, except reapers themselves.
func (r *reaper) watchChildren() error {
	pids, err := childPIDs(os.Getpid())
	if err != nil {
		return err
	}
	claimedMu.Lock()
	defer claimedMu.Unlock()
	for _, pid := range pids {
		if claimed[pid] {
			continue
		}
		if err := r.watchLocked(pid); err != nil {
			return err
		}
	}
	return nil
}

// watchChildrenUntilStopped registers new children every interval until the returned function is called, which
// registers them a last time and returns the first error met.
func (r *reaper) watchChildrenUntilStopped(interval time.Duration) func() error {
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			if err := r.watchChildren(); err != nil {
				done <- err
				return
			}
			select {
			case <-stop:
				done <- r.watchChildren()
				return
			case <-ticker.C:
			}
		}
	}()
	return func() error {
		close(stop)
		return <-done
	}
}

// close ends the reaper: disarmed, it exits quietly; armed, it kills everything it watches.
func (r *reaper) close(disarm bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if disarm {
		_, _ = io.WriteString(r.stdin, "disarm\n")
	}
	_ = r.stdin.Close()
	if disarm {
		return r.cmd.Wait()
	}
	// Armed, the reaper takes a few seconds to kill the rest; it need not hold up the caller.
	go func() { _ = r.cmd.Wait() }()
	return nil
}

// childPIDs lists the processes whose parent is ppid and that lead a process group of their own (as envtest's
// long-running etcd and kube-apiserver do; its short-lived "--help" probes do not), from /proc.
func childPIDs(ppid int) ([]int, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited meanwhile
		}
		// The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) < 3 {
			continue
		}
		// fields[1] is the parent's pid, fields[2] the process group's id.
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if parent, _ := strconv.Atoi(fields[1]); parent == ppid && fields[2] == strconv.Itoa(pid) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func envtestUser(name string) envtest.User {
	return envtest.User{Name: name, Groups: []string{"system:masters"}}
}
