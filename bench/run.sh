#!/usr/bin/env bash
# winback against the peers a user would otherwise pick (pandas + lifetimes
# 0.11.3, DuckDB, polars), same data, same machine, same run. Prints timings,
# ratios against the targets, peak memory and whether the outputs agree.
#
#   bash bench/run.sh                      # 10 million transactions (about 4.3M customers)
#   CUSTOMERS=1000000 bash bench/run.sh    # 1M customers, 2.3M transactions
#   CUSTOMERS=200000 bash bench/run.sh     # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${CUSTOMERS:-4300000}
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
if ! bench/.venv/bin/python -c "import lifetimes, duckdb, polars" 2>/dev/null; then
  bench/.venv/bin/pip install -q lifetimes==0.11.3 pandas numpy scipy duckdb==2.0.1 polars==2.1.0
fi
cargo build --release -q
mkdir -p bench/out
exec bench/.venv/bin/python bench/compare.py "$CUSTOMERS"
