#!/usr/bin/env bash
# Prints the node_modules directory holding puppeteer-core (pinned), installed once into
# the download cache. puppeteer-core never downloads a browser: the tests drive Debian's
# chromium (/usr/bin/chromium).
set -euo pipefail
version=23.11.1   # the last line that runs on Debian 12's node 18
prefix=${QUICKBOOT_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/quickboot/downloads}/puppeteer-core-$version
if [ ! -f "$prefix/node_modules/puppeteer-core/package.json" ]; then
  mkdir -p "$prefix.tmp"
  npm install --prefix "$prefix.tmp" --no-audit --no-fund --ignore-scripts --no-save "puppeteer-core@$version" >&2
  rm -rf "$prefix"; mv "$prefix.tmp" "$prefix"
fi
echo "$prefix/node_modules"
