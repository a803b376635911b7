#!/usr/bin/env bash
# Two builds taking turns on the pickups section (BENCHMARKS.md): each round runs
#   BENCH_ONLY=${BENCH_AB_SECTION:-pickups} BENCH_SKIP_BUILD=1 bench/run.sh
# once with the base's binary and migrations and once with the new one's (the base first in odd rounds,
# the new one first in even rounds), and prints each run's figures.
#
#   bench/ab.sh <rounds> <base binary> <base Migrations dir> <new binary> <new Migrations dir>
#
# A binary needs its pickupbox_App.resources next to it (copy both out of .build/release). Each run's
# whole output stays in bench/results/ab-<round>-<base|new>.txt. Bounded: rounds × two runs of bench/run.sh.
set -euo pipefail
usage() { sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 2; }
[ $# -eq 5 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] || usage
rounds=$1
base_bin=$(realpath "$2") base_migrations=$(realpath "$3") new_bin=$(realpath "$4") new_migrations=$(realpath "$5")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p bench/results
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order="base new"; else order="new base"; fi
  for side in $order; do
    if [ "$side" = base ]; then bin=$base_bin migrations=$base_migrations; else bin=$new_bin migrations=$new_migrations; fi
    out=bench/results/ab-$r-$side.txt
    BENCH_BIN=$bin BENCH_MIGRATIONS=$migrations BENCH_ONLY=${BENCH_AB_SECTION:-pickups} BENCH_SKIP_BUILD=1 bench/run.sh > "$out" 2>&1 \
      || echo "(bench/run.sh: exit status $? — see $out)"
    echo "round $r $side (load $(cut -d' ' -f1 /proc/loadavg)): $(grep -o '[0-9,]* pickups/s' "$out" || true) | $(grep -o 'server [0-9]* µs.*PostgreSQL [0-9]* µs' "$out" || true)"
  done
done
