#!/usr/bin/env bash
# `winback serve` under load on loopback (bounded; stops by itself): a demo
# shop, one survey link per customer, then bench/serve_load.py sends the
# answers while 50 idle connections stay open and an import writes the store.
#
#   bash bench/serve.sh        # SUBMISSIONS=2000 CONCURRENCY=100; IMPORT=0 for no import
set -euo pipefail
cd "$(dirname "$0")/.."
N=${SUBMISSIONS:-2000}
C=${CONCURRENCY:-100}
cargo build --release -q
dir=$(mktemp -d)
trap 'kill $server ${import:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bin=target/release/winback
export WINBACK_DB="$dir/w.db"
$bin demo --dir "$dir/shop" --customers "$N" --seed 1 --store "$WINBACK_DB" > /dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
tail -n +2 "$dir/shop/customers.csv" | cut -d, -f1 | head -n "$N" | xargs $bin survey link --public-url "$base" > "$dir/links.tsv"
# something to import meanwhile: a synthetic log of ~1M rows
$bin simulate --customers 300000 --seed 2 -o "$dir/log.csv" > /dev/null 2>&1
$bin serve --listen "127.0.0.1:$port" --public-url "$base" --rate-limit 1000000 --connections 8 2> "$dir/serve.log" &
server=$!
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null; do sleep 0.1; done
if [ "${IMPORT:-1}" = 1 ]; then
    ( sleep 0.2; $bin import transactions "$dir/log.csv" > "$dir/import.log" 2>&1 ) &
    import=$!
else
    import=""
fi
python3 bench/serve_load.py "$base" "$dir/links.tsv" "$WINBACK_DB" "$N" "$C"
if [ -n "$import" ]; then wait $import && echo "  the import meanwhile: $(tail -1 "$dir/import.log")"; fi
