"""Cores in use during each stage of one `winback -v` run, from perf samples.

    python3 bench/stage_cores.py predict --transactions bench/out/log_1000000.csv \
        --observation-end 2025-12-31 --time-unit week -m bgnbd --horizon 52 -f csv

Runs `perf record -F 4000` on target/release/winback (WINBACK overrides), then
counts each thread's samples inside each stage's window (the `secs=` of the
stages `-v` logs, ending at the log line's time): samples / 4000 / seconds is
the cores busy. Then, in a second run without perf, the wall time from the
last log line to the moment the process has been reaped (dropping and
unmapping its memory, and the exit). Needs `perf`; the
alignment of perf's clock with the log's is taken from the first sample, so
figures are good to a few ms.
"""
import datetime
import os
import re
import subprocess
import sys

HZ = 4000


def main():
    binary = os.environ.get("WINBACK", "target/release/winback")
    r = subprocess.run(["perf", "record", "-q", "-F", str(HZ), "-o", "/tmp/stage_cores.data", binary, "-v", *sys.argv[1:]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    logs = []
    for line in r.stderr.splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        m = re.match(r"(\S+)Z\s+INFO \S+: (.*?) (?:\w+=.*)?secs=([0-9.]+)", line)
        if m:
            t = datetime.datetime.strptime(m.group(1)[:26], "%Y-%m-%dT%H:%M:%S.%f")
            t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
            logs.append((t, m.group(2)[:28], float(m.group(3))))
    if not logs:
        sys.exit("no stage timings in the output (is it a command that logs them with -v?)")
    out = subprocess.run(["perf", "script", "-i", "/tmp/stage_cores.data", "-F", "tid,time"],
                         capture_output=True, text=True).stdout
    samples = [float(m.group(1)) for m in re.finditer(r"^\s*\d+\s+([\d.]+):", out, re.M)]
    # the first sample is taken as the process's start, ~3 ms before the first stage's
    offset = min(samples) - (logs[0][0] - logs[0][2] - 0.003)
    for t, name, secs in logs:
        n = sum(1 for x in samples if t - secs + offset <= x < t + offset)
        print(f"{name:30s} {1000 * secs:7.1f} ms  cores {n / HZ / secs:.2f}")
    end = logs[-1][0] + offset
    print(f"{'samples after the last line':30s} {1000 * (max(samples) - end):7.1f} ms")
    r = subprocess.run([binary, "-v", *sys.argv[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    reaped = datetime.datetime.now(datetime.timezone.utc).timestamp()
    last = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in r.stderr.splitlines() if "INFO" in line][-1]
    t = datetime.datetime.strptime(last[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
    print(f"{'last line to reaped (no perf)':30s} {1000 * (reaped - t):7.1f} ms")


if __name__ == "__main__":
    main()
