#!/usr/bin/env bash
# Builds the control-plane binaries (kube-apiserver, kube-controller-manager, etcd) and
# toxiproxy from the Go module proxy into a cache outside the repository, once.
# A second run finds the stamped binaries and exits at once.
#   usage: scripts/provision.sh [all|k8s|etcd|toxiproxy|nack|natscli]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck disable=SC1091
source "$here/versions.env"
CACHE="${SEAM_CACHE:-$HOME/.cache/seam-jetstream}"
BIN="$CACHE/bin"
mkdir -p "$BIN" "$CACHE/build"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMAXPROCS="${GOMAXPROCS:-2}"
# Keep the linker's memory in check on small machines.
export GOGC="${GOGC:-50}"

log() { printf '[provision %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

stamp_ok() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.version" 2>/dev/null)" = "$2" ]; }

build_k8s() {
  local v="$KUBERNETES_VERSION" minor
  minor="$(echo "$v" | cut -d. -f2)"
  if stamp_ok kube-apiserver "$v" && stamp_ok kube-controller-manager "$v"; then
    log "kubernetes v$v cached in $BIN"; return
  fi
  local dir="$CACHE/build/k8s-$v"
  mkdir -p "$dir"
  log "kubernetes v$v: preparing wrapper module in $dir"
  local modfile
  modfile="$(curl -fsSL "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/v$v.mod")"
  {
    echo "module seam.local/k8sbuild"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes v$v"
    echo
    # Every staging module the upstream go.mod maps to ./staging becomes its published v0.X.Y.
    echo "$modfile" | awk '/=> \.\/staging\/src\// {print $1}' | sort -u | while read -r m; do
      echo "replace $m => $m v0.${v#1.}"
    done
  } > "$dir/go.mod"
  cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools
GO
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z -X $p.gitCommit=v$v"
  done
  ( cd "$dir"
    log "kubernetes v$v: downloading modules"
    go get "k8s.io/kubernetes@v$v" >&2
    go mod download >&2 || true
    for cmd in kube-apiserver kube-controller-manager; do
      log "kubernetes v$v: building $cmd (several minutes on 2 cores)"
      go build -p 2 -trimpath -ldflags "$ld" -o "$BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
      mv "$BIN/$cmd.tmp" "$BIN/$cmd"
      echo "$v" > "$BIN/$cmd.version"
      log "kubernetes v$v: $cmd done"
    done )
}

build_etcd() {
  local v="$ETCD_VERSION"
  if stamp_ok etcd "$v"; then log "etcd v$v cached"; return; fi
  local dir="$CACHE/build/etcd-$v"
  mkdir -p "$dir"
  cat > "$dir/go.mod" <<MOD
module seam.local/etcdbuild

go 1.26.0

require go.etcd.io/etcd/server/v3 v$v

replace go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v$v
replace go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 v$v
replace go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v$v
replace go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v$v
MOD
  ( cd "$dir"
    log "etcd v$v: building"
    go get "go.etcd.io/etcd/server/v3@v$v" >&2
    go build -p 2 -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$BIN/etcd.tmp" "$BIN/etcd"
    echo "$v" > "$BIN/etcd.version"
    log "etcd v$v done" )
}

go_install() { # name version module-path/cmd
  local name="$1" v="$2" pkg="$3"
  if stamp_ok "$name" "$v"; then log "$name $v cached"; return; fi
  log "$name $v: go install $pkg@$v"
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" GOFLAGS= go install -trimpath -ldflags "-s -w" "$pkg@$v"
  mv "$tmp"/* "$BIN/$name"
  rmdir "$tmp"
  echo "$v" > "$BIN/$name.version"
}

build_nack() {
  # `go install github.com/nats-io/nack/cmd/jetstream-controller@<v>` fails behind a module proxy that
  # refuses the @v/list of github.com/nats-io/nack (go install reads it for deprecation notices), so
  # build it from a wrapper module pinned to one version, as for etcd. Its CRDs stay in the module
  # cache: $(go env GOMODCACHE)/github.com/nats-io/nack@v$NACK_VERSION/deploy/crds.yml.
  local v="$NACK_VERSION"
  if stamp_ok jetstream-controller "$v"; then log "jetstream-controller v$v cached"; return; fi
  local dir="$CACHE/build/nack-$v"
  mkdir -p "$dir"
  printf 'module seam.local/nackbuild\n\ngo 1.23\n\nrequire github.com/nats-io/nack v%s\n' "$v" > "$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/nats-io/nack/cmd/jetstream-controller"\n' > "$dir/tools.go"
  ( cd "$dir"
    log "jetstream-controller v$v: building"
    go build -p 2 -trimpath -ldflags "-s -w" -o "$BIN/jetstream-controller.tmp" github.com/nats-io/nack/cmd/jetstream-controller
    mv "$BIN/jetstream-controller.tmp" "$BIN/jetstream-controller"
    echo "$v" > "$BIN/jetstream-controller.version"
    log "jetstream-controller v$v done" )
}

what="${1:-all}"
case "$what" in
  k8s) build_k8s ;;
  etcd) build_etcd ;;
  toxiproxy) go_install toxiproxy-server "v$TOXIPROXY_VERSION" github.com/Shopify/toxiproxy/v2/cmd/server ;;
  nack) build_nack ;;
  natscli) go_install nats "$NATSCLI_VERSION" github.com/nats-io/natscli/nats ;;
  all)
    go_install toxiproxy-server "v$TOXIPROXY_VERSION" github.com/Shopify/toxiproxy/v2/cmd/server
    build_etcd
    build_k8s ;;
  *) echo "unknown target: $what" >&2; exit 2 ;;
esac
