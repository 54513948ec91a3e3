#!/usr/bin/env python3
"""gen_small_tree.py DIR N: N small files (0-4 KiB, distinct contents) in 100 dirs."""
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
for i in range(n):
    sub = os.path.join(d, "d%03d" % (i % 100))
    if i < 100: os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%06d" % i), "wb") as f:
        f.write(b"%d\n" % i + rnd.randbytes(rnd.randint(0, 4096)))
