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
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tenant-operator/tenant-operator/hack/images"
)

// The node's Services and DNS: kube-proxy (iptables mode) gives Services their cluster addresses, and CoreDNS
// (hack/tools/coredns) runs as clusters run it, a kube-system pod labelled k8s-app=kube-dns behind the kube-dns
// Service at ClusterDNS, so that the tenants' allow-dns policies meet a real DNS pod. It reads the API with
// in-cluster config, like any pod: the apiserver listens on loopback only, and advertises the pod network's gateway,
// where the node relays it (see writeServingCerts).
const (
	// ClusterDNS is the kube-dns Service's address, the nameserver of the node's pods.
	ClusterDNS = "10.96.0.10"
	// DNSHealthPort is CoreDNS's health port: a port of the DNS pods that is not DNS.
	DNSHealthPort = 8080
	podGateway    = "10.244.0.1"
	dnsReadyPort  = 8181
)

// startServiceProxy runs kube-proxy in iptables mode. It changes no host setting: no conntrack sizes or timeouts,
// no route_localnet (NodePorts on localhost are off).
func (n *Node) startServiceProxy(c *Cluster) error {
	config := filepath.Join(n.dir, "kube-proxy.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %q}
hostnameOverride: %s
mode: iptables
clusterCIDR: %s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
`, c.KubeconfigPath, NodeName, podCIDR)), 0o600); err != nil {
		return err
	}
	return n.run(c, "kube-proxy", filepath.Join(n.assets, "kube-proxy"), "--config", config)
}

// apiRelay forwards TCP connections from the pod network's gateway to the apiserver, on the apiserver's port.
type apiRelay struct {
	listener net.Listener
	wg       sync.WaitGroup
}

func startAPIRelay(apiserver string) (*apiRelay, error) {
	u, err := url.Parse(apiserver)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(podGateway, u.Port()))
	if err != nil {
		return nil, fmt.Errorf("relaying the apiserver to the pods: %w", err)
	}
	r := &apiRelay{listener: l}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go relay(in, u.Host)
		}
	}()
	return r, nil
}

func relay(in net.Conn, to string) {
	defer func() { _ = in.Close() }()
	out, err := net.DialTimeout("tcp", to, 5*time.Second)
	if err != nil {
		return
	}
	defer func() { _ = out.Close() }()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
	go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
	<-done
}

func (r *apiRelay) close() {
	_ = r.listener.Close()
	r.wg.Wait()
}

// startDNS runs CoreDNS as the kube-system pod clusters have, under a ServiceAccount allowed to list and watch what
// the kubernetes plugin reads, and waits until it is ready.
func (n *Node) startDNS(ctx context.Context, c *Cluster) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	image, err := n.pushBinary(ctx, filepath.Join(n.assets, "coredns"), "coredns")
	if err != nil {
		return err
	}
	const ns, name, role = metav1.NamespaceSystem, "coredns", "system:coredns"
	labels := map[string]string{"k8s-app": "kube-dns"}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
	}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	corefile := fmt.Sprintf(`.:53 {
    errors
    health :%d
    ready :%d
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        fallthrough in-addr.arpa ip6.arpa
    }
}
`, DNSHealthPort, dnsReadyPort)
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data: map[string]string{"Corefile": corefile}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: ns, Labels: labels},
		Spec: corev1.ServiceSpec{ClusterIP: ClusterDNS, Selector: labels, Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
		}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	pod, err := cs.CoreV1().Pods(ns).Create(ctx, dnsPod(ns, name, image, labels), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	return n.waitForServiceDNS(ctx, cs, pod)
}

// waitForServiceDNS waits until kube-proxy has the kube-dns Service's rules and a lookup through its address
// answers: CoreDNS is ready (its kubernetes plugin synced) and kube-proxy sends it queries.
func (n *Node) waitForServiceDNS(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) error {
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", net.JoinHostPort(ClusterDNS, "53"))
	}}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		// Only once kube-proxy sends the Service's address to the pod: before, the node would route it away.
		rules, err := exec.CommandContext(ctx, "iptables", "-t", "nat", "-S").Output()
		if err != nil || !strings.Contains(string(rules), "kube-system/kube-dns:dns cluster IP") {
			last = fmt.Errorf("kube-proxy has no rules for kube-dns yet (see node/kube-proxy.log): %v", err)
			return false, nil
		}
		lookup, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		addrs, err := resolver.LookupHost(lookup, "kube-dns.kube-system.svc.cluster.local.")
		if last = err; err != nil {
			return false, nil
		}
		return slices.Contains(addrs, ClusterDNS), nil
	})
	if err != nil {
		phase := "unknown"
		if p, gerr := cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{}); gerr == nil {
			phase = string(p.Status.Phase)
		}
		return fmt.Errorf("the cluster DNS does not answer through its Service (%v; CoreDNS pod %s): %w", last, phase, err)
	}
	return nil
}

// dnsPod is CoreDNS as the restricted profile allows: non-root, binding port 53 through the namespaced sysctl that
// lowers the first unprivileged port.
func dnsPod(ns, name, image string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Spec: corev1.PodSpec{
		// In-cluster config, as CoreDNS runs everywhere: its ServiceAccount's token, the kubernetes Service.
		ServiceAccountName: name,
		DNSPolicy:          corev1.DNSDefault,
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			Sysctls:        []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "53"}}},
		Containers: []corev1.Container{{
			Name: name, Image: image, ImagePullPolicy: corev1.PullAlways, Args: []string{"-conf", "/etc/coredns/Corefile"},
			Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP}},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/coredns", ReadOnly: true}},
		}},
		Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}},
	}}
}

// pushBinary packs a built binary as an image running /<name> as nonroot and pushes it as <name>:dev.
func (n *Node) pushBinary(ctx context.Context, binary, name string) (string, error) {
	file, err := images.Binary(binary, "/"+name)
	if err != nil {
		return "", err
	}
	img, err := images.Image([]images.File{file}, images.Config{User: images.NonRoot, Entrypoint: []string{"/" + name},
		Labels: map[string]string{"org.opencontainers.image.title": "tenant-operator-" + name}}, runtime.GOARCH)
	if err != nil {
		return "", err
	}
	if _, err := n.Registry.Push(ctx, img, name, "dev"); err != nil {
		return "", err
	}
	return n.Registry.Host + "/" + name + ":dev", nil
}
