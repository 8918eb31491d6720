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

package security

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tenant-operator/tenant-operator/hack/localcluster"
)

// The suite's network attempts are also sent as packets. On the local cluster's node (make test's node tier), a
// netprobe pod in alpha, in beta and in the shared namespace opens real TCP connections, and the node's servers
// stand for a host on the internet and the cloud metadata address. An attempt that means to open a connection
// names it (aimsAt); mustBlock then tries that connection, which must stay refused, whatever the apiserver said.
// Ingress attempts aim from the shared namespace and egress ones at it: it has no policies, so only the attempt's
// side can refuse the connection.

// Where an aimed connection goes, resolved on the node: a namespace's netprobe pod, or a server of the node's.
const (
	toAlphaPod = "alpha's pod"
	// toSharedPod is in a namespace without policies: only the source's egress can refuse it.
	toSharedPod = "the shared namespace's pod"
	toInternet  = "a host on the internet"
	toMetadata  = "the metadata address"
)

// aim is the connection an attempt means to open: from the netprobe pod of a namespace to one of the to* places.
type aim struct{ from, to string }

func (a aim) String() string { return a.from + " -> " + a.to }

// wireWorld is the node's side of the suite; nil when the node tier is skipped.
type wireWorld struct {
	agents map[string]string // namespace -> its netprobe pod's address
}

var (
	wire *wireWorld
	// wireSkipped says why no packet was sent, for the closing table; empty on the node.
	wireSkipped string
	// Images on the node's registry replace the unreachable registry.example ones, so that no pull leaves the machine.
	appImage     = "registry.example/alpha/app:1"
	backendImage = "registry.example/alpha/api:1"
)

// nodeTier reports whether the suite runs on the node, and refuses a machine that cannot run it unless the tier is
// skipped on purpose: a network attempt never sent must not pass as one sent.
func nodeTier() (bool, error) {
	if os.Getenv("TEST_NODE") == "skip" {
		wireSkipped = "the node tier was skipped (TEST_NODE=skip): network attempts were judged at admission only, no packet was sent"
		return false, nil
	}
	if missing := localcluster.NodeRequirements(); missing != "" {
		return false, fmt.Errorf("%s; run with TEST_NODE=skip to skip the node tier", missing)
	}
	return true, nil
}

// pushImages puts the example back-end on the node's registry for alpha's back-end, and the netprobe image for the
// pods the attempts create.
func pushImages(ctx context.Context) error {
	_, image, err := cluster.Node.PushFixture(ctx, "backend")
	if err != nil {
		return err
	}
	backendImage, appImage = image, cluster.Node.NetprobeImage
	return nil
}

// startWire runs the netprobe pods and checks the controls: each pod answers the node, and from the shared namespace,
// which no policy governs, the internet and metadata servers answer. A refusal proves something only then.
func startWire(ctx context.Context) (*wireWorld, error) {
	w := &wireWorld{agents: map[string]string{}}
	namespaces := []string{alphaNS, sharedNS}
	for _, ns := range namespaces {
		pod := localcluster.NetprobePod(ns, "netprobe", cluster.Node.NetprobeImage)
		if ns == alphaNS {
			pod.Spec.RuntimeClassName = ptrTo(sandbox)
		}
		if err := admin.Create(ctx, pod); err != nil {
			return nil, err
		}
	}
	for _, ns := range namespaces {
		ip, err := localcluster.WaitForNetprobe(ctx, admin, ns, "netprobe")
		if err != nil {
			return nil, err
		}
		w.agents[ns] = ip
	}
	for _, to := range []string{toInternet, toMetadata} {
		control := aim{from: sharedNS, to: to}
		var d localcluster.Dial
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			var err error
			d, err = w.dial(ctx, control)
			return err == nil && d.Connected, nil
		})
		if err != nil {
			return nil, fmt.Errorf("control %s: %s: %w", control, d, err)
		}
	}
	return w, nil
}

func (w *wireWorld) addr(to string) string {
	switch to {
	case toAlphaPod:
		return net.JoinHostPort(w.agents[alphaNS], strconv.Itoa(localcluster.NetprobePort))
	case toSharedPod:
		return net.JoinHostPort(w.agents[sharedNS], strconv.Itoa(localcluster.NetprobePort))
	case toInternet:
		return net.JoinHostPort(localcluster.OutsideInternet, strconv.Itoa(localcluster.OutsidePort))
	case toMetadata:
		return net.JoinHostPort(localcluster.OutsideMetadata, strconv.Itoa(localcluster.OutsidePort))
	}
	panic("no place " + to)
}

func (w *wireWorld) dial(ctx context.Context, a aim) (localcluster.Dial, error) {
	return localcluster.NetprobeDial(ctx, w.agents[a.from], w.addr(a.to))
}

// try opens the connection an attempt aimed at. An attempt the apiserver refused changed nothing, so two tries tell;
// one it admitted gets the seconds a policy takes to reach the node (about one on the machines CI uses). connected
// is an escape.
func (w *wireWorld) try(ctx context.Context, a aim, admitted bool) (d localcluster.Dial, err error) {
	window := 500 * time.Millisecond
	if admitted {
		window = 8 * time.Second
	}
	for deadline := time.Now().Add(window); ; time.Sleep(250 * time.Millisecond) {
		if d, err = w.dial(ctx, a); err != nil || d.Connected || time.Now().After(deadline) {
			return d, err
		}
	}
}

// waitRefused waits until the connection is refused again, once what opened it is gone.
func (w *wireWorld) waitRefused(ctx context.Context, t *testing.T, a aim) {
	t.Helper()
	var d localcluster.Dial
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		d, err = w.dial(ctx, a)
		return err == nil && !d.Connected, nil
	})
	if err != nil {
		t.Errorf("%s still %s after the escape's objects were removed: %v", a, d, err)
	}
}

// aimed holds the connection the current attempt means to open, as created holds what it created.
var aimed struct {
	sync.Mutex
	aim *aim
}

// aimsAt is the attempt do, which means to open the connection from -> to: mustBlock also tries it on the wire.
func aimsAt(from, to string, do func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		aimed.Lock()
		aimed.aim = &aim{from: from, to: to}
		aimed.Unlock()
		return do(ctx)
	}
}

func takeAim() *aim {
	aimed.Lock()
	defer aimed.Unlock()
	a := aimed.aim
	aimed.aim = nil
	return a
}

// TestWireSeesAnOpening is the control of the wire checks: the policies the attempts try, written by the cluster
// admin (whom no guardrail stops), open exactly the connections the attempts aim at, and removing them closes them
// again. A wire check that could not see an opening would prove nothing.
func TestWireSeesAnOpening(t *testing.T) {
	skipShort(t)
	if wire == nil {
		t.Skip(wireSkipped)
	}
	ctx := context.Background()
	ingressAll := networkPolicy("admin-ingress-all", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})
	egressAll := networkPolicy("admin-egress-all", networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{}}, PolicyTypes: egressOnly})
	// Every destination the attempts aim at, from where they aim at it.
	for _, tc := range []struct {
		targets []aim
		policy  *networkingv1.NetworkPolicy
	}{
		{[]aim{{from: sharedNS, to: toAlphaPod}}, ingressAll},
		{[]aim{{from: alphaNS, to: toInternet}, {from: alphaNS, to: toMetadata}, {from: alphaNS, to: toSharedPod}}, egressAll},
	} {
		t.Run(tc.policy.Name, func(t *testing.T) {
			for _, target := range tc.targets {
				if d, err := wire.try(ctx, target, false); err != nil || d.Connected {
					t.Fatalf("%s before the policy: %s, %v; want refused", target, d, err)
				}
			}
			if err := admin.Create(ctx, tc.policy); err != nil {
				t.Fatal(err)
			}
			for _, target := range tc.targets {
				if d, err := wire.try(ctx, target, true); err != nil || !d.Connected {
					t.Errorf("%s with the admin's open policy: %s, %v; want connected", target, d, err)
				}
			}
			if err := admin.Delete(ctx, tc.policy); err != nil {
				t.Fatal(err)
			}
			for _, target := range tc.targets {
				wire.waitRefused(ctx, t, target)
			}
		})
	}
}
