#!/usr/bin/env bash
# Prints the directory of the v86 npm package, installing it once into a test-local
# cache (~/.cache/quickboot/npm, or $QB_NPM_CACHE) with `npm install --prefix`.
set -euo pipefail
prefix=${QB_NPM_CACHE:-$HOME/.cache/quickboot/npm}
if [ ! -f "$prefix/node_modules/v86/build/libv86.mjs" ]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund v86 >&2
fi
echo "$prefix/node_modules/v86"
