#!/usr/bin/env bash
# make bench: release build, a private PostgreSQL, the server on loopback, then wrk and our own load
# tools. Bounded in time and count; targets 127.0.0.1 only. Results: bench/results/latest.txt
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${BENCH_PORT:-18080}
DURATION=${BENCH_DURATION:-10s}
IDLE=${BENCH_IDLE_CONNECTIONS:-10000}
OUT=bench/results
mkdir -p "$OUT"
RESULT="$OUT/latest.txt"

command -v wrk >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq wrk; }
# 10,000 idle connections + wrk's need more descriptors than the usual 1024.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n)"

swift build -c release --product pickupbox
BIN=.build/release/pickupbox

export PICKUPBOX_DATA_DIR="$ROOT/.pickupbox/bench"
export ACCESS_LOG=off LOG_LEVEL=warning HTTP_MAX_CONNECTIONS=$((IDLE + 500))
export DB_POOL_SIZE=${DB_POOL_SIZE:-8} HTTP_WORKER_THREADS=${HTTP_WORKER_THREADS:-16}
"$BIN" serve --port "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
cleanup() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$SERVER/status"; }

{
  echo "# pickupbox benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(uname -r)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); server: ACCESS_LOG=off DB_POOL_SIZE=$DB_POOL_SIZE HTTP_WORKER_THREADS=$HTTP_WORKER_THREADS"
  echo
  echo "## GET /health — wrk -t2 -c64 -d$DURATION --latency (after a 2 s warm-up)"
  wrk -t2 -c64 -d2s "http://127.0.0.1:$PORT/health" >/dev/null
  wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT/health"
  echo "server RSS after: $(rss)"
  echo
  echo "## GET /ready (one prepared SELECT by primary key) — wrk -t2 -c64 -d$DURATION --latency"
  wrk -t2 -c64 -d2s "http://127.0.0.1:$PORT/ready" >/dev/null
  wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT/ready"
  echo "server RSS after: $(rss)"
  echo
  echo "## $IDLE idle keep-alive connections, then /health under wrk -t2 -c64 -d$DURATION --latency"
  python3 bench/idle_connections.py --port "$PORT" --connections "$IDLE" --hold-seconds 40 --ready-file "$OUT/idle.ready" &
  HOLDER=$!
  for _ in $(seq 1 600); do [ -f "$OUT/idle.ready" ] && break; sleep 0.1; done
  cat "$OUT/idle.ready"
  echo "server RSS with $IDLE idle connections: $(rss)"
  wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT/health"
  echo "server RSS after: $(rss)"
  kill "$HOLDER" 2>/dev/null || true
  wait "$HOLDER" 2>/dev/null || true
  rm -f "$OUT/idle.ready"
} 2>&1 | tee "$RESULT"
echo "results in $RESULT"
