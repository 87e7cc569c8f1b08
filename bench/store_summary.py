"""Summaries from the store: SQL (GROUP BY in SQLite, or in PostgreSQL through
psql) against winback's streaming path (load the rows, summarise in Rust), on
the same store.

  python3 bench/store_summary.py STORE.db OBSERVATION_END
  python3 bench/store_summary.py 'postgres://postgres@127.0.0.1:5432/test?schema=wb_bench' OBSERVATION_END
"""
import os
import datetime
import re
import sqlite3
import subprocess
import sys
import time

db, end = sys.argv[1], sys.argv[2]
end_day = (datetime.date.fromisoformat(end) - datetime.date(1970, 1, 1)).days

SQL = """
WITH d AS (SELECT customer_id, day, SUM(amount) AS v FROM transactions
           WHERE NOT is_return AND day <= ? GROUP BY customer_id, day),
     f AS (SELECT customer_id, MIN(day) AS first, MAX(day) AS last, COUNT(*) AS n FROM d GROUP BY customer_id)
SELECT f.customer_id, f.n - 1, f.last - f.first, ? - f.first,
       CASE WHEN f.n > 1 THEN (SUM(d.v) - SUM(CASE WHEN d.day = f.first THEN d.v ELSE 0 END)) / (f.n - 1) ELSE 0 END
FROM d JOIN f USING (customer_id) GROUP BY f.customer_id, f.n, f.first, f.last
"""
if db.startswith("postgres"):
    base, _, schema = db.partition("?schema=")
    env = dict(os.environ, PGOPTIONS=f"-c search_path={schema}" if schema else "")
    q = SQL.replace("?", str(end_day))
    t = time.perf_counter()
    out = subprocess.run(["psql", base, "-At", "-c", q], capture_output=True, text=True, check=True, env=env).stdout
    sql_secs = time.perf_counter() - t
    rows = out.splitlines()
    engine = "PostgreSQL (psql)"
else:
    t = time.perf_counter()
    con = sqlite3.connect(db)
    rows = con.execute(SQL, (end_day, end_day)).fetchall()
    sql_secs = time.perf_counter() - t
    engine = "sqlite3"

out = subprocess.run(["target/release/winback", "-v", "--db", db, "analyze", "--observation-end", end],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True).stderr
clean = re.sub(r"\x1b\[[0-9;]*m", "", out)
summarised = float(re.search(r"summarised .*secs=([0-9.]+)", clean).group(1))
print(f"| summary of {len(rows):,} customers from the store | SQL GROUP BY ({engine}) {sql_secs:.2f} s | "
      f"streaming load + Rust summary {summarised:.2f} s | {sql_secs / summarised:.1f}x |")
