#!/usr/bin/env bash
# Everything a fresh machine needs before Capstan builds, tests or runs: the pinned Node and npm
# packages, the Kubernetes toolchain built from Go modules, the Prisma client, and the build.
# Idempotent and cached (~/.cache/capstan): a warm run takes seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
t0=$(date +%s)
bash scripts/apt-packages.sh
bash scripts/node-setup.sh
bash scripts/k8s-setup.sh
bash scripts/local-services.sh
bash libs/db/scripts/generate.sh >/dev/null
tsc -b tsconfig.build.json
echo "[setup] ready in $(( $(date +%s) - t0 ))s" >&2
