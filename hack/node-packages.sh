#!/usr/bin/env bash
# Installs what the local cluster's node needs from Debian's packages, when it is missing: containerd and runc (the
# container runtime), the CNI plugins (bridge, host-local, portmap, loopback), iptables and ipset (NetworkPolicy
# enforcement), iproute2. Needs root and apt-get; on a machine without them it says so and fails, so that the node
# tier never passes silently. TEST_NODE=skip skips the node tier (and this script) altogether.
set -euo pipefail

if [ "${TEST_NODE:-}" = skip ]; then
  echo "==> node tier skipped (TEST_NODE=skip): no containerd, kubelet or packets in this run" >&2
  exit 0
fi
packages=(containerd runc containernetworking-plugins iptables ipset iproute2)
commands=(/usr/bin/containerd /usr/sbin/runc /usr/lib/cni/bridge /usr/sbin/iptables /usr/sbin/ipset /usr/sbin/ip)
missing=()
for i in "${!packages[@]}"; do
  [ -x "${commands[$i]}" ] || missing+=("${packages[$i]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "The node tier runs containers and needs root and Debian's ${missing[*]}: install them as root" >&2
  echo "(apt-get install ${missing[*]}), or run with TEST_NODE=skip to skip the tier." >&2
  exit 1
fi
echo "==> installing ${missing[*]} (Debian packages, for the local cluster's node)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || {
  apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}
