#!/usr/bin/env bash
# Prints the directory of the v86 npm package, installing the version quickboot is tested
# with (kV86Version in src/cli/v86_runtime.hpp) once into the download cache, where
# `quickboot export --kernel` also looks ($QUICKBOOT_DOWNLOADS/v86-VERSION).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/.*kV86Version = "\([^"]*\)".*/\1/p' "$src/src/cli/v86_runtime.hpp")
prefix=${QUICKBOOT_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/quickboot/downloads}/v86-$version
if [ ! -f "$prefix/node_modules/v86/build/libv86.mjs" ]; then
  mkdir -p "$prefix.tmp"
  npm install --prefix "$prefix.tmp" --no-audit --no-fund --ignore-scripts --no-save "v86@$version" >&2
  rm -rf "$prefix"; mv "$prefix.tmp" "$prefix"
fi
echo "$prefix/node_modules/v86"
