"""Driver for bench/run.sh: runs winback and the Python peer on the same files."""
import json
import os
import subprocess
import sys
import time

WINBACK = "target/release/winback"
OUT = "bench/out"
END = "2025-12-31"


def run_timed(cmd, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (KiB) of a command, via GNU time."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, check=True)
    secs, kib = r.stderr.strip().splitlines()[-1].split()
    return float(secs), int(kib), r


def best_of(n, cmd):
    best = None
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        d = time.perf_counter() - t
        best = d if best is None else min(best, d)
    return best


def peer(*args):
    r = subprocess.run([sys.executable, "bench/peer.py", *args], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(r.stdout)


def row(name, ours, theirs, note=""):
    print(f"| {name} | {ours:.3f} s | {theirs:.3f} s | {theirs / ours:.1f}x | {note} |")


def agree(ours, theirs, names, alias=None):
    alias = alias or {}
    worst = max(abs(ours[n] / theirs[alias.get(n, n)] - 1) for n in names)
    return f"max relative parameter difference {worst:.1e}"


def main():
    customers = int(sys.argv[1])
    print(f"# winback vs lifetimes 0.11.3 + pandas ({os.cpu_count()} cores)\n")
    print("| task | winback | lifetimes/pandas | speed-up | notes |")
    print("| --- | ---: | ---: | ---: | --- |")

    # 1. CDNOW: the published fit, process start-up included for winback.
    p = peer("cdnow", "tests/data/cdnow_customers_summary.csv")
    ours = json.loads(subprocess.run([WINBACK, "fit", "--summary", "tests/data/cdnow_customers_summary.csv", "-f", "json"],
                                     stdout=subprocess.PIPE, check=True).stdout)
    t = best_of(5, [WINBACK, "fit", "--summary", "tests/data/cdnow_customers_summary.csv", "-f", "json"])
    row("CDNOW BG/NBD fit (2,357 customers)", t, p["bgnbd_fit"], agree(ours["params"], p["bgnbd"], ["r", "alpha", "a", "b"]))
    ours_p = json.loads(subprocess.run([WINBACK, "fit", "--summary", "tests/data/cdnow_customers_summary.csv", "-m", "paretonbd", "-f", "json"],
                                       stdout=subprocess.PIPE, check=True).stdout)
    t = best_of(3, [WINBACK, "fit", "--summary", "tests/data/cdnow_customers_summary.csv", "-m", "paretonbd", "-f", "json"])
    row("CDNOW Pareto/NBD fit", t, p["paretonbd_fit"],
        f"LL winback {ours_p['log_likelihood']:.3f}; lifetimes stops at r={p['paretonbd']['r']:.4f} (tolerance)")

    # 2. A large synthetic log.
    log = f"{OUT}/log_{customers}.csv"
    if not os.path.exists(log):
        subprocess.run([WINBACK, "simulate", "--customers", str(customers), "--seed", "1", "--output", log], check=True,
                       stderr=subprocess.DEVNULL)
    lines = sum(1 for _ in open(log, "rb")) - 1
    size = os.path.getsize(log) / 1e6
    print(f"\nlog: {lines:,} transactions, {customers:,} customers, {size:.0f} MB\n")
    print("| task | winback | lifetimes/pandas | speed-up | notes |")
    print("| --- | ---: | ---: | ---: | --- |")
    wc, _, _ = run_timed(["wc", "-l", log])
    args = ["--transactions", log, "--observation-end", END, "--time-unit", "week"]
    t_sum, m_sum, _ = run_timed([WINBACK, "summary", *args, "-f", "csv"])
    t_fit, m_fit, r = run_timed([WINBACK, "fit", *args, "-f", "json"], stdout=subprocess.PIPE)
    fit = json.loads(r.stdout)
    t_pred, m_pred, _ = run_timed([WINBACK, "predict", *args, "--horizon", "52", "-f", "csv"])
    p = peer("log", log, END)
    row("read + summarise (CSV out)", t_sum, p["read_csv"] + p["summary"], f"`wc -l` alone: {wc:.2f} s")
    row("read + summarise + BG/NBD fit", t_fit, p["read_csv"] + p["summary"] + p["bgnbd_fit"],
        agree(fit["params"], p["bgnbd"], ["r", "alpha", "a", "b"]))
    row("whole pipeline: + Gamma-Gamma, score, rank", t_pred, p["total"],
        "winback also computes discounted CLV (monthly steps) per customer and writes the CSV")
    print(f"\npeak memory: winback predict {m_pred / 1024:.0f} MiB (summary {m_sum / 1024:.0f} MiB); "
          f"python {p['peak_kib'] / 1024:.0f} MiB")
    print(f"python breakdown: read_csv {p['read_csv']:.2f} s, summary {p['summary']:.2f} s, "
          f"BG/NBD fit {p['bgnbd_fit']:.2f} s, GG fit {p['gammagamma_fit']:.2f} s, score {p['score']:.2f} s")


main()
