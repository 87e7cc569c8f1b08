"""Load on `winback serve` over loopback, bounded: it stops by itself.

50 idle connections are held open (a slow or stalled client each) while
SUBMISSIONS survey answers arrive CONCURRENCY at a time, each on its own
connection, and an import writes the same SQLite store meanwhile. Checks that
every answer is stored exactly once and nothing got a 5xx; prints latency
percentiles and throughput.

    python3 bench/serve_load.py BASE_URL LINKS_FILE STORE.db [SUBMISSIONS] [CONCURRENCY]

LINKS_FILE holds "customer<TAB>survey link" lines (`winback survey link A B …`).
"""
import concurrent.futures as cf
import http.client
import socket
import sqlite3
import sys
import time
import urllib.parse

base, links_file, db = sys.argv[1], sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
conc = int(sys.argv[5]) if len(sys.argv) > 5 else 100
u = urllib.parse.urlparse(base)
links = [l.split("\t")[1].strip() for l in open(links_file) if "\t" in l][:n]
assert len(links) == n, f"need {n} links, have {len(links)}"

idle = []
for _ in range(50):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"POST /s/x HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    idle.append(s)

body = urllib.parse.urlencode(
    [("category", "delivery"), ("suggestion", "faster couriers"), ("come_back", "maybe"), ("channel", "email")]
)


def submit(link):
    path = urllib.parse.urlparse(link).path
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, time.perf_counter() - t0


t0 = time.perf_counter()
with cf.ThreadPoolExecutor(conc) as ex:
    results = list(ex.map(submit, links))
wall = time.perf_counter() - t0
for s in idle:
    s.close()

statuses = {}
for s, _ in results:
    statuses[s] = statuses.get(s, 0) + 1
lat = sorted(t for _, t in results)
pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e3
con = sqlite3.connect(db, timeout=60)
answers = con.execute("SELECT COUNT(*) FROM survey_responses").fetchone()[0]
reasons = con.execute("SELECT COUNT(*) FROM reasons WHERE source = 'survey' AND recorded_by = 'survey'").fetchone()[0]
print(f"{n} survey answers, {conc} at a time, 50 idle connections open:")
print(f"  {wall:.2f} s, {n / wall:.0f} answers/s; latency p50 {pct(50):.1f} ms, p95 {pct(95):.1f} ms, p99 {pct(99):.1f} ms, max {lat[-1]*1e3:.1f} ms")
print(f"  statuses {statuses}; stored answers {answers}, survey reasons {reasons}")
ok = statuses == {200: n} and answers == n and reasons == n
print("  every answer stored exactly once, no 5xx" if ok else "  FAILED")
sys.exit(0 if ok else 1)
