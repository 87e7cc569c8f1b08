"""Alternating A/B timing of winback binaries on one command line.

    python3 bench/ab.py 16 /tmp/wb-old,target/release/winback summary -f csv \
        --transactions bench/out/log_1000000.csv --observation-end 2025-12-31

Runs each binary in turn N times (so the machine's drift hits both alike) and
prints min, first quartile, median and max wall seconds per binary. Compare
medians as well as minima: a variant with bimodal times wins on the minimum.
"""
import subprocess
import sys
import time


def main():
    n, bins, args = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]
    times = {b: [] for b in bins}
    for _ in range(n):
        for b in bins:
            t = time.perf_counter()
            subprocess.run([b, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[b].append(time.perf_counter() - t)
    for b in bins:
        t = sorted(times[b])
        print(f"{b:32s} min {t[0]:.3f}  q1 {t[len(t) // 4]:.3f}  med {t[len(t) // 2]:.3f}  max {t[-1]:.3f}")


if __name__ == "__main__":
    main()
