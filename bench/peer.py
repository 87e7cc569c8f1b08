"""The peer a user would otherwise pick: pandas + lifetimes 0.11.3.

Usage:
  peer.py cdnow SUMMARY.csv            fit BG/NBD, Pareto/NBD, Gamma-Gamma on the CDNOW summary
  peer.py log LOG.csv OBSERVATION_END  read + summarise + fit + score a transaction log
  peer.py repeat SUMMARY.csv N         BG/NBD and Pareto/NBD .fit N times in one process (their spread)

Prints one JSON object of timings (seconds), parameters and peak memory (KiB).
"""
import json
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402


def timed(out, key, f):
    t = time.perf_counter()
    v = f()
    out[key] = time.perf_counter() - t
    return v


def cdnow(path):
    out = {}
    s = pd.read_csv(path)
    bg = timed(out, "bgnbd_fit", lambda: BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]))
    out["bgnbd"] = {k: float(v) for k, v in bg.params_.items()}
    pn = timed(out, "paretonbd_fit", lambda: ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"]))
    out["paretonbd"] = {k: float(v) for k, v in pn.params_.items()}
    pred = timed(
        out,
        "bgnbd_predict",
        lambda: (
            bg.conditional_probability_alive(s["frequency"], s["recency"], s["T"]),
            bg.conditional_expected_number_of_purchases_up_to_time(39, s["frequency"], s["recency"], s["T"]),
        ),
    )
    out["holdout_expected"] = float(pred[1].sum())
    return out


def log(path, end):
    out = {}
    df = timed(out, "read_csv", lambda: pd.read_csv(path, parse_dates=["date"]))
    s = timed(
        out,
        "summary",
        lambda: summary_data_from_transaction_data(
            df, "customer_id", "date", monetary_value_col="amount", observation_period_end=end, freq="D", freq_multiplier=7
        ),
    )
    out["customers"] = len(s)
    bg = timed(out, "bgnbd_fit", lambda: BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]))
    out["bgnbd"] = {k: float(v) for k, v in bg.params_.items()}
    rep = s[s["frequency"] > 0]
    gg = timed(out, "gammagamma_fit", lambda: GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"]))
    out["gammagamma"] = {k: float(v) for k, v in gg.params_.items()}

    def score():
        s["p_alive"] = bg.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
        s["expected"] = bg.conditional_expected_number_of_purchases_up_to_time(52, s["frequency"], s["recency"], s["T"])
        s["spend"] = gg.conditional_expected_average_profit(s["frequency"], s["monetary_value"])
        s["at_stake"] = (1 - s["p_alive"]) * s["monetary_value"] * (s["frequency"] + 1)
        return s.sort_values("at_stake", ascending=False)

    timed(out, "score", score)
    out["total"] = out["read_csv"] + out["summary"] + out["bgnbd_fit"] + out["gammagamma_fit"] + out["score"]
    return out


def repeat(path, n):
    s = pd.read_csv(path)
    out = {"bgnbd_fit": [], "paretonbd_fit": []}
    for _ in range(n):
        for key, fitter in [("bgnbd_fit", BetaGeoFitter), ("paretonbd_fit", ParetoNBDFitter)]:
            t = time.perf_counter()
            fitter().fit(s["frequency"], s["recency"], s["T"])
            out[key].append(round(time.perf_counter() - t, 4))
    return out


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "cdnow":
        res = cdnow(sys.argv[2])
    elif mode == "repeat":
        res = repeat(sys.argv[2], int(sys.argv[3]))
    else:
        res = log(sys.argv[2], sys.argv[3])
    res["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(res))
