#!/usr/bin/env bash
# The win-back reports on a large store: who is lost and whether they are worth
# winning back (`winback lost`), the defection report, and the customer list —
# against the pandas a user would otherwise write for the same per-customer
# facts and status rule (bench/winback_peer.py), in the same run.
#
#   bash bench/winback.sh                  # 1M customers, about 2.3M transactions
#   CUSTOMERS=200000 bash bench/winback.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${CUSTOMERS:-1000000}
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q lifetimes==0.11.3 pandas numpy scipy
fi
cargo build --release -q
mkdir -p bench/out
LOG=bench/out/winback_$CUSTOMERS.csv
DB=bench/out/winback_$CUSTOMERS.db
W=target/release/winback
[ -f "$LOG" ] || $W simulate --customers "$CUSTOMERS" --seed 1 --output "$LOG" 2>/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm"
t() { local s; s=$(date +%s.%N); "$@" > /dev/null; python3 -c "print(f'{$(date +%s.%N) - $s:.2f}')"; }
echo "store: $(t $W --db "$DB" import transactions "$LOG") s import, $(t $W --db "$DB" analyze) s analyze"
cold=$(t $W --db "$DB" lost)
warm=$(t $W --db "$DB" lost)
lost=$(t $W --db "$DB" lost --format csv)
someone=$($W --db "$DB" lost --format csv --top 1 | tail -1 | cut -d, -f1)
customer=$(t $W --db "$DB" customer "$someone")
defection=$(t $W --db "$DB" report defection --format json)
customers=$(t $W --db "$DB" customers --status lost --format csv)
peer=$(bench/.venv/bin/python bench/winback_peer.py "$LOG" 2025-12-31)
python3 - "$cold" "$warm" "$lost" "$customer" "$defection" "$customers" "$peer" <<'PY'
import sys
cold, warm, lost, customer, defection, customers, peer = map(float, sys.argv[1:])
print(f"winback lost, first read after analyze (assesses everyone, caches it): {cold:.2f} s")
print(f"winback lost, warm (top 20 and the counts, from the cache): {warm:.2f} s")
print(f"winback lost --format csv, warm (every gone customer): {lost:.2f} s")
print(f"winback customer ID, warm: {customer:.3f} s")
print(f"winback report defection: {defection:.2f} s")
print(f"winback customers --status lost (CSV): {customers:.2f} s")
print(f"pandas peer (read CSV, per-customer facts, rhythm status, lost list): {peer:.2f} s")
print(f"ratio, pandas / winback lost --format csv (warm): {peer / lost:.1f}x")
PY
