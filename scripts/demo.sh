#!/usr/bin/env bash
# The main job on a built-in default: set up, fetch Debian's current kernel package,
# add it to the store and show what was found.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
qb=./build/quickboot
deb=$(kernels/debian.sh amd64)
echo "== quickboot kernel add $deb --default"
$qb kernel add "$deb" --default
echo "== quickboot kernel list"
$qb kernel list
