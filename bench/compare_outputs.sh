#!/usr/bin/env bash
# Two winback binaries on every real export in ../shared/data/exports (when
# it is there) and on five malformed files written here (CRLF with a stray
# quote, decimal commas with `;`, lone CR line ends, short / blank-id /
# bad-date / bad-amount rows, ambiguous day/month dates): `summary -f csv`
# and `predict -f csv -m bgnbd`, stdout, stderr and exit code compared.
# Prints each pair that differs and a count; exits 1 if any does. With
# TOL=1e-9, outputs whose every field is equal or, where both are numbers,
# within TOL relative count as "close" (a change of floating-point rounding,
# as when a likelihood's exp/ln changed) and are listed apart.
#
#   bash bench/compare_outputs.sh /tmp/wb_old target/release/winback
#   TOL=1e-9 bash bench/compare_outputs.sh /tmp/wb_old target/release/winback
set -uo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'customer,date,amount\r\nc1,2024-01-02,5.00\r\nc2,"2024-01-03,7\r\nc1,2024-02-02,3.50\r\nc3,2024-03-01,9\r\n' > "$dir/crlf_quote.csv"
printf 'customer;date;amount\nc1;2024-01-02;5,50\nc2;2024-01-03;1.234,56\nc1;2024-02-02;3,25\nc2;2024-05-02;7,00\n' > "$dir/decimal_comma.csv"
printf 'customer,date,amount\rc1,2024-01-02,5\rc2,2024-01-03,7\rc1,2024-03-02,4\r' > "$dir/lone_cr.csv"
printf 'customer,date,amount\nc1,2024-01-02\n,2024-01-03,7\nc2,notadate,3\nc3,2024-01-04,abc\nc1,2024-02-02,4\nc4,2024-01-05,6\nc4,2024-03-05,6\n' > "$dir/bad_rows.csv"
printf 'customer,date,amount\nc1,03/04/2024,5\nc2,05/06/2024,7\nc1,07/08/2024,4\nc2,09/10/2024,2\n' > "$dir/ambiguous.csv"
files=("$dir"/*.csv)
if [ -d ../shared/data/exports ]; then
  while IFS= read -r f; do files+=("$f"); done < <(find ../shared/data/exports -type f ! -name '*.md' | sort)
fi
n=0 bad=0 close=0
# 0 when the two texts differ only in numbers within $TOL relative
near() {
  python3 - "$1" "$2" "$TOL" <<'PY'
import re, sys
a, b, tol = open(sys.argv[1]).read(), open(sys.argv[2]).read(), float(sys.argv[3])
num = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
ta, tb = re.split(f"({num})", a), re.split(f"({num})", b)
ok = len(ta) == len(tb) and all(
    x == y or (i % 2 == 1 and abs(float(x) - float(y)) <= tol * max(abs(float(x)), abs(float(y))))
    for i, (x, y) in enumerate(zip(ta, tb)))
sys.exit(0 if ok else 1)
PY
}
for f in "${files[@]}"; do
  for cmd in "summary -f csv" "predict -f csv -m bgnbd"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    a=$("$old" $cmd --transactions "$f" --observation-end 2030-12-31 2>"$dir/ea"; echo "exit $?")
    # shellcheck disable=SC2086
    b=$("$new" $cmd --transactions "$f" --observation-end 2030-12-31 2>"$dir/eb"; echo "exit $?")
    if [ "$a" != "$b" ] || ! cmp -s "$dir/ea" "$dir/eb"; then
      printf '%s' "$a" > "$dir/oa"
      printf '%s' "$b" > "$dir/ob"
      if [ -n "${TOL:-}" ] && cmp -s "$dir/ea" "$dir/eb" && near "$dir/oa" "$dir/ob"; then
        close=$((close + 1))
        echo "close: $cmd $f"
      else
        bad=$((bad + 1))
        echo "differs: $cmd $f"
      fi
    fi
  done
done
echo "$n runs, $bad differ${TOL:+, $close within $TOL}"
[ "$bad" -eq 0 ]
