#!/usr/bin/env bash
# Import throughput of two builds on the same day, alternately: the commit given,
# built apart in a git worktree under bench/out, and the current tree. Same file as
# bench/import.sh (bash bench/run.sh or bench/import.sh makes it).
#
#   bash bench/import_ab.sh ddda776          # SQLite twice each, PostgreSQL once each
#   PG=postgres://postgres@127.0.0.1:5432/test bash bench/import_ab.sh ddda776
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REV=${1:?give the commit to compare with}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
LOG=${LOG:-bench/out/log_4300000.csv}
[ -f "$LOG" ] || { mkdir -p bench/out; cargo build --release -q; target/release/winback simulate --customers 4300000 --seed 1 --output "$LOG"; }
old=bench/out/ab-$BASE_REV
if [ ! -x "$old/target/release/winback" ]; then
  rm -rf "$old"
  git worktree add -f "$old" "$BASE_REV" > /dev/null
  (cd "$old" && CARGO_TARGET_DIR="$PWD/target" cargo build --release -q)
fi
cargo build --release -q
run() { # which binary store-url
  /usr/bin/time -f "$1 $3: %e s wall, %M KiB peak" "$2" --db "$4" import transactions "$LOG" 2>&1 | grep -E "wall"
}
for round in 1 2; do
  for which in before after; do
    bin=$old/target/release/winback; [ $which = after ] && bin=target/release/winback
    rm -f bench/out/ab.db*
    run "$which" "$bin" "sqlite (round $round)" bench/out/ab.db
  done
done
for which in before after; do
  bin=$old/target/release/winback; [ $which = after ] && bin=target/release/winback
  psql "$PG" -q -c "DROP SCHEMA IF EXISTS wb_ab CASCADE" 2>/dev/null || true
  run "$which" "$bin" "postgres" "$PG?schema=wb_ab"
done
psql "$PG" -q -c "DROP SCHEMA IF EXISTS wb_ab CASCADE" 2>/dev/null || true
rm -f bench/out/ab.db*
