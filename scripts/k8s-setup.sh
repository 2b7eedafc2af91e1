#!/usr/bin/env bash
# Builds the local Kubernetes toolchain from Go modules, once per version, into a
# cache outside the work tree so fresh clones on the same machine (CI) reuse it.
# Idempotent: a binary already built for the pinned version is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib/versions.sh"
bin="$CAPSTAN_CACHE/bin"
mkdir -p "$bin" "$CAPSTAN_CACHE/stamps"
# One build at a time per cache: clones set up side by side (worktrees, CI next to a session)
# would otherwise each build the same binaries at once, and race on the stamps.
exec 9>"$CAPSTAN_CACHE/k8s-setup.lock"
flock 9
export GOFLAGS="${GOFLAGS:-} -trimpath"

built() { [ -x "$bin/$1" ] && [ "$(cat "$CAPSTAN_CACHE/stamps/$1" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$CAPSTAN_CACHE/stamps/$1"; }
log() { printf '[k8s-setup] %s\n' "$*" >&2; }

build_kube() {
  local cmd=$1
  built "$cmd" "$KUBE_VERSION" && return 0
  log "building $cmd $KUBE_VERSION (cold builds take minutes)"
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  (cd "$here/tools/kube" && go build -ldflags "$ld" -o "$bin/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  stamp "$cmd" "$KUBE_VERSION"
}

build_etcd() {
  built etcd "$ETCD_VERSION" && return 0
  log "building etcd $ETCD_VERSION"
  (cd "$here/tools/etcd" && go build -ldflags "-s -w" -o "$bin/etcd" .)
  stamp etcd "$ETCD_VERSION"
}

go_install() { # name module@version
  built "$1" "$2" && return 0
  log "installing $2"
  GOBIN="$bin" go install -ldflags "-s -w" "$2"
  stamp "$1" "$2"
}

build_etcd
for c in kube-apiserver kube-controller-manager kube-scheduler; do build_kube "$c"; done
go_install kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
go_install helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
go_install kustomize "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
log "toolchain ready in $bin"
