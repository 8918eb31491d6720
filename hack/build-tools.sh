#!/usr/bin/env bash
# Builds the project's tools from Go modules into bin/, each into a folder named by its version, and skips a tool
# whose binary already exists at that version. Every tool has its own module under hack/tools/ (pinned by go.mod and
# go.sum), kept apart from the project's go.mod so the operator's dependency versions stay its own.
#
# Usage: hack/build-tools.sh [tool...]   tools: controller-gen k8s node (kubelet, kube-scheduler, kube-proxy,
# kube-router, coredns) etcd helm golangci-lint vuln alerteval (default: all but node)
# Versions come from the environment (the Makefile passes them) so there is one place to bump them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="${BIN_DIR:-$root/bin}"
tools="$root/hack/tools"

: "${CONTROLLER_TOOLS_VERSION:?}" "${KUBERNETES_VERSION:?}" "${ETCD_VERSION:?}" "${HELM_VERSION:?}" "${GOLANGCI_LINT_VERSION:?}"
: "${VULN_VERSION:?}" "${VULNDB_VERSION:?}" "${KUBE_ROUTER_VERSION:?}" "${COREDNS_VERSION:?}" "${PROMETHEUS_VERSION:?}"

# The tool modules resolve only what their committed go.sum pins; never let a build rewrite them.
export GOFLAGS="${GOFLAGS:-} -mod=readonly -trimpath"
export CGO_ENABLED=0

log() { printf '==> %s\n' "$*" >&2; }

# link makes bin/<name> point at the versioned binary, so scripts and users call bin/kubectl etc.
link() { ln -sfn "$1" "$bin/$2"; }

# build_into <dir> <module dir> <ldflags> <package...>: builds the packages into <dir> unless every binary exists.
build_into() {
  local out=$1 moddir=$2 ldflags=$3; shift 3
  local pkg missing=0
  for pkg in "$@"; do [ -x "$out/$(basename "$pkg")" ] || missing=1; done
  if [ "$missing" = 0 ]; then return 0; fi
  log "building $(for p in "$@"; do basename "$p"; done | paste -sd' ') into ${out#"$root"/}"
  mkdir -p "$out.tmp"
  (cd "$moddir" && go build -ldflags "-s -w $ldflags" -o "$out.tmp/" "$@")
  mkdir -p "$out" && mv "$out.tmp"/* "$out/" && rmdir "$out.tmp"
}

# build_one <dir> <module dir> <name> <package>: builds one package into <dir>/<name> unless it exists; the name is
# explicit, as go names a module root's main package after its directory.
build_one() {
  local out=$1 moddir=$2 name=$3 pkg=$4
  if [ -x "$out/$name" ]; then return 0; fi
  log "building $name into ${out#"$root"/}"
  mkdir -p "$out"
  (cd "$moddir" && go build -ldflags "-s -w" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
}

build_controller_gen() {
  local v=$CONTROLLER_TOOLS_VERSION out="$bin/controller-gen-$CONTROLLER_TOOLS_VERSION"
  build_into "$out" "$tools/controller-gen" \
    "-X sigs.k8s.io/controller-tools/pkg/version.version=$v" \
    sigs.k8s.io/controller-tools/cmd/controller-gen
  link "controller-gen-$v/controller-gen" controller-gen
}

# Without these the binaries report v0.0.0-master, and kubectl warns about version skew.
k8s_ldflags() {
  local v=$KUBERNETES_VERSION minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local ldflags="-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  echo "$ldflags"
}

build_k8s() {
  local v=$KUBERNETES_VERSION out="$bin/k8s-$KUBERNETES_VERSION"
  build_into "$out" "$tools/k8s" "$(k8s_ldflags)" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
  local b; for b in kube-apiserver kube-controller-manager kubectl; do link "k8s-$v/$b" "$b"; done
}

# The node's Kubernetes commands, from the same module and version as the control plane's: kubelet, kube-scheduler,
# kube-proxy. The node's Debian packages (containerd, runc, the CNI plugins, iptables) come from hack/node-packages.sh.
build_node() {
  local v=$KUBERNETES_VERSION out="$bin/k8s-$KUBERNETES_VERSION"
  build_into "$out" "$tools/k8s" "$(k8s_ldflags)" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy
  local b; for b in kubelet kube-scheduler kube-proxy; do link "k8s-$v/$b" "$b"; done
}

# The node's NetworkPolicy enforcer: kube-router with only its firewall on. v2.1.0 is the one version the module proxy
# serves (it has reported security flaws: a test-only host process, never shipped).
build_kube_router() {
  local v=$KUBE_ROUTER_VERSION
  build_one "$bin/kube-router-$v" "$tools/kube-router" kube-router github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  link "kube-router-$v/kube-router" kube-router
}

# The node's cluster DNS: CoreDNS with only the plugins it needs (hack/tools/coredns/main.go), static, for an image.
build_coredns() {
  local v=$COREDNS_VERSION
  build_one "$bin/coredns-$v" "$tools/coredns" coredns .
  link "coredns-$v/coredns" coredns
}

# The chart's alerts evaluated by Prometheus's own rule engine over metrics scraped in the tests
# (hack/tools/alerteval/main.go), named by the Prometheus module version it embeds (v0.316.0 is Prometheus 3.16).
build_alerteval() {
  local v=$PROMETHEUS_VERSION-$(alerteval_source)
  build_one "$bin/alerteval-$v" "$tools/alerteval" alerteval .
  link "alerteval-$v/alerteval" alerteval
}

# alerteval_source keys alerteval's folder by its own source too, so that a change to it is built (the Makefile
# computes the same key).
alerteval_source() { cat "$tools/alerteval/main.go" "$tools/alerteval/go.sum" | sha256sum | cut -c1-12; }

build_etcd() {
  local v=$ETCD_VERSION
  # etcd's main package is its server module's root: go would call the binary "server".
  build_one "$bin/etcd-$v" "$tools/etcd" etcd go.etcd.io/etcd/server/v3
  link "etcd-$v/etcd" etcd
}

build_helm() {
  local v=$HELM_VERSION out="$bin/helm-$HELM_VERSION"
  local major=${v%%.*}
  build_into "$out" "$tools/helm" \
    "-X helm.sh/helm/$major/internal/version.version=$v" \
    "helm.sh/helm/$major/cmd/helm"
  link "helm-$v/helm" helm
}

build_golangci_lint() {
  local v=$GOLANGCI_LINT_VERSION out="$bin/golangci-lint-$GOLANGCI_LINT_VERSION"
  build_into "$out" "$tools/golangci-lint" \
    "-X main.version=${v#v} -X main.commit=module -X main.date=module" \
    github.com/golangci/golangci-lint/v2/cmd/golangci-lint
  link "golangci-lint-$v/golangci-lint" golangci-lint
}

# govulncheck, and its vulnerability database built offline from the golang.org/x/vulndb module: its data/osv
# holds every Go vulnerability report as OSV JSON, and its indexdb command writes the database layout govulncheck
# reads with -db file://.
build_vuln() {
  local out="$bin/vuln-$VULN_VERSION" db="$bin/vulndb-$VULNDB_VERSION"
  build_into "$out" "$tools/vuln" "" golang.org/x/vuln/cmd/govulncheck golang.org/x/vulndb/cmd/indexdb
  link "vuln-$VULN_VERSION/govulncheck" govulncheck
  if [ ! -f "$db/index/db.json" ]; then
    log "building the vulnerability database into ${db#"$root"/}"
    local src
    src=$(cd "$tools/vuln" && go mod download -json golang.org/x/vulndb | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    rm -rf "$db.tmp" && "$out/indexdb" -vulns "$src/data/osv" -out "$db.tmp" && rm -rf "$db" && mv "$db.tmp" "$db"
  fi
  ln -sfn "vulndb-$VULNDB_VERSION" "$bin/vulndb"
}

# envtest finds etcd and kube-apiserver (and kubectl) through KUBEBUILDER_ASSETS: one folder of links.
link_envtest_assets() {
  mkdir -p "$bin/envtest"
  ln -sfn "../etcd-$ETCD_VERSION/etcd" "$bin/envtest/etcd"
  local b; for b in kube-apiserver kube-controller-manager kubectl kubelet kube-scheduler kube-proxy; do
    if [ -x "$bin/k8s-$KUBERNETES_VERSION/$b" ]; then ln -sfn "../k8s-$KUBERNETES_VERSION/$b" "$bin/envtest/$b"; fi
  done
  if [ -x "$bin/kube-router-${KUBE_ROUTER_VERSION:-}/kube-router" ]; then
    ln -sfn "../kube-router-$KUBE_ROUTER_VERSION/kube-router" "$bin/envtest/kube-router"
  fi
  if [ -x "$bin/coredns-${COREDNS_VERSION:-}/coredns" ]; then
    ln -sfn "../coredns-$COREDNS_VERSION/coredns" "$bin/envtest/coredns"
  fi
}

mkdir -p "$bin"
[ $# -gt 0 ] || set -- controller-gen k8s etcd helm golangci-lint vuln alerteval
for tool in "$@"; do
  case "$tool" in
    controller-gen) build_controller_gen ;;
    k8s) build_k8s ;;
    node) build_node; build_kube_router; build_coredns ;;
    etcd) build_etcd ;;
    helm) build_helm ;;
    golangci-lint) build_golangci_lint ;;
    vuln) build_vuln ;;
    alerteval) build_alerteval ;;
    *) echo "unknown tool: $tool" >&2; exit 2 ;;
  esac
done
if [ -x "$bin/etcd-$ETCD_VERSION/etcd" ] && [ -x "$bin/k8s-$KUBERNETES_VERSION/kube-apiserver" ]; then
  link_envtest_assets
fi
