#!/usr/bin/env bash
# The owner's dashboard on a large store, under load on loopback (bounded):
# a simulated store (1M customers by default), a campaign, `winback serve`,
# then bench/dashboard_load.py: 20 signed-in clients fetch the overview, a
# customers page, a customer page and the campaign report, after a warm-up.
#
#   bash bench/dashboard.sh                 # CUSTOMERS=1000000
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${CUSTOMERS:-1000000}
cargo build --release -q
mkdir -p bench/out
LOG=bench/out/winback_$CUSTOMERS.csv
W=target/release/winback
[ -f "$LOG" ] || $W simulate --customers "$CUSTOMERS" --seed 1 --output "$LOG" 2>/dev/null
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
export WINBACK_DB="$dir/w.db"
$W import transactions "$LOG" > /dev/null
# everyone reachable by email, so that the campaign has members
{ echo "customer_id,email,consent_email"; tail -n +2 "$LOG" | cut -d, -f1 | sort -u | awk '{print $1 "," $1 "@example.com,yes"}'; } > "$dir/customers.csv"
$W import customers "$dir/customers.csv" > /dev/null
$W analyze > /dev/null
$W campaign create bench --holdout 0.2 --start 2026-01-05 > /dev/null
printf '%s' 'bench-owner-password' | $W user add owner@bench.test --role owner --password-stdin > /dev/null
someone=$($W lost --format csv --top 1 | tail -1 | cut -d, -f1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$W serve --listen "127.0.0.1:$port" 2> "$dir/serve.log" &
server=$!
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null; do sleep 0.1; done
python3 bench/dashboard_load.py "http://127.0.0.1:$port" owner@bench.test bench-owner-password "$someone" bench
