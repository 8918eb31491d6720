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
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NetprobePort is where netprobe pods serve, and what the node asks them on.
const NetprobePort = 9000

// NetprobePod is a pod of the node's netprobe image (Node.NetprobeImage) that meets Pod Security "restricted" and
// the guardrails of tenant namespaces, labelled app=netprobe.
func NetprobePod(namespace, name, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app": "netprobe"}},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: "netprobe", Image: image, ImagePullPolicy: corev1.PullAlways,
				Args:  []string{"-listen", ":" + strconv.Itoa(NetprobePort)},
				Ports: []corev1.ContainerPort{{ContainerPort: NetprobePort}},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		},
	}
}

// Dial is netprobe's answer to /dial: whether a TCP connection opened, and if not how it failed ("refused",
// "timeout", "unreachable").
type Dial struct {
	Connected bool   `json:"connected"`
	Failure   string `json:"failure,omitempty"`
	Error     string `json:"error,omitempty"`
}

func (d Dial) String() string {
	if d.Connected {
		return "connected"
	}
	return d.Failure
}

// Resolve is netprobe's answer to /resolve: the addresses a name resolved to, or why it did not.
type Resolve struct {
	Addrs []string `json:"addrs,omitempty"`
	Error string   `json:"error,omitempty"`
}

// NetprobeDial asks the netprobe pod at podIP to open a TCP connection to addr. The node reaches every pod,
// whatever the NetworkPolicies.
func NetprobeDial(ctx context.Context, podIP, addr string) (Dial, error) {
	var d Dial
	err := netprobeGet(ctx, podIP, "/dial?timeout=1s&addr="+url.QueryEscape(addr), &d)
	return d, err
}

// NetprobeResolve asks the netprobe pod at podIP to look name up, through server ("" for its resolv.conf).
func NetprobeResolve(ctx context.Context, podIP, name, server string) (Resolve, error) {
	var r Resolve
	err := netprobeGet(ctx, podIP, "/resolve?name="+url.QueryEscape(name)+"&server="+url.QueryEscape(server), &r)
	return r, err
}

// NetprobeAnswers fails unless the netprobe pod at podIP answers.
func NetprobeAnswers(ctx context.Context, podIP string) error {
	return netprobeGet(ctx, podIP, "/", nil)
}

// WaitForNetprobe waits up to two minutes for the netprobe pod namespace/name to have an address and answer the
// node, and returns the address.
func WaitForNetprobe(ctx context.Context, c client.Reader, namespace, name string) (string, error) {
	pod := &corev1.Pod{}
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod); err != nil {
			return false, err
		}
		if pod.Status.PodIP == "" {
			return false, nil
		}
		lastErr = NetprobeAnswers(ctx, pod.Status.PodIP)
		return lastErr == nil, nil
	})
	if err != nil {
		return "", fmt.Errorf("the netprobe pod %s/%s does not answer: %w (%v); phase %s", namespace, name, err, lastErr, pod.Status.Phase)
	}
	return pod.Status.PodIP, nil
}

var netprobeClient = &http.Client{Timeout: 5 * time.Second}

func netprobeGet(ctx context.Context, podIP, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(podIP, strconv.Itoa(NetprobePort))+path, nil)
	if err != nil {
		return err
	}
	resp, err := netprobeClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	if into == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
