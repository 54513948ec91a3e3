#!/usr/bin/env bash
# --help teaches: examples for every kernel subcommand, exit 0.
source "$(dirname "$0")/../common.inc"
for sub in add list show rm default; do
  qb kernel "$sub" --help >"$T/help"
  grep -q "Example" "$T/help" || fail "kernel $sub --help has no examples"
done
grep -qF -- "--modules" <<<"$(qb kernel add --help)" || fail "--modules undocumented"
[ "$(qb --json kernel list)" = "[]" ] || fail "empty list json"
echo ok
