#!/usr/bin/env bash
# Runs a command with the project's pinned Node and built toolchain on PATH.
source "$(dirname "$0")/lib/env.sh"
exec "$@"
