#!/usr/bin/env bash
# Crash safety: SIGKILL an export of a changed tree at 20 different points (each blob
# written, fs.json, state, prune), check that no fs.json ever names a missing blob,
# re-run, and compare with a fresh export of the same tree.
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
bash "$V86/make_tree.sh" "$T/src"
for i in $(seq 1 40); do printf 'old %s\n' "$i" > "$T/src/etc/f$i"; done
qb export "$T/src" --out "$T/base" --prune
# The change: 25 files rewritten, 5 removed, 5 added, a directory added.
sleep 0.02
for i in $(seq 1 25); do printf 'new %s\n' "$i" > "$T/src/etc/f$i"; done
for i in $(seq 36 40); do rm "$T/src/etc/f$i"; done
mkdir -p "$T/src/new"; for i in $(seq 1 5); do printf 'added %s\n' "$i" > "$T/src/new/a$i"; done
qb export "$T/src" --out "$T/fresh" --prune

blobs_ok() {  # every blob fs.json names is in place
  python3 - "$1" <<'PY'
import json, os, sys
d = sys.argv[1]
def walk(es):
    for e in es:
        if len(e) == 7:
            if isinstance(e[6], list): walk(e[6])
            elif (e[3] & 0o170000) == 0o100000 and not os.path.exists(os.path.join(d, e[6])):
                sys.exit(f"fs.json names missing blob {e[6]}")
walk(json.load(open(os.path.join(d, "fs.json")))["fsroot"])
PY
}
listing() { (cd "$1" && ls | sort && cat fs.json | sha256sum); }
listing "$T/fresh" > "$T/want"
killed=0
for point in $(seq 1 20); do
  rm -rf "$T/run"; cp -a "$T/base" "$T/run"
  rc=0
  QUICKBOOT_CRASH_AT=$point "$QUICKBOOT" -q export "$T/src" --out "$T/run" --prune 2>/dev/null || rc=$?
  [ "$rc" -eq 137 ] && killed=$((killed + 1))
  blobs_ok "$T/run" || fail "point $point: fs.json names a missing blob"
  qb -q export "$T/src" --out "$T/run" --prune
  blobs_ok "$T/run" || fail "point $point: after the re-run"
  listing "$T/run" > "$T/got"
  diff "$T/want" "$T/got" || fail "point $point: re-run differs from a fresh export"
  python3 "$V86/check_fs_json.py" "$T/src" "$T/run" >/dev/null || fail "point $point: check_fs_json"
done
[ "$killed" -ge 20 ] || fail "only $killed of 20 runs were killed: too few crash points"
echo "export_crash: 20 kill points ok"
