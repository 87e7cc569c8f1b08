#!/usr/bin/env bash
# Import throughput: the 10M-transaction log from bench/run.sh into a fresh SQLite
# store and a fresh PostgreSQL schema, with wall time and peak memory; then the
# summary from the store, SQL GROUP BY against winback's streaming path.
#
#   bash bench/import.sh                      # needs bench/out/log_4300000.csv (bash bench/run.sh makes it)
#   PG=postgres://postgres@127.0.0.1:5432/test bash bench/import.sh
#   IDS=1 bash bench/import.sh                # the same rows with an order_id column first, as shop exports have
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
BASE=bench/out/log_4300000.csv
[ -f "$BASE" ] || { mkdir -p bench/out; cargo build --release -q; target/release/winback simulate --customers 4300000 --seed 1 --output "$BASE"; }
if [ "${IDS:-0}" = 1 ]; then
  LOG=${LOG:-bench/out/log_ids.csv}
  [ -f "$LOG" ] || awk -F, 'NR==1{print "order_id,"$0; next}{printf "ORD-%09d,%s\n", NR-1, $0}' "$BASE" > "$LOG"
else
  LOG=${LOG:-$BASE}
fi
cargo build --release -q
rm -f bench/out/import.db*
echo "SQLite:"
/usr/bin/time -f "  %e s wall, %M KiB peak" target/release/winback -v --db bench/out/import.db import transactions "$LOG" 2>&1 \
  | sed 's/\x1b\[[0-9;]*m//g' | grep -E "INFO|wall|lines" | sed 's/^[^ ]* *//'
echo "PostgreSQL ($PG, schema wb_bench):"
python3 - "$PG" <<'PY'
import subprocess, sys
subprocess.run(["psql", sys.argv[1], "-q", "-c", "DROP SCHEMA IF EXISTS wb_bench CASCADE"], check=False)
PY
/usr/bin/time -f "  %e s wall, %M KiB peak" target/release/winback -v --db "$PG?schema=wb_bench" import transactions "$LOG" 2>&1 \
  | sed 's/\x1b\[[0-9;]*m//g' | grep -E "INFO|wall|lines" | sed 's/^[^ ]* *//'
echo "Summary from the store:"
python3 bench/store_summary.py bench/out/import.db 2025-12-31
