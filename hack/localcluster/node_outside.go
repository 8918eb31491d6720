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
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The world beyond the cluster, as the node's pods see it: servers the node runs in a network namespace of its own
// on addresses outside every cluster range. Traffic from the pod range is routed by a table of its own, looked up
// before the host's: these addresses go to the namespace, and every other address outside the machine is
// unreachable, so no packet of a pod ever leaves the machine (a Service address kube-proxy has not translated
// included). The host's own traffic, to the metadata address too, is left alone.
const (
	// OutsideInternet stands for any host on the internet (TEST-NET-3, RFC 5737).
	OutsideInternet = "203.0.113.10"
	// OutsidePartner stands for a host a Tenant allows by CIDR (TEST-NET-2): OutsidePartnerCIDR.
	OutsidePartner     = "198.51.100.10"
	OutsidePartnerCIDR = "198.51.100.0/24"
	// OutsideMetadata is where clouds serve instance metadata.
	OutsideMetadata = "169.254.169.254"
	// OutsidePort is the port every outside server listens on.
	OutsidePort = 80

	outsideNetns    = "tnop-outside"
	outsideLink     = "tnop-out0"     // the host's end; its peer, tnop-out1, is in the namespace
	outsideTable    = "7244"          // the routing table and rule priority of the pods' way out
	outsideHost     = "169.254.255.1" // the link's ends, link-local: tenants never reach the range anyway
	outsidePeer     = "169.254.255.2"
	outsideLinkCIDR = "169.254.255.0/30"
)

// OutsideAddresses are the outside servers' addresses.
func OutsideAddresses() []string { return []string{OutsideInternet, OutsidePartner, OutsideMetadata} }

// startOutside creates the outside network namespace, routes the pod range's traffic for its addresses there, and
// runs netprobe on each of them.
func (n *Node) startOutside(c *Cluster, netprobe string) error {
	if err := outsideIsFree(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, `set -e
ip netns add %[1]s
ip link add %[2]s type veth peer name tnop-out1 netns %[1]s
ip addr add %[3]s/30 dev %[2]s
ip link set %[2]s up
ip -n %[1]s link set lo up
ip -n %[1]s addr add %[4]s/30 dev tnop-out1
ip -n %[1]s link set tnop-out1 up
ip -n %[1]s route add default via %[3]s
ip route add unreachable default table %[6]s
ip route add %[5]s dev %[7]s table %[6]s
ip rule add from %[5]s iif %[7]s lookup %[6]s priority %[6]s
`, outsideNetns, outsideLink, outsideHost, outsidePeer, podCIDR, outsideTable, nodeBridge)
	listen := make([]string, 0, len(OutsideAddresses()))
	for _, addr := range OutsideAddresses() {
		fmt.Fprintf(&b, "ip -n %s addr add %s/32 dev tnop-out1\nip route add %s/32 via %s dev %s table %s\n",
			outsideNetns, addr, addr, outsidePeer, outsideLink, outsideTable)
		listen = append(listen, net.JoinHostPort(addr, strconv.Itoa(OutsidePort)))
	}
	if out, err := exec.Command("/bin/sh", "-c", b.String()).CombinedOutput(); err != nil {
		return fmt.Errorf("making the outside network: %w: %s", err, out)
	}
	// The internet host answers DNS too: a resolver tenants must not reach unless their egress allows it.
	return n.run(c, "outside", "/usr/sbin/ip", "netns", "exec", outsideNetns, netprobe, "-listen", strings.Join(listen, ","),
		"-dns", net.JoinHostPort(OutsideInternet, "53"))
}

// outsideCleanup removes what startOutside made (its server stops with the node's processes).
const outsideCleanup = `ip netns del ` + outsideNetns + ` 2>/dev/null
ip link del ` + outsideLink + ` 2>/dev/null
ip rule del priority ` + outsideTable + ` 2>/dev/null
ip route flush table ` + outsideTable + ` 2>/dev/null
`

// nodeLock is held while a node runs: there is one bridge, pod range and outside namespace per machine, so two
// nodes (tests of two packages, say) take turns. The kernel releases it when its holder dies.
const nodeLock = "/run/lock/tenant-operator-node.lock"

func lockNode(ctx context.Context) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(nodeLock), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(nodeLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != syscall.EWOULDBLOCK {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", nodeLock, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("another node runs on this machine (%s is locked): %w", nodeLock, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitForNoNode waits for what a node makes per machine to be gone: a node whose caller died is cleaned up by its
// reaper a few seconds after the lock is free.
func waitForNoNode(ctx context.Context) error {
	left := func() string {
		for _, link := range []string{nodeBridge, outsideLink} {
			if _, err := net.InterfaceByName(link); err == nil {
				return "the link " + link
			}
		}
		if _, err := os.Stat(filepath.Join("/var/run/netns", outsideNetns)); err == nil {
			return "the network namespace " + outsideNetns
		}
		return ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		what := left()
		if what == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is left by a node that is no longer running: remove it (or reboot) before starting another", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// outsideIsFree fails when the machine's own network uses an address the outside servers or their link stand on:
// pods would then reach the machine's neighbours, or nothing.
func outsideIsFree() error {
	ours := make([]netip.Prefix, 0, 1+len(OutsideAddresses()))
	ours = append(ours, netip.MustParsePrefix(outsideLinkCIDR))
	for _, addr := range OutsideAddresses() {
		ours = append(ours, netip.PrefixFrom(netip.MustParseAddr(addr), 32))
	}
	out, err := exec.Command("ip", "-4", "-o", "route", "show", "table", "all").Output()
	if err != nil {
		return fmt.Errorf("reading the machine's routes: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// The first field that is an address or a prefix is the route's destination ("default" is none).
		for _, field := range strings.Fields(line) {
			p, err := netip.ParsePrefix(field)
			if a, aerr := netip.ParseAddr(field); aerr == nil {
				p, err = netip.PrefixFrom(a, a.BitLen()), nil
			}
			if err != nil {
				continue
			}
			for _, o := range ours {
				if p.Overlaps(o) {
					return fmt.Errorf("the machine's network uses %s (route %q), where the node's outside servers stand (%s)", p, strings.TrimSpace(line), o)
				}
			}
			break
		}
	}
	return nil
}
