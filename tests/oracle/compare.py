#!/usr/bin/env python3
"""Compares what one hook adds to a mkinitcpio image and to a quickboot image.

Usage: compare.py MK_BASELINE MK_FULL QB_BASELINE QB_FULL (tree_list outputs). Prints one
summary line; the differences, one a line, on stderr. What a hook adds is its image
minus the baseline image of the same builder. An entry one builder adds is a difference
only when the other's image lacks it altogether (quickboot's base always holds busybox
and the 9p modules, mkinitcpio adds them with `base`), and entries that are each
builder's own bookkeeping (docs/initcpio-compat.md) are left out."""
import re
import sys

# Each builder's own files: mkinitcpio's buildconfig, ld.so.cache and depmod indexes;
# quickboot's /qb; the /config both write in their own format.
OWN = re.compile(r"^(buildconfig|config|etc/ld\.so\.cache|qb(/.*)?|usr/lib/modules/[^/]+/modules\.[^/]+)$")


def load(path):
    mods, files = set(), {}
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("module "):
            mods.add(line[7:])
            continue
        p, kind, target, h = line.split("\t")
        if not OWN.match(p):
            files[p] = (kind, target, h)
    return mods, files


mk_base_m, mk_base_f = load(sys.argv[1])
mk_m, mk_f = load(sys.argv[2])
qb_base_m, qb_base_f = load(sys.argv[3])
qb_m, qb_f = load(sys.argv[4])
mk_add = {p: v for p, v in mk_f.items() if mk_base_f.get(p) != v}
qb_add = {p: v for p, v in qb_f.items() if qb_base_f.get(p) != v}
only_mk = sorted(p for p in mk_add if p not in qb_f)
only_qb = sorted(p for p in qb_add if p not in mk_f)
changed = sorted(p for p in set(mk_add) | set(qb_add) if p in mk_f and p in qb_f and mk_f[p] != qb_f[p])
mk_mods, qb_mods = mk_m - mk_base_m, qb_m - qb_base_m
mods_only_mk, mods_only_qb = sorted(mk_mods - qb_m), sorted(qb_mods - mk_m)
n = len(only_mk) + len(only_qb) + len(changed)
parts = ["files same" if n == 0 else f"files -{len(only_mk)} +{len(only_qb)} ~{len(changed)}"]
mods = f"modules {len(mk_mods)}/{len(qb_mods)}"
if mods_only_mk or mods_only_qb:
    mods += f" (-{len(mods_only_mk)} +{len(mods_only_qb)})"
parts.append(mods)
print(", ".join(parts))
for p in only_mk:
    print("  only mkinitcpio: " + p + " " + " ".join(mk_f[p]), file=sys.stderr)
for p in only_qb:
    print("  only quickboot:  " + p + " " + " ".join(qb_f[p]), file=sys.stderr)
for p in changed:
    print(f"  differs: {p} mkinitcpio {mk_f[p]} quickboot {qb_f[p]}", file=sys.stderr)
for m in mods_only_mk:
    print("  module only mkinitcpio: " + m, file=sys.stderr)
for m in mods_only_qb:
    print("  module only quickboot: " + m, file=sys.stderr)
