"""The pandas an analyst would write for `winback lost` without winback: read the
order log, per-customer facts (orders, revenue, first/last order, usual gap),
the rhythm-based status (days since last order against 5 usual gaps, the shop's
median gap for one-time buyers), and the lost customers sorted by revenue.
Prints the wall time in seconds (whole script after imports)."""
import sys
import time

import pandas as pd

t0 = time.time()
path, end = sys.argv[1], pd.Timestamp(sys.argv[2])
df = pd.read_csv(path, parse_dates=["date"])
g = df.groupby("customer_id").agg(
    orders=("date", "size"), revenue=("amount", "sum"), first=("date", "min"), last=("date", "max")
)
gap = (g["last"] - g["first"]).dt.days / (g["orders"] - 1).where(g["orders"] > 1)
shop = gap[gap > 0].median()
usual = gap.fillna(shop).clip(lower=14)
since = (end - g["last"]).dt.days
g["status"] = "active"
g.loc[since > 2 * usual, "status"] = "at_risk"
g.loc[since > 3 * usual, "status"] = "lapsed"
g.loc[since > 5 * usual, "status"] = "lost"
lost = g[g["status"].isin(["lapsed", "lost"])].sort_values("revenue", ascending=False)
lost.to_csv("/dev/null")
print(f"{time.time() - t0:.2f}")
