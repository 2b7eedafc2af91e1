#!/usr/bin/env bash
# The one command that runs every test (npm test; .ci/run calls it). It sets the machine up
# (cached), lints, starts ONE real local Kubernetes control plane for the whole run, runs every
# compiled spec with Node's test runner, and tears the cluster down.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
bash scripts/setup.sh
echo "[test] lint" >&2
# The module-boundary rule reads the Nx project graph; build it first (no daemon in CI).
NX_DAEMON=false nx show projects >/dev/null
eslint --max-warnings=0 libs services packages e2e bench
prettier --check --log-level warn 'libs/**/*.ts' 'services/**/*.ts' 'packages/**/*.ts' 'e2e/**/*.ts' 'bench/**/*.ts'
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/capstan-test-cluster.XXXXXX")
cleanup() { node libs/testing/dist/cluster-cli.js stop --dir "$run_dir" >/dev/null 2>&1 || true; rm -rf "$run_dir"; }
trap cleanup EXIT
t0=$(date +%s)
CAPSTAN_TEST_KUBECONFIG=$(node libs/testing/dist/cluster-cli.js start --dir "$run_dir")
export CAPSTAN_TEST_KUBECONFIG
echo "[test] cluster up in $(( $(date +%s) - t0 ))s" >&2
mapfile -t specs < <(find libs services packages e2e -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.spec.js' -print | sort)
# Two workers on two cores; each spec file is its own process with its own database and stream prefix.
# --test-force-exit: a spec file whose tests are done but which leaves a handle open (a watch, a
# pooled API connection) must not hold the whole run until CI's limit; its results are already in.
node --test --test-concurrency=2 --test-timeout=600000 --test-force-exit "${specs[@]}"
