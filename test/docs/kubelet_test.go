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
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/render"
	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// kubelet stands in for the node the local control plane lacks, for Deployments, the only workloads the README's
// commands create. A tenant's back-end (labelled with its tenant) is reported available once the operator created
// it. Any other Deployment is the operator's own: its pod is the manager binary, run as a local process with the
// Deployment's ServiceAccount, arguments and environment (one process however many replicas: leader election makes
// one active anyway), and the Deployment is reported available once that process is ready.
type kubelet struct {
	cluster *localcluster.Cluster
	k8s     client.Client
	binary  string
	cancel  context.CancelFunc
	done    chan struct{}

	mu        sync.Mutex
	operators map[string]*runningOperator
	// noOperators is set once the session stops the operators (make run replaces them).
	noOperators bool
	err         error
}

type runningOperator struct {
	op         *localcluster.Operator // nil when it failed to start
	err        error
	generation int64
	image      string
}

func startKubelet(ctx context.Context, cluster *localcluster.Cluster, k8s client.Client, binary string) *kubelet {
	ctx, cancel := context.WithCancel(ctx)
	k := &kubelet{cluster: cluster, k8s: k8s, binary: binary, cancel: cancel, done: make(chan struct{}),
		operators: map[string]*runningOperator{}}
	go func() {
		defer close(k.done)
		for {
			if err := k.sync(ctx); err != nil && ctx.Err() == nil {
				k.mu.Lock()
				if k.err == nil {
					k.err = err
				}
				k.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return k
}

func (k *kubelet) sync(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var list appsv1.DeploymentList
	if err := k.k8s.List(ctx, &list); err != nil {
		return err
	}
	for i := range list.Items {
		d := &list.Items[i]
		n := int32(1)
		if d.Spec.Replicas != nil {
			n = *d.Spec.Replicas
		}
		if _, backend := d.Labels[render.LabelTenant]; !backend {
			if k.noOperators {
				continue
			}
			if err := k.runOperator(ctx, d); err != nil {
				return err
			}
		}
		s := d.Status
		if s.ObservedGeneration == d.Generation && s.Replicas == n && s.UpdatedReplicas == n && s.ReadyReplicas == n && s.AvailableReplicas == n {
			continue
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		if err := k.k8s.Status().Update(ctx, d); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// runOperator runs the operator's Deployment as a process, once per generation of its spec.
func (k *kubelet) runOperator(ctx context.Context, d *appsv1.Deployment) error {
	key := d.Namespace + "/" + d.Name
	if r := k.operators[key]; r != nil {
		if r.generation == d.Generation {
			return r.err // a pod that failed is not started again: the Deployment stays unavailable
		}
		if r.op != nil {
			_ = r.op.Stop()
		}
	}
	manager, err := managerContainer(d)
	if err != nil {
		return err
	}
	op, err := k.cluster.RunOperator(ctx, localcluster.OperatorOptions{
		Binary:         k.binary,
		Args:           manager.args,
		Env:            manager.env,
		Namespace:      d.Namespace,
		ServiceAccount: d.Spec.Template.Spec.ServiceAccountName,
		LogPath:        filepath.Join(k.cluster.WorkDir, fmt.Sprintf("operator-%s-%d.log", d.Name, d.Generation)),
	})
	r := &runningOperator{op: op, generation: d.Generation, image: manager.image}
	if err != nil {
		r.op, r.err = nil, fmt.Errorf("running deployment %s: %w", key, err)
	}
	k.operators[key] = r
	return r.err
}

// container is what the operator's Deployment runs: its image, and the arguments and environment a process here gets.
type container struct {
	image string
	args  []string
	env   []string
}

// managerContainer reads the operator's container (named manager) of its Deployment.
func managerContainer(d *appsv1.Deployment) (*container, error) {
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != "manager" {
			continue
		}
		m := &container{image: c.Image}
		for _, a := range c.Args {
			// RunOperator sets these for a process on this machine (and always elects a leader).
			switch name, _, _ := strings.Cut(a, "="); name {
			case "--leader-elect", "--metrics-bind-address", "--health-probe-bind-address":
			default:
				m.args = append(m.args, a)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil { // POD_NAMESPACE and the like: RunOperator passes --operator-namespace
				m.env = append(m.env, e.Name+"="+e.Value)
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("deployment %s/%s has no container named manager: the README's commands made a Deployment the test cannot run",
		d.Namespace, d.Name)
}

// stopOperators stops the operators the Deployments run, and runs none from now on.
func (k *kubelet) stopOperators() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.noOperators = true
	for _, r := range k.operators {
		if r.op != nil {
			_ = r.op.Stop()
		}
	}
}

func (k *kubelet) operatorImages() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]string{}
	for key, r := range k.operators {
		out[key] = r.image
	}
	return out
}

func (k *kubelet) error() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

func (k *kubelet) stop() {
	k.cancel()
	<-k.done
}

// logs prints the operators' logs, for a failed test.
func (k *kubelet) logs(t *testing.T) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, r := range k.operators {
		if r.op == nil {
			t.Logf("operator of deployment %s: %v", key, r.err)
			continue
		}
		data, _ := os.ReadFile(r.op.LogPath)
		t.Logf("operator of deployment %s (%s):\n%s", key, r.op.LogPath, tail(string(data), 60))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
