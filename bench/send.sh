#!/usr/bin/env bash
# Campaign send throughput against a local SMTP server (aiosmtpd writing a
# maildir, in a venv under target/): a demo shop, one campaign with no holdout,
# `winback campaign send` timed, messages per second printed.
#
#   bash bench/send.sh            # CUSTOMERS=3000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${CUSTOMERS:-3000}
venv=target/smtp-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
fi
cargo build --release -q
dir=$(mktemp -d)
trap 'kill $smtp 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" &
smtp=$!
target/release/winback demo --dir "$dir/shop" --customers "$CUSTOMERS" --seed 1 --store "$dir/w.db" > /dev/null
target/release/winback --db "$dir/w.db" campaign create bench --target all --include-held --holdout 0 --cap-days 0 --start 2026-01-05 > /dev/null
start=$(date +%s.%N)
target/release/winback --db "$dir/w.db" campaign send bench --smtp "smtp://127.0.0.1:$port" ${SEND_ARGS:-} --date 2026-01-05 --tasks "$dir/tasks.csv"
end=$(date +%s.%N)
sent=$(ls "$dir/maildir/new" | wc -l)
python3 -c "import sys; s,e,n=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'{n} messages in {e-s:.2f} s: {n/(e-s):.1f} per second')" "$start" "$end" "$sent"
