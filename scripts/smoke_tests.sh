#!/usr/bin/env bash
# Operator entry point: a thin shim over `dhash smoke` (see `node dist/cli/main.js smoke --help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f dist/cli/main.js ]; then
  echo "dhash: dist/cli/main.js is missing; run npm ci first (it builds the toolkit)." >&2
  exit 2
fi
exec node dist/cli/main.js smoke "$@"
