#!/usr/bin/env bash
# bench/export.sh [QUICKBOOT]: `quickboot export` figures (issue 5):
#  - full export vs the reference tools' work (bench/lib/ref_export.py), on a Debian
#    minbase tree (debootstrap, cached) and on 100,000 generated small files;
#  - large-file throughput vs `openssl speed -evp sha256` x cores;
#  - re-export after changing one file; peak memory; io_uring vs the pread fallback.
# Trees are cached under ~/.cache/quickboot/bench. Needs root (debootstrap), python3,
# /usr/bin/time (package `time`). Run it on an otherwise idle machine, and not within a
# few minutes of deleting a large tree on the same ext4 filesystem (without a journal,
# ext4 steps over recently freed inodes one by one: see new_out in lib/export_bench.py).
# Outputs are kept until the end (several GB under $TMPDIR or /var/tmp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
QB=$(realpath "${1:-$here/../build/quickboot}")
C=${QB_BENCH_CACHE:-$HOME/.cache/quickboot/bench}
mkdir -p "$C"
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
if [ ! -d "$C/minbase/usr" ]; then
  echo "bench: building the minbase tree with debootstrap (once)" >&2
  rm -rf "$C/minbase.tmp"
  debootstrap --variant=minbase bookworm "$C/minbase.tmp" "$("$here/../scripts/debian-mirror.sh")" >"$C/debootstrap.log" 2>&1 \
    || { tail "$C/debootstrap.log" >&2; exit 1; }
  mv "$C/minbase.tmp" "$C/minbase"
fi
if [ ! -f "$C/small100k/.done" ]; then
  rm -rf "$C/small100k"; mkdir -p "$C/small100k"
  python3 "$here/lib/gen_small_tree.py" "$C/small100k" 100000
  touch "$C/small100k/.done"
fi
if [ ! -f "$C/large/.done" ]; then
  rm -rf "$C/large"; mkdir -p "$C/large"
  for i in 1 2 3 4; do head -c 512M /dev/urandom > "$C/large/f$i"; done
  touch "$C/large/.done"
fi
W=$(mktemp -d "${TMPDIR:-/var/tmp}/qb-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
python3 "$here/lib/export_bench.py" "$QB" "$C" "$W"
