#!/usr/bin/env bash
# Two builds taking turns on the pickups section (BENCHMARKS.md): each round runs
#   BENCH_ONLY=${BENCH_AB_SECTION:-pickups} BENCH_SKIP_BUILD=1 bench/run.sh
# once with the base's binary and migrations and once with the new one's, and prints each run's figures.
#
#   bench/ab.sh <rounds> <base binary> <base Migrations dir> <new binary> <new Migrations dir>
#
# A binary needs its pickupbox_App.resources next to it (copy both out of .build/release). Each run's
# whole output stays in bench/results/ab-<round>-<base|new>.txt. Bounded: rounds × two runs of bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 5 ] || { sed -n '2,9p' "$0"; exit 2; }
rounds=$1
mkdir -p bench/results
for r in $(seq 1 "$rounds"); do
  for side in base new; do
    if [ "$side" = base ]; then bin=$2 migrations=$3; else bin=$4 migrations=$5; fi
    out=bench/results/ab-$r-$side.txt
    BENCH_BIN=$bin BENCH_MIGRATIONS=$migrations BENCH_ONLY=${BENCH_AB_SECTION:-pickups} BENCH_SKIP_BUILD=1 bench/run.sh > "$out" 2>&1 \
      || echo "(bench/run.sh: exit status $? — see $out)"
    echo "round $r $side (load $(cut -d' ' -f1 /proc/loadavg)): $(grep -o '[0-9,]* pickups/s' "$out" || true) | $(grep -o 'server [0-9]* µs.*PostgreSQL [0-9]* µs' "$out" || true)"
  done
done
