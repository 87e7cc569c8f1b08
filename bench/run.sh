#!/usr/bin/env bash
# winback against the peer a user would otherwise pick (pandas + lifetimes 0.11.3),
# same data, same machine, same run. Prints timings, ratios, peak memory and
# whether the parameters agree.
#
#   bash bench/run.sh              # 10 million transactions (about 4.3M customers)
#   CUSTOMERS=200000 bash bench/run.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${CUSTOMERS:-4300000}
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q lifetimes==0.11.3 pandas numpy scipy
fi
cargo build --release -q
mkdir -p bench/out
exec bench/.venv/bin/python bench/compare.py "$CUSTOMERS"
