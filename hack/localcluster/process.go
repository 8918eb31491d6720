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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a child process in a process group of its own, stopped with SIGTERM and, after a grace period,
// SIGKILL to the whole group.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProcess starts path with args, its output appended to logPath, and registers it with the cluster's reaper.
// Stop stops it, before the cluster's own processes.
func (c *Cluster) StartProcess(name, path, logPath string, env []string, args ...string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	startMu.Lock() // see startAPIServer: no other cluster may claim this child before our reaper does
	defer startMu.Unlock()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	if err := c.Watch(cmd.Process.Pid); err != nil {
		return nil, errors.Join(err, p.Stop())
	}
	c.processes = append(c.processes, p)
	return p, nil
}

// Pid is the process' id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// ExitError is the error the process exited with (nil for exit code 0); call it after Exited is closed.
func (p *Process) ExitError() error { return p.err }

// Signal sends sig to the process (not its group).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop terminates the process group gracefully, then forcibly after 15 seconds. Stopping an exited process is a no-op.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	return nil
}

// controllerManager runs kube-controller-manager against the cluster as a system:masters user.
type controllerManager struct {
	path        string
	controllers []string
	proc        *Process
}

func (m *controllerManager) name() string { return "kube-controller-manager" }

func (m *controllerManager) start(ctx context.Context, c *Cluster) error {
	user, err := c.env.AddUser(envtestUser("system:kube-controller-manager"), nil)
	if err != nil {
		return err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfigPath := filepath.Join(c.WorkDir, "kube-controller-manager.kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}
	api := c.env.ControlPlane.GetAPIServer()
	caPath := filepath.Join(c.WorkDir, "ca.crt")
	if err := os.WriteFile(caPath, api.CA, 0o600); err != nil {
		return err
	}
	m.proc, err = c.StartProcess(m.name(), m.path, filepath.Join(c.WorkDir, m.name()+".log"), nil,
		"--kubeconfig="+kubeconfigPath,
		"--authentication-kubeconfig="+kubeconfigPath,
		"--authorization-kubeconfig="+kubeconfigPath,
		"--leader-elect=false",
		// No serving port: parallel clusters never clash, and nothing here scrapes it.
		"--secure-port=0",
		"--controllers="+strings.Join(m.controllers, ","),
		"--service-account-private-key-file="+filepath.Join(api.CertDir, "sa-signer.key"),
		"--root-ca-file="+caPath,
		"--use-service-account-credentials=false",
		"--kube-api-qps=200", "--kube-api-burst=400",
	)
	if err != nil {
		return err
	}
	if err := waitForServiceAccount(ctx, c.Config); err != nil {
		return fmt.Errorf("waiting for its controllers (see %s.log in %s): %w", m.name(), c.WorkDir, err)
	}
	return nil
}

func (m *controllerManager) stop() error {
	if m.proc == nil {
		return nil
	}
	return m.proc.Stop()
}
