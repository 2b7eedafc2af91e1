#!/usr/bin/env bash
# npm run demo: Capstan's main job end to end on this machine (see e2e/src/demo/main.ts).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
bash scripts/setup.sh
node e2e/dist/demo/main.js
