#!/usr/bin/env bash
# The engine on shops the models did not generate (issue 17):
#  1. the event-driven demo shop (`winback demo --churn events`): fits at their
#     limit and the time they take; `analyze --model auto`'s comparison;
#  2. the backtest of the at-risk lists on it, the first rule against the early
#     warning, same data, same run (and on the mixed demo shop for contrast);
#  3. scoring cost at the limit: a million customers whose drop-out is common to
#     all (simulated BG/NBD with a, b = 6e5, 9.4e6), `winback predict`.
# Usage: bash bench/engine.sh   (CUSTOMERS=3000 SEED=7 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin="$PWD/target/release/winback"
customers="${CUSTOMERS:-3000}"
seed="${SEED:-7}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t() { /usr/bin/time -f "%e s, %M KiB" "$@"; }

for churn in events mixed; do
    echo "== the $churn shop: $customers customers, seed $seed"
    "$bin" demo --churn "$churn" --customers "$customers" --seed "$seed" --dir "$work/$churn" >/dev/null 2>&1
    export WINBACK_DB="$work/$churn/winback.db"
    for m in bgnbd paretonbd mbgnbd; do
        echo "-- analyze --model $m"
        t "$bin" analyze --model "$m" --time-unit week -f json 2>"$work/time" \
            | python3 -c 'import json,sys; f=json.load(sys.stdin)["fit"]; print("  ", f["model"], {k: round(v, 4) for k, v in f["params"].items()}, "LL", round(f["log_likelihood"], 2), "|", f.get("limit", "inside"))'
        echo "   $(tail -1 "$work/time")"
    done
    echo "-- analyze (auto)"
    t "$bin" analyze --time-unit week 2>"$work/time" | sed -n '1,8p'
    echo "   $(tail -1 "$work/time")"
    echo "-- backtest --as-of 2025-02-01 --until 2025-06-30"
    "$bin" backtest --as-of 2025-02-01 --until 2025-06-30 --model bgnbd --time-unit week -f json 2>/dev/null \
        | python3 "$PWD/bench/backtest_summary.py"
done

echo "== scoring at the limit: 1,000,000 customers, drop-out common to all"
"$bin" simulate --model bgnbd --params 0.9,5,600000,9400000 --customers 1000000 --seed 3 \
    --output "$work/homog.csv" 2>/dev/null
echo "-- predict --model bgnbd (fit at the limit, score, write 1M rows)"
t "$bin" predict --transactions "$work/homog.csv" --observation-end 2025-12-31 --time-unit week \
    --model bgnbd -f csv 2>"$work/err" >"$work/scores.csv"
grep -E "s, .* KiB" "$work/err" | tail -1
wc -l <"$work/scores.csv" | sed 's/^/   rows written: /'
"$bin" fit --transactions "$work/homog.csv" --observation-end 2025-12-31 --time-unit week --model bgnbd 2>/dev/null \
    | grep -E "^│ |at the edge"
