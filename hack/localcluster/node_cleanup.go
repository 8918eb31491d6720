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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// What a node leaves behind that its processes' exit does not take: containers (runc's, whose shims outlive
// containerd), mounts below its directory, the network namespaces and the bridge CNI made, and the iptables chains
// CNI and the kubelet added. The cleanup script removes them; the node's stop runs it, and so does the reaper if the
// caller dies. It removes only what appeared after the node started: the chains and namespaces that existed before
// are listed in the script.
const nodeCleanupScript = `W=%[1]q
ADDR="$W/containerd.sock"
# The shims of this node's containerd, and the containers they run (each its own PID namespace: killing its first
# process ends them all). Killed children first: once their shim is gone they belong to init and look like anyone's.
shims=""
for p in /proc/[0-9]*; do
  if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q -- "-address $ADDR"; then shims="$shims ${p#/proc/}"; fi
done
for s in $shims; do
  for f in $(grep -l "^PPid:[[:space:]]*$s\$" /proc/[0-9]*/status 2>/dev/null); do c=${f#/proc/}; kill -KILL "${c%%/status}" 2>/dev/null; done
done
for s in $shims; do kill -KILL "$s" 2>/dev/null; done
sleep 1
# runc's state and the shims' sockets live under /run/containerd whatever the node's directory: remove this node's.
for d in "$W"/containerd/state/io.containerd.runtime.v2.task/k8s.io/*/; do
  id=$(basename "$d")
  [ "$id" != "*" ] || continue
  rm -rf "/run/containerd/runc/k8s.io/$id"
  rm -f "/run/containerd/s/$(printf '%%s' "$ADDR/k8s.io/$id" | sha256sum | cut -d' ' -f1)"
done
awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
for n in $(ls /var/run/netns 2>/dev/null); do
  case " %[2]s " in *" $n "*) ;; *) case "$n" in cni-*) ip netns del "$n" 2>/dev/null ;; esac ;; esac
done
ip link del %[3]s 2>/dev/null
# Addresses host-local handed out went below the node's directory; earlier versions kept them here, and leaked them.
rm -rf /var/lib/cni/networks/%[7]s
# The kubelet links every container's log into /var/log/containers, whatever its podLogsDir.
for l in /var/log/containers/*.log; do case "$(readlink "$l")" in "$W"/*) rm -f "$l" ;; esac; done
%[6]sclean_table() { # binary table chains-before
  new=$($1 -t $2 -S 2>/dev/null | awk '/^-N (CNI-|KUBE-)/ {print $2}' | while read -r ch; do
    case " $3 " in *" $ch "*) ;; *) echo "$ch" ;; esac
  done)
  [ -n "$new" ] || return 0
  for ch in $new; do
    $1 -t $2 -S 2>/dev/null | grep -E -- "-j $ch( |\$)" | while read -r rule; do eval "$1 -t $2 -D ${rule#-A }" 2>/dev/null; done
  done
  for ch in $new; do $1 -t $2 -F "$ch" 2>/dev/null; done
  for ch in $new; do $1 -t $2 -X "$ch" 2>/dev/null; done
}
%[4]s
# kube-router's ipsets, once no rule uses them.
for s in $(ipset list -n 2>/dev/null); do
  case " %[5]s " in *" $s "*) ;; *) case "$s" in KUBE-*|inet6:KUBE-*) ipset destroy "$s" 2>/dev/null ;; esac ;; esac
done
exit 0
`

// writeCleanup writes the node's cleanup script, with the namespaces and chains that exist now.
func (n *Node) writeCleanup() error {
	var netns []string
	if entries, err := os.ReadDir("/var/run/netns"); err == nil {
		for _, e := range entries {
			netns = append(netns, e.Name())
		}
	}
	var tables []string
	for _, binary := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"filter", "nat", "mangle"} {
			out, err := exec.Command(binary, "-t", table, "-S").Output()
			if err != nil {
				continue // no such table or binary here: nothing of it to clean
			}
			var chains []string
			for _, line := range strings.Split(string(out), "\n") {
				if name, ok := strings.CutPrefix(line, "-N "); ok {
					chains = append(chains, name)
				}
			}
			tables = append(tables, fmt.Sprintf("clean_table %s %s %q", binary, table, strings.Join(chains, " ")))
		}
	}
	var sets []string
	if out, err := exec.Command("ipset", "list", "-n").Output(); err == nil {
		sets = strings.Fields(string(out))
	}
	n.cleanupScript = filepath.Join(n.dir, "cleanup.sh")
	script := fmt.Sprintf(nodeCleanupScript, n.dir, strings.Join(netns, " "), nodeBridge, strings.Join(tables, "\n"), strings.Join(sets, " "), outsideCleanup, nodeNetwork)
	return os.WriteFile(n.cleanupScript, []byte(script), 0o700)
}
