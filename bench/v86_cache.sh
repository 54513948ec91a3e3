#!/usr/bin/env bash
# bench/v86_cache.sh [QUICKBOOT]: blobs fetched by v86 while a real Debian i386 tree boots
# in headless Chromium, with the bundle's default 9p mount (rootflags=cache=loose) and
# without it (--append rootflags=: no guest page cache), in the same run. The tree
# (minbase-i386, or $QB_BENCH_TREE) is copied and given an init that runs a few of its
# programs, the way a boot does; each boot counts the page's blob responses and bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
QB=$(realpath "${1:-$here/../build/quickboot}")
tree=${QB_BENCH_TREE:-$("$here/../tests/trees/debian.sh" minbase-i386)}
modules=$(bash "$here/../tests/v86/install_puppeteer.sh")
bash "$here/../tests/v86/install_v86.sh" >/dev/null
W=$(mktemp -d "${TMPDIR:-/var/tmp}/qb-v86-cache.XXXXXX")
spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$W"' EXIT
export QUICKBOOT_HOME=${QB_BENCH_HOME:-$HOME/.cache/quickboot/bench-home-686}
if ! grep -q '"i686"' <<<"$("$QB" kernel list --json 2>/dev/null)"; then
  "$QB" -q kernel add "$("$here/../kernels/debian.sh" 686)" >/dev/null
fi
kid=$("$QB" --json kernel list | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin) if k["arch"]=="i686"][0]["id"])')
cp -a "$tree" "$W/tree"
rm -f "$W/tree/sbin/init"
cat >"$W/tree/sbin/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc 2>/dev/null
for i in 1 2 3; do
  dpkg-query -W >/dev/null; ls -l /usr/bin >/dev/null; sort /etc/services | md5sum >/dev/null; date >/dev/null
done
echo "qb-cache-bench: done $(dpkg-query -W | wc -l) packages" >/dev/ttyS0
exec /bin/sh
INIT
chmod 755 "$W/tree/sbin/init"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ); tree $tree"
printf '%-34s %8s %10s %10s %8s\n' "9p mount" "blobs" "MiB" "network" "boot s"
for variant in loose none; do
  args=(); [ $variant = none ] && args=(--append rootflags=)
  rm -rf "$W/site"
  "$QB" -q export "$W/tree" --out "$W/site" --kernel "$kid" "${args[@]}" 2>/dev/null
  rm -f "$W/url"
  "$QB" serve "$W/site" --port 0 >"$W/url" 2>/dev/null & spid=$!
  for _ in $(seq 1 100); do [ -s "$W/url" ] && break; sleep 0.1; done
  node "$here/../tests/v86/browser_boot.mjs" "$modules" "$(awk '{print $NF}' "$W/url")" "qb-cache-bench: done" 2400 \
    "$W/chromium-$variant" "$W/serial-$variant" >"$W/$variant.json" || { cat "$W/$variant.json"; tail -c 2000 "$W/serial-$variant"; exit 1; }
  kill $spid; wait $spid 2>/dev/null || true; spid=
  python3 - "$W/$variant.json" "$variant" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
name = {"loose": "rootflags=cache=loose (default)", "none": "no cache option (rootflags=)"}[sys.argv[2]]
print(f"{name:34} {s['blob_responses']:8} {s['blob_bytes'] / 2**20:10.1f} {s['blob_network']:10} {s['marker_after_s']:8}")
PY
done | tee "$W/table"
python3 - "$W/loose.json" "$W/none.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
print(f"ratio: without the cache option the boot fetched {b['blob_responses'] / a['blob_responses']:.1f}x the blobs "
      f"and {b['blob_bytes'] / max(a['blob_bytes'], 1):.1f}x the bytes")
PY
