"""Median seconds per stage of alternating `winback -v` runs of several binaries.

    python3 bench/stages.py 10 /tmp/wb-old,target/release/winback predict \
        --transactions bench/out/log_1000000.csv --observation-end 2025-12-31 \
        --time-unit week -m bgnbd --horizon 52 -f csv

Each binary runs in turn N times (so the machine's drift hits all alike); the
stage times are the `secs=` fields `-v` logs (read, summarise, fit, score,
rank, write). Medians per stage, and their sum, per binary; a stage one
binary does not log (say, summarising and writing done as one) shows a dash.
Last, not in the sum, the end of the process: wall time from the last log
line to the process being reaped (dropping, unmapping, the exit). A binary
given as `NAME=VALUE:path` runs with that variable set (see ab.py).
"""
import collections
import datetime
import re
import statistics
import subprocess
import sys
import time

from ab import split_env


def main():
    n, bins, args = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]
    res = {b: collections.defaultdict(list) for b in bins}
    ends = {b: [] for b in bins}
    for _ in range(n):
        for b in bins:
            path, env = split_env(b)
            r = subprocess.run([path, "-v", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
            reaped = time.time()
            stamps = re.findall(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z", re.sub(r"\x1b\[[0-9;]*m", "", r.stderr))
            if stamps:
                last = datetime.datetime.fromisoformat(stamps[-1][:26]).replace(tzinfo=datetime.timezone.utc)
                ends[b].append(reaped - last.timestamp())
            for line in r.stderr.splitlines():
                line = re.sub(r"\x1b\[[0-9;]*m", "", line)
                m = re.search(r"INFO \S+: (.*?)(?: \w+=.*)? secs=([0-9.]+)", line)
                if m:
                    key = re.sub(r"(columns|rows|customers|model|evaluations)=\S+", "", m.group(1)).strip()[:28]
                    res[b][key].append(float(m.group(2)))
    print(f"{'stage':30s}" + "".join(f"{b[-16:]:>18s}" for b in bins))
    # stages in the order they first appear; a binary without one shows a dash
    stages = list(dict.fromkeys(k for b in bins for k in res[b]))
    for k in stages:
        print(f"{k:30s}" + "".join(f"{statistics.median(res[b][k]):18.3f}" if res[b].get(k) else f"{'-':>18s}"
                                   for b in bins))
    print(f"{'sum':30s}" + "".join(f"{sum(statistics.median(v) for v in res[b].values()):18.3f}" for b in bins))
    print(f"{'end of process (not summed)':30s}"
          + "".join(f"{statistics.median(ends[b]):18.3f}" if ends[b] else f"{'-':>18s}" for b in bins))


if __name__ == "__main__":
    main()
