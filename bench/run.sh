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
# A fresh cluster every run, so the demo's logins are printed (and known figures start from a clean table).
if [ -e "$PICKUPBOX_DATA_DIR/postgres" ]; then rm -rf "$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")"; fi
rm -rf "$PICKUPBOX_DATA_DIR"
export ACCESS_LOG=off LOG_LEVEL=warning HTTP_MAX_CONNECTIONS=$((IDLE + 500)) STATUS_RATE_LIMIT=1000000000
export DB_POOL_SIZE=${DB_POOL_SIZE:-8} HTTP_WORKER_THREADS=${HTTP_WORKER_THREADS:-16}
"$BIN" serve --demo --port "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
cleanup() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null

PSQL=(psql -h "$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/run" -U postgres -d pickupbox)
PASSWORD=$(awk '/username sachbearbeitung/ {print $6}' "$OUT/server.log")
LOGIN=$(curl -si -X POST -H 'Content-Type: application/json' \
  -d "{\"authority\":\"demo\",\"username\":\"sachbearbeitung\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$PORT/api/v1/auth/login")
export BENCH_COOKIE=$(printf '%s' "$LOGIN" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}')
export BENCH_CSRF=$(printf '%s' "$LOGIN" | tail -n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrfToken"])')
export BENCH_SITE=$("${PSQL[@]}" -Atc "SELECT s.id FROM site s JOIN authority a ON a.id = s.authority_id WHERE a.slug = 'demo'")

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
  echo "## GET /api/v1/status/{vn} — 100,000 applications, random numbers (5 % unknown), wrk -t2 -c64 -d$DURATION --latency -s bench/status.lua"
  (cd bench && python3 seed_status.py --psql "${PSQL[*]}" --count 100000 --numbers-file results/numbers.txt)
  wrk -t2 -c64 -d2s -s bench/status.lua "http://127.0.0.1:$PORT" >/dev/null
  wrk -t2 -c64 -d"$DURATION" --latency -s bench/status.lua "http://127.0.0.1:$PORT"
  echo "server RSS after: $(rss)"
  echo
  echo "## POST /api/v1/applications (logged-in caseworker) — wrk -t2 -c64 -d$DURATION --latency -s bench/create_application.lua"
  wrk -t2 -c64 -d"$DURATION" --latency -s bench/create_application.lua "http://127.0.0.1:$PORT/api/v1/applications"
  echo "applications created: $("${PSQL[@]}" -Atc "SELECT count(*) FROM application WHERE family_name = 'Bench' AND pickup_method = 'box' AND created_at > now() - interval '5 minutes'")"
  echo
  echo "## Automatic assignment during delivery — python3 bench/deliveries.py --count 4000 --batch 100 --clients 8"
  (cd bench && python3 deliveries.py --psql "${PSQL[*]}" --port "$PORT" --cookie "$BENCH_COOKIE" --csrf "$BENCH_CSRF" --count 4000 --batch 100 --clients 8)
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
