"""20 signed-in clients on the dashboard's pages, bounded; prints latency per page.

    python3 bench/dashboard_load.py BASE EMAIL PASSWORD CUSTOMER CAMPAIGN [CLIENTS] [ROUNDS]
"""
import concurrent.futures as cf
import http.client
import sys
import time
import urllib.parse

base, email, password, customer, campaign = sys.argv[1:6]
clients = int(sys.argv[6]) if len(sys.argv) > 6 else 20
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 25
u = urllib.parse.urlparse(base)


def login():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = urllib.parse.urlencode({"email": email, "password": password})
    c.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
    r = c.getresponse()
    r.read()
    assert r.status == 303, r.status
    return r.getheader("Set-Cookie").split(";")[0]


pages = {
    "overview": "/",
    "customers page": "/customers?decision=win_back&page=3",
    "customer page": "/customers/" + urllib.parse.quote(customer),
    "campaign report": "/campaigns/" + urllib.parse.quote(campaign),
}


def fetch(cookie, path):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    t0 = time.perf_counter()
    c.request("GET", path, headers={"Cookie": cookie})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, time.perf_counter() - t0


cookies = [login() for _ in range(clients)]
print("warm-up (the first request on a changed store assesses every customer):")
for name, path in pages.items():
    s, t = fetch(cookies[0], path)
    print(f"  {name}: {t * 1e3:.0f} ms (HTTP {s})")


def client(i):
    out = []
    for r in range(rounds):
        for name, path in pages.items():
            s, t = fetch(cookies[i], path)
            out.append((name, s, t))
    return out


t0 = time.perf_counter()
with cf.ThreadPoolExecutor(clients) as ex:
    results = [x for part in ex.map(client, range(clients)) for x in part]
wall = time.perf_counter() - t0
print(f"{clients} clients x {rounds} rounds x {len(pages)} pages = {len(results)} requests in {wall:.1f} s:")
ok = True
for name in pages:
    lat = sorted(t for n, s, t in results if n == name)
    bad = sum(1 for n, s, t in results if n == name and s != 200)
    p = lambda q: lat[min(len(lat) - 1, int(q / 100 * len(lat)))] * 1e3
    print(f"  {name:16} p50 {p(50):7.1f} ms  p95 {p(95):7.1f} ms  max {lat[-1] * 1e3:7.1f} ms  non-200: {bad}")
    ok = ok and bad == 0
sys.exit(0 if ok else 1)
