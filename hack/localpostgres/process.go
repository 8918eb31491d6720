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
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a child process in a process group of its own, killed by the kernel when this process dies.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the child has exited and been reaped
	err  error         // the child's exit error, once done is closed
}

// startProcess starts cmd with a parent-death signal (SIGKILL) and in a process group of its own, so that a terminal's
// Ctrl-C reaches the test binary only and Stop decides how the server ends. cred, when not nil, is the user to run as.
func startProcess(cmd *exec.Cmd, cred *syscall.Credential) (*process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The kernel sends the parent-death signal when the thread that forked the child ends, not the process
		// (go.dev/issue/27505), and Go ends a thread whose goroutine exits locked to it. Forking from a thread held
		// for exactly the child's lifetime ties the signal to the death of the process alone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// pid is the child's process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the child to exit, and kills its process group when ctx ends first.
func (p *process) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.kill()
		return ctx.Err()
	}
}

// stop sends sig to the child and waits grace for it to exit, then kills it and every child it has left.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// kill sends SIGKILL to the child, its process group and its children, and waits for it to exit. PostgreSQL's
// backends each lead a session of their own, so the group alone would miss them; they are listed before the
// postmaster dies, while they are still its children.
func (p *process) kill() {
	children := childPIDs(p.pid())
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	for _, pid := range children {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-p.done
}

// childPIDs lists the processes whose parent is ppid, from /proc.
func childPIDs(ppid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited meanwhile
		}
		// The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		if parent, _ := strconv.Atoi(fields[1]); parent == ppid {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// reaperScript removes the directory given as $1 once its stdin closes without a "disarm" line: when this process has
// died (the kernel closes the pipe whatever the death) or its Stop failed. The parent-death signal has killed the
// postmaster by then, and its backends exit on noticing; the pause lets them go before the files do. It ignores the
// terminal's signals so that a Ctrl-C which kills the test binary cannot kill the reaper too.
const reaperScript = `trap '' INT TERM HUP QUIT
read -r cmd || cmd=""
[ "$cmd" = disarm ] && exit 0
sleep 1
rm -rf -- "$1"
`

// reaper is a tiny shell process that outlives the test binary only to remove the server's directory.
type reaper struct {
	stdin io.WriteCloser
	cmd   *exec.Cmd
}

func startReaper(dir string) (*reaper, error) {
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "localpostgres-reaper", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("creating the reaper's pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	return &reaper{stdin: stdin, cmd: cmd}, nil
}

// close ends the reaper: disarmed, it exits and leaves the directory alone; armed, it removes the directory.
func (r *reaper) close(disarm bool) error {
	if disarm {
		_, _ = io.WriteString(r.stdin, "disarm\n")
	}
	_ = r.stdin.Close()
	if err := r.cmd.Wait(); err != nil {
		return fmt.Errorf("waiting for the reaper: %w", err)
	}
	return nil
}
