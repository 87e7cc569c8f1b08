#!/usr/bin/env python3
"""BG/NBD log-likelihood (FHL 2005 eq. 6) of a summary CSV at given
parameters, in 60-digit arithmetic (mpmath): the reference for a fit's
reported LL where doubles may lose it (tiny b, huge r).

    winback summary --transactions FILE --observation-end DATE -f csv > s.csv
    python3 bench/ll_check.py s.csv r alpha a b
"""
import csv
import sys

from mpmath import exp, log, loggamma, mp, mpf

mp.dps = 60
path, *params = sys.argv[1:]
r, al, a, b = map(mpf, params)
total = mpf(0)
for row in csv.DictReader(open(path)):
    x, tx, t = mpf(row["frequency"]), mpf(row["recency"]), mpf(row["T"])
    if t <= 0:
        continue  # new on the last day: left out of fits
    head = loggamma(r + x) - loggamma(r) + r * log(al)
    head += loggamma(b + x) - loggamma(a + b + x) - loggamma(b) + loggamma(a + b)
    a3 = -(r + x) * log(al + t)
    if x > 0:
        a4 = log(a / (b + x - 1)) - (r + x) * log(al + tx)
        total += head + log(exp(a3) + exp(a4))
    else:
        total += head + a3
print(mp.nstr(total, 15))
