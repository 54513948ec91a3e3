#!/usr/bin/env python3
"""Drives `quickboot --json watch` and times each cycle from the write that caused it
to the cycle's JSON line (which quickboot prints when the action is done).
  watch_bench.py export QB TREE OUT N     write -> updated fs.json, N samples
  watch_bench.py hook   QB ROOTFS HOOKS N  hook write -> guest at userspace, N samples
Prints one line per sample and the median, in ms."""
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time


def start(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p


def next_cycle(p, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        line = p.stdout.readline()
        if not line:
            raise SystemExit("watch exited early")
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit("timed out waiting for a watch cycle")


def stop(p):
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()


def main():
    mode, qb = sys.argv[1], sys.argv[2]
    samples = []
    if mode == "export":
        tree, out, n = sys.argv[3], sys.argv[4], int(sys.argv[5])
        p = start([qb, "--json", "watch", tree, "--no-guest", "--export", out])
        try:
            time.sleep(0.5)
            # wait for the initial export: fs.json present
            while not os.path.exists(os.path.join(out, "fs.json")):
                time.sleep(0.05)
            time.sleep(1.0)
            target = os.path.join(tree, "etc", "quickboot-bench")
            for i in range(n):
                t0 = time.monotonic()
                with open(target, "w") as f:
                    f.write(f"sample {i} {time.time()}\n")
                c = next_cycle(p, 30)
                ms = (time.monotonic() - t0) * 1000
                samples.append(ms)
                print(f"  sample {i + 1}: {ms:.0f} ms ({c.get('summary', '')})")
                time.sleep(0.3)
        finally:
            stop(p)
            try:
                os.remove(os.path.join(tree, "etc", "quickboot-bench"))
            except OSError:
                pass
    else:
        rootfs, hooks, n = sys.argv[3], sys.argv[4], int(sys.argv[5])
        hook = os.path.join(hooks, "hooks", "bench")
        with open(hook, "w") as f:
            f.write('run_hook() { echo "bench hook 0"; }\n')
        p = start([qb, "--json", "watch", rootfs, "--hooks", hooks, "--hook", "bench", "--headless"])
        try:
            next_cycle(p, 300)  # first boot
            for i in range(n):
                time.sleep(0.5)
                t0 = time.monotonic()
                with open(hook, "w") as f:
                    f.write(f'run_hook() {{ echo "bench hook {i + 1}"; }}\n')
                c = next_cycle(p, 300)
                ms = (time.monotonic() - t0) * 1000
                if not c.get("ok"):
                    raise SystemExit(f"cycle failed: {c}")
                samples.append(ms)
                print(f"  sample {i + 1}: {ms:.0f} ms ({c.get('summary', '')})")
        finally:
            stop(p)
    print(f"median {statistics.median(samples):.0f}")


main()
