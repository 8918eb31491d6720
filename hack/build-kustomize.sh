#!/usr/bin/env bash
# Builds the kustomize CLI from its Go module (hack/tools/kustomize, pinned by go.mod and go.sum) into
# bin/kustomize-<version>/, and skips the build when that binary exists. The README's kustomize install sets the
# image with `kustomize edit set image`, and test/docs runs that command; kubectl's built-in kustomize builds but
# does not edit. The version is the one kubectl embeds (hack/tools/k8s), which test/docs checks.
#
# Usage: KUSTOMIZE_VERSION=v5.x.y hack/build-kustomize.sh   (the Makefile passes the version)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="${BIN_DIR:-$root/bin}"
: "${KUSTOMIZE_VERSION:?}"
out="$bin/kustomize-$KUSTOMIZE_VERSION"

export GOFLAGS="${GOFLAGS:-} -mod=readonly -trimpath"
export CGO_ENABLED=0

if [ ! -x "$out/kustomize" ]; then
  printf '==> building kustomize into %s\n' "${out#"$root"/}" >&2
  mkdir -p "$out"
  (cd "$root/hack/tools/kustomize" && go build -ldflags "-s -w" -o "$out/kustomize.tmp" sigs.k8s.io/kustomize/kustomize/v5)
  mv "$out/kustomize.tmp" "$out/kustomize"
fi
ln -sfn "kustomize-$KUSTOMIZE_VERSION/kustomize" "$bin/kustomize"
