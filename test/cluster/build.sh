#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from the official Go modules pinned in
# go.mod, once, into a cache folder outside the work tree. Prints the folder
# holding the three binaries on its last line of stdout; progress goes to stderr.
#
# Cache: $SA_KUBECONFIG_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/sa-kubeconfig.
# The binaries live under a key made from go.mod + go.sum, so a changed version
# pin builds afresh and an unchanged one is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v go >/dev/null 2>&1; then
  echo "error: the Go toolchain is not on PATH. Building the test cluster needs Go >= 1.26" >&2
  echo "       (https://go.dev/dl/, or your package manager); then run this again." >&2
  exit 3
fi
go_version=$(go env GOVERSION)
case "$go_version" in
  go1.2[6-9]*|go1.[3-9][0-9]*) ;;
  *) echo "error: $go_version is too old: k8s.io/kubernetes v1.37 needs Go >= 1.26." >&2; exit 3 ;;
esac

cache=${SA_KUBECONFIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sa-kubeconfig}
k8s_version=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=${k8s_version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
key=$( { cat "$here/go.mod" "$here/go.sum"; echo "$ldflags"; go env GOVERSION; } | sha256sum | cut -c1-12)
out="$cache/bin/$k8s_version-$key"

if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && [ -x "$out/kubectl" ]; then
  echo "$out"
  exit 0
fi

tmp="$out.partial.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "Building kube-apiserver, etcd and kubectl $k8s_version into $out" >&2
echo "(first build only: several minutes on 2 cores; later runs reuse it)" >&2
start=$(date +%s)
cd "$here"
build() { # name package
  local n=0 t0
  t0=$(date +%s)
  echo "[build] $1: downloading modules and compiling ..." >&2
  # -v names each package as it is compiled: print every 100th as progress.
  CGO_ENABLED=0 go build -v -trimpath -ldflags "$ldflags" -o "$tmp/$1" "$2" 2>&1 |
    while IFS= read -r line; do
      # Package paths have no spaces; anything else is the compiler talking.
      case "$line" in
        *" "*) echo "$line" >&2 ;;
        *) n=$((n + 1)); if [ $((n % 100)) -eq 0 ]; then echo "[build] $1: $n packages compiled" >&2; fi ;;
      esac
    done
  [ -x "$tmp/$1" ] || { echo "error: building $1 ($2) failed; see the lines above" >&2; exit 4; }
  echo "[build] $1: done in $(( $(date +%s) - t0 ))s" >&2
}
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kubectl k8s.io/kubernetes/cmd/kubectl
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "[build] all three built in $(( $(date +%s) - start ))s" >&2
echo "$out"
