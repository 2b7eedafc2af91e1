#!/usr/bin/env bash
# Generates the Prisma client into libs/db/src/generated/ (gitignored), so it must run before
# `tsc -b libs/db`. Safe to run repeatedly.
set -euo pipefail
db_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$db_dir/../../scripts/lib/env.sh"
# `prisma generate` needs no database and no schema engine, but the CLI insists the engine binary
# exists before it starts; it cannot be downloaded here, so point it at any existing file.
if [[ -z "${PRISMA_SCHEMA_ENGINE_BINARY:-}" || ! -e "${PRISMA_SCHEMA_ENGINE_BINARY}" ]]; then
  export PRISMA_SCHEMA_ENGINE_BINARY=/bin/true
fi
export PRISMA_HIDE_UPDATE_MESSAGE=1
cd "$db_dir"
rm -rf src/generated
prisma generate --config prisma.config.ts
