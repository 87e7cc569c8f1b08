"""Two CSV files with the same header and key column: the largest relative
difference per numeric column, and whether the rows come in the same order.

    python3 bench/compare_csv.py old.csv new.csv

For outputs that change only in rounding (a likelihood's exp/ln changed):
`compare_outputs.sh` says whether two binaries agree on small files; this
says by how much two large outputs differ. Standard library only.
"""
import csv
import sys


def main():
    with open(sys.argv[1], newline="") as fa, open(sys.argv[2], newline="") as fb:
        ra, rb = csv.reader(fa), csv.reader(fb)
        head = next(ra)
        if next(rb) != head:
            sys.exit("the headers differ")
        worst = [0.0] * len(head)
        other = [0] * len(head)
        rows = same_order = 0
        seen_a, seen_b = {}, {}
        for a, b in zip(ra, rb):
            rows += 1
            same_order += a[0] == b[0]
            seen_a[a[0]], seen_b[b[0]] = a, b
        for key, a in seen_a.items():
            b = seen_b.get(key)
            if b is None:
                sys.exit(f"{key} is only in {sys.argv[1]}")
            for i, (x, y) in enumerate(zip(a, b)):
                if x == y:
                    continue
                try:
                    fx, fy = float(x), float(y)
                    worst[i] = max(worst[i], abs(fx - fy) / max(abs(fx), abs(fy), 1e-300))
                except ValueError:
                    other[i] += 1
        print(f"{rows} rows, {same_order} in the same place, {len(seen_a)} keys")
        for name, w, o in zip(head, worst, other):
            print(f"{name:20s} max relative difference {w:.1e}" + (f", {o} text cells differ" if o else ""))


main()
