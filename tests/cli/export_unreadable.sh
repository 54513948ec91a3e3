#!/usr/bin/env bash
# Unreadable files and directories: an error listing every one of them, nothing
# published; --skip-unreadable leaves them out with a warning. Root reads everything,
# so the export runs as nobody.
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
[ "$(id -u)" = 0 ] || skip "needs root to switch to nobody"
command -v setpriv >/dev/null || skip "setpriv missing"
chmod 755 "$T"
mkdir -p "$T/src/pub" "$T/src/secret-dir" "$T/o"
printf ok > "$T/src/pub/a"
printf no > "$T/src/pub/secret"; chmod 600 "$T/src/pub/secret"
printf no > "$T/src/secret-dir/x"; chmod 700 "$T/src/secret-dir"
chown 65534:65534 "$T/o"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$QUICKBOOT" "$@"; }
expect_fail 1 "cannot read 2 entries of $T/src:" -- nobody export "$T/src" --out "$T/o"
grep -qF "  secret-dir" "$T/err" || fail "directory not listed"
grep -qF "  pub/secret (Permission denied)" "$T/err" || fail "file not listed"
grep -qF "hint: fix their permissions, --exclude them, or pass --skip-unreadable" "$T/err" || fail "no hint"
[ ! -e "$T/o/fs.json" ] || fail "fs.json published after an error"
[ -z "$(ls "$T/o")" ] || fail "blobs left behind: $(ls "$T/o")"
nobody export "$T/src" --out "$T/o" --skip-unreadable 2>"$T/warn"
grep -qF "warning: skipping unreadable pub/secret" "$T/warn" || { cat "$T/warn"; fail "no warning"; }
python3 "$V86/check_fs_json.py" "$T/src" "$T/o" --skip pub/secret --skip secret-dir
echo "export_unreadable: ok"
