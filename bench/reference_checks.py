#!/usr/bin/env python3
"""Independent references behind the fourteenth pass's figures (bench/README),
computed outside winback: scipy for likelihood modes, mpmath for special
functions. Needs scipy and mpmath (`bench/.venv/bin/pip install scipy mpmath`).

    bench/.venv/bin/python bench/reference_checks.py modes    # best BG/NBD, MBG/NBD LL on the two-customer base
    bench/.venv/bin/python bench/reference_checks.py hyp2f1   # ln 2F1(a,b;c;1-y), c-a-b at or near an integer
    bench/.venv/bin/python bench/reference_checks.py quad     # ln of A0-type integrals next to a pole

`modes` prints the best of 300 L-BFGS-B runs from random starts with the
log-parameters in [-10, 10] (the bounds keep it a hair below the maximum
at a, b -> inf). `hyp2f1` and `quad` print the rows the unit tests
`special::tests::near_one_with_an_integer_gap_is_fast_and_exact` and
`quadrature_next_to_a_pole_is_exact_and_stops_early` hold (and more).
"""
import sys


def modes():
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import betaln, gammaln

    # two customers: (x, t_x, T) = (4, 392, 392) and (2, 0.02, 20)
    X, TX, T = np.array([4, 2.0]), np.array([392, 0.02]), np.array([392, 20.0])

    def ll(th, modified):
        r, al, a, b = np.exp(th)
        s = 1.0 if modified else 0.0
        head = gammaln(r + X) - gammaln(r) + r * np.log(al) + betaln(a, b + X + s) - betaln(a, b)
        alive = -(r + X) * np.log(al + T)
        died = np.log(a / (b + X - 1 + s)) - (r + X) * np.log(al + TX)
        if not modified:
            died = np.where(X > 0, died, -np.inf)
        return np.sum(head + np.logaddexp(alive, died))

    for name, modified in (("BG/NBD", False), ("MBG/NBD", True)):
        rng = np.random.default_rng(1)
        best = None
        for _ in range(300):
            res = minimize(lambda t: -ll(t, modified), rng.uniform(-5, 8, 4), method="L-BFGS-B", bounds=[(-10, 10)] * 4)
            if best is None or res.fun < best.fun:
                best = res
        print(f"{name}: LL {-best.fun:.6f} at (r, alpha, a, b) = {np.exp(best.x)}; at (1,1,1,1): {ll(np.zeros(4), modified):.6f}")


def hyp2f1():
    import mpmath as mp

    mp.mp.dps = 40
    cases = []
    # Pareto/NBD's 2F1(r+s+x, B; r+s+x+1; 1-y), B = s+1 or r+x, s or r+x whole
    for r, s, x in [(1, 1, 0), (1, 10, 0), (0.1, 1, 0), (10, 1, 0), (1, 1, 3), (0.5, 2, 4), (1, 10, 7), (2.5, 3, 0)]:
        a = r + s + x
        for b in (s + 1, r + x):
            for y in (1e-2, 3e-3, 1e-4, 1e-6, 1e-9):
                cases.append((a, b, a + 1, y))
    # c - a - b near an integer, not on it
    for a, b, c in [(2.3, 1.7, 4.0 + 1e-7), (2.3, 1.7, 4.0 + 3e-5), (5.5, 2.0, 7.5 - 2e-4), (1.0, 1.0, 2.0)]:
        for y in (1e-3, 1e-5, 1e-8):
            cases.append((a, b, c, y))
    for a, b, c, y in cases:
        v = mp.hyp2f1(a, b, c, 1 - mp.mpf(y))
        print(repr(a), repr(b), repr(c), repr(y), mp.nstr(mp.log(v), 25))


def quad():
    import mpmath as mp

    mp.mp.dps = 50
    # ln of the integral over [t0, t1] of (alpha+tau)^-k1 (beta+tau)^-k2, on u = ln(tau - pole)
    cases = [(1e3, 1e-255, 5, 198, 0, 42), (1e3, 1e-255, 5, 1.5, 0, 42), (10, 1e-30, 2, 3, 0, 17236),
             (0.3, 1e-12, 50, 400, 0.5, 300), (1e-8, 3e-57, 0.05, 1.004, 0, 2946), (2.0, 1e-300, 1e5, 1.0001, 0, 100)]
    for al, be, k1, k2, t0, t1 in cases:
        al, be = mp.mpf(al), mp.mpf(be)
        pole = -min(al, be)

        def f(u):
            tau = pole + mp.exp(u)
            return mp.exp(-k1 * mp.log(al + tau) - k2 * mp.log(be + tau) + u)

        v = mp.quad(f, mp.linspace(mp.log(t0 - pole), mp.log(t1 - pole), 200))
        print(float(al), float(be), k1, k2, t0, t1, mp.nstr(mp.log(v), 20))


if __name__ == "__main__":
    {"modes": modes, "hyp2f1": hyp2f1, "quad": quad}[sys.argv[1] if len(sys.argv) > 1 else "modes"]()
