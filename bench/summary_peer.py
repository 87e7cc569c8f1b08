"""The summary step in DuckDB and polars, the engines an analyst would reach for.

Usage: summary_peer.py duckdb|polars LOG.csv OBSERVATION_END OUT.csv

Writes the same table as `winback summary -f csv` (daily periods): one row per
customer with frequency (distinct purchase days − 1), recency and T in days,
the mean of the repeat days' totals, first and last purchase day. Two threads,
as the machine has. Prints one JSON object: seconds inside the engine (library
import and interpreter start-up excluded, which favours the peer) and the
column sums, so the driver can check the outputs agree.
"""
import json
import os
import sys
import time

engine, log, end, out = sys.argv[1:5]

if engine == "duckdb":
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    query = f"""
    COPY (
      WITH days AS (
        SELECT customer_id, date AS day, sum(amount) AS total
        FROM read_csv('{log}', header = true, columns = {{'customer_id': 'VARCHAR', 'date': 'DATE', 'amount': 'DOUBLE'}})
        WHERE date <= DATE '{end}' AND amount >= 0
        GROUP BY ALL
      )
      SELECT customer_id AS customer,
             count(*) - 1 AS frequency,
             CAST(max(day) - min(day) AS DOUBLE) AS recency,
             CAST(DATE '{end}' - min(day) AS DOUBLE) AS T,
             CASE WHEN count(*) > 1 THEN (sum(total) - arg_min(total, day)) / (count(*) - 1) ELSE 0 END AS monetary_value,
             min(day) AS first_purchase,
             max(day) AS last_purchase
      FROM days GROUP BY customer_id
    ) TO '{out}' (HEADER, DELIMITER ',')
    """
    t = time.perf_counter()
    con.execute(query)
    secs = time.perf_counter() - t
    sums = con.execute(f"SELECT count(*), sum(frequency), sum(recency), sum(T), sum(monetary_value) FROM read_csv('{out}')").fetchone()
elif engine == "polars":
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    import datetime as dt

    import polars as pl

    end_day = dt.date.fromisoformat(end)
    t = time.perf_counter()
    days = (
        pl.scan_csv(log, schema={"customer_id": pl.Utf8, "date": pl.Date, "amount": pl.Float64})
        .filter((pl.col("date") <= end_day) & (pl.col("amount") >= 0))
        .group_by("customer_id", "date")
        .agg(pl.col("amount").sum().alias("total"))
    )
    summary = days.group_by("customer_id").agg(
        (pl.len() - 1).alias("frequency"),
        (pl.col("date").max() - pl.col("date").min()).dt.total_days().cast(pl.Float64).alias("recency"),
        (pl.lit(end_day) - pl.col("date").min()).dt.total_days().cast(pl.Float64).alias("T"),
        pl.when(pl.len() > 1)
        .then((pl.col("total").sum() - pl.col("total").sort_by("date").first()) / (pl.len() - 1))
        .otherwise(0.0)
        .alias("monetary_value"),
        pl.col("date").min().alias("first_purchase"),
        pl.col("date").max().alias("last_purchase"),
    ).rename({"customer_id": "customer"})
    summary.sink_csv(out)
    secs = time.perf_counter() - t
    s = pl.read_csv(out)
    sums = (len(s), s["frequency"].sum(), s["recency"].sum(), s["T"].sum(), s["monetary_value"].sum())
else:
    sys.exit(f"unknown engine {engine}")

print(json.dumps({"seconds": secs, "sums": [float(v) for v in sums]}))
