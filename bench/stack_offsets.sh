#!/usr/bin/env bash
# Stage seconds of one `winback -v` command with the stack at 16 offsets
# (address randomisation off, the environment grown 8 bytes at a time): a
# stage whose time moves with a 64-byte period shares a cache line between
# threads through the stack (false sharing), which ASLR otherwise turns into
# run-to-run noise. One line per offset, the stages' seconds in the order
# `-v` logs them.
#
#   bash bench/stack_offsets.sh predict --transactions bench/out/log_1000000.csv \
#       --observation-end 2025-12-31 --time-unit week -m bgnbd --horizon 52 -f csv
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${WINBACK:-target/release/winback}
for pad in $(seq 0 8 120); do
  printf 'offset %3d: ' "$pad"
  env PAD="$(printf '%*s' "$pad" '')" setarch -R "$bin" -v "$@" 2>&1 >/dev/null \
    | sed 's/\x1b\[[0-9;]*m//g' | grep -oE ' secs=[0-9.]+' | cut -c7-12 | paste -sd' ' -
done
