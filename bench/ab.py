"""Alternating A/B timing of winback binaries on one command line.

    python3 bench/ab.py 16 /tmp/wb-old,target/release/winback summary -f csv \
        --transactions bench/out/log_1000000.csv --observation-end 2025-12-31

Runs each binary in turn N times (so the machine's drift hits both alike) and
prints min, first quartile, median and max wall seconds per binary. Compare
medians as well as minima: a variant with bimodal times wins on the minimum.

A binary given as `NAME=VALUE:path` runs with that environment variable set
(an experiment built behind a switch, against itself without it:
`WB_X=1:/tmp/wb,/tmp/wb`). AB_OUT=FILE writes standard output to FILE
instead of /dev/null (a real file costs what users pay).
"""
import os
import subprocess
import sys
import time


def main():
    n, bins, args = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]
    times = {b: [] for b in bins}
    out = os.environ.get("AB_OUT")
    for _ in range(n):
        for b in bins:
            path, env = split_env(b)
            sink = open(out, "wb") if out else subprocess.DEVNULL
            t = time.perf_counter()
            subprocess.run([path, *args], stdout=sink, stderr=subprocess.DEVNULL, check=True, env=env)
            times[b].append(time.perf_counter() - t)
            if out:
                sink.close()
    for b in bins:
        t = sorted(times[b])
        d = 5 if t[-1] < 0.1 else 3  # milliseconds runs (CDNOW) need the digits
        print(f"{b:32s} min {t[0]:.{d}f}  q1 {t[len(t) // 4]:.{d}f}  med {t[len(t) // 2]:.{d}f}  max {t[-1]:.{d}f}")


def split_env(b):
    """`NAME=VALUE:path` → (path, environment with NAME set); a plain path → (path, None)."""
    head, sep, path = b.partition(":")
    if sep and "=" in head:
        name, value = head.split("=", 1)
        return path, {**os.environ, name: value}
    return b, None


if __name__ == "__main__":
    main()
