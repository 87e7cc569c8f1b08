"""Predictions of the Python library lifetimes 0.11.3, for cross-checking winback's formulas.

Run: python3 make_lifetimes_reference.py   (needs `pip install lifetimes==0.11.3`).
Fits each model with lifetimes on the bundled data, then writes its parameters and its
predictions for a spread of customer histories to lifetimes_reference.csv.
"""
import csv
import numpy as np
import pandas as pd
from lifetimes import (BetaGeoFitter, ParetoNBDFitter, ModifiedBetaGeoFitter,
                       GammaGammaFitter, BetaGeoBetaBinomFitter)

s = pd.read_csv("cdnow_customers_summary_with_transactions.csv")
histories = [(0, 0.0, 38.86), (0, 0.0, 32.0), (1, 1.71, 38.86), (2, 30.43, 38.86), (7, 29.43, 35.0),
             (14, 37.5, 38.0), (3, 5.0, 38.86), (20, 10.0, 39.0), (1, 38.0, 38.86), (5, 0.5, 30.0)]
rows = []


def emit(model, params, x, tx, T, t, quantity, value):
    rows.append([model] + [repr(float(p)) for p in params] + [x, tx, T, t, quantity, repr(float(np.asarray(value).ravel()[0]))])


for name, cls, keys in [("bgnbd", BetaGeoFitter, "r alpha a b"), ("paretonbd", ParetoNBDFitter, "r alpha s beta"),
                        ("mbgnbd", ModifiedBetaGeoFitter, "r alpha a b")]:
    f = cls().fit(s.x, s.t_x, s["T"])
    p = [f.params_[k] for k in keys.split()]
    for x, tx, T in histories:
        emit(name, p, x, tx, T, 0, "prob_alive", f.conditional_probability_alive(x, tx, T))
        for t in (1.0, 10.0, 39.0, 100.0):
            emit(name, p, x, tx, T, t, "expected_purchases", f.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T))
    for t in (1.0, 10.0, 39.0, 100.0):
        emit(name, p, 0, 0, 0, t, "expected_purchases_new", f.expected_number_of_purchases_up_to_time(t))
    if name == "bgnbd":
        for n in (0, 1, 2, 5, 10):
            emit(name, p, n, 0, 0, 39.0, "prob_purchases", f.probability_of_n_purchases_up_to_time(39.0, n))

rep = s[s.x > 0]
g = GammaGammaFitter().fit(rep.x, rep.zbar)
p = [g.params_[k] for k in ("p", "q", "v")]
for x, z in [(1, 11.77), (2, 22.35), (7, 48.0), (30, 5.5)]:
    emit("gammagamma", p, x, z, 0, 0, "expected_spend", g.conditional_expected_average_profit(pd.Series([x]), pd.Series([z])).iloc[0])

d = pd.read_csv("donations.csv")
b = BetaGeoBetaBinomFitter().fit(d.frequency, d.recency, d.periods, weights=d.weights)
p = [b.params_[k] for k in ("alpha", "beta", "gamma", "delta")]
for x, tx, n in [(0, 0, 6), (1, 1, 6), (3, 5, 6), (6, 6, 6), (2, 3, 6)]:
    emit("bgbb", p, x, tx, n, 0, "prob_alive", b.conditional_probability_alive(1, np.array([x]), np.array([tx]), np.array([n])))
    for m in (1, 5, 10):
        emit("bgbb", p, x, tx, n, m, "expected_purchases", b.conditional_expected_number_of_purchases_up_to_time(m, np.array([x]), np.array([tx]), np.array([n])))

with open("lifetimes_reference.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["model", "p1", "p2", "p3", "p4", "x", "t_x", "T", "t", "quantity", "value"])
    for r in rows:
        if len(r) == 10:  # three-parameter model
            r = r[:4] + [""] + r[4:]
        w.writerow(r)
