#!/usr/bin/env bash
# npm run bench [-- <name>]: every benchmark, or one; results go to docs/benchmarks.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
bash scripts/setup.sh
node bench/dist/run.js "$@"
