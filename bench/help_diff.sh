#!/usr/bin/env bash
# Diff every -h and --help page of two winback binaries, walking the command
# tree from the first one's "Commands:" lists. Used when changing how clap
# builds the tree (subcommands are deferred since 2026-12-02: 138 pages, all
# byte-identical to the eager build). Both binaries must be named `winback`
# (the usage lines show the binary's name).
#
#   bash bench/help_diff.sh /tmp/old/winback target/release/winback
set -euo pipefail
A=$1
B=$2
subs() { "$A" $1 --help 2>/dev/null | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' | grep -v '^help$' || true; }
walk() {
  local p="$1"
  echo "$p"
  for s in $(subs "$p"); do walk "$p $s"; done
}
n=0
bad=0
while IFS= read -r c; do
  for h in -h --help; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! diff <("$A" $c $h 2>&1) <("$B" $c $h 2>&1) >/dev/null; then
      echo "differs: winback $c $h"
      bad=$((bad + 1))
    fi
  done
done < <(walk "")
echo "$n pages compared, $bad differ"
[ "$bad" -eq 0 ]
