#!/usr/bin/env bash
# make bench: release build, a private PostgreSQL, the server on loopback, then wrk and our own load
# tools. Bounded in time and count; targets 127.0.0.1 only. Results: bench/results/latest.txt
#
# Knobs (environment):
#   BENCH_ONLY=box            run only these sections (comma-separated): health, tls, accesslog, ready, status, statuspage, applications,
#                             deliveries, idle, box (= longpoll and pickups), longpoll, pickups, refusals, sms, dashboard. Default: all.
#   BENCH_SMS_COUNT=10000, BENCH_SMS_THREADS=2   the SMS drain (bench/sms.sh)
#                             A partial run writes bench/results/latest-<sections>.txt.
#   BENCH_BIN=path            the server binary (default .build/release/pickupbox)
#   BENCH_SKIP_BUILD=1        do not run swift build (use BENCH_BIN as it is)
#   BENCH_MIGRATIONS=dir      migrations for that binary (default: the server's default, Migrations/)
#   BENCH_DURATION=10s, BENCH_IDLE_CONNECTIONS=10000, BENCH_PORT=18080
#   BENCH_BOXES=10000         long-polling boxes; BENCH_BOX_CHANGES=500, BENCH_BOX_RATE=25 (changes per second)
#   BENCH_PICKUP_BOXES=200, BENCH_PICKUP_COMPARTMENTS=10, BENCH_PICKUP_PROCESSES=2, BENCH_PICKUP_CONNECTIONS=32,
#   BENCH_PICKUP_SECONDS (default: BENCH_DURATION without its "s")
#   BENCH_PG_STATEMENTS=1     restart the bench cluster with pg_stat_statements preloaded (the server reconnects), and
#                             have the pickups section print the statements of its measured seconds
#   BENCH_BACKGROUND_APPLICATIONS=100000   when the status section is skipped, the box section still seeds
#                             this many applications first (as the status section does), so the tables are as
#                             large as in a full run (0: none)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${BENCH_PORT:-18080}
DURATION=${BENCH_DURATION:-10s}
IDLE=${BENCH_IDLE_CONNECTIONS:-10000}
BOXES=${BENCH_BOXES:-10000}
ONLY=${BENCH_ONLY:-}
OUT=bench/results
mkdir -p "$OUT"
RESULT="$OUT/latest${ONLY:+-${ONLY//,/-}}.txt"

# want <section>: whether BENCH_ONLY selects it (everything when unset); "box" stands for longpoll and pickups.
want() {
  [ -z "$ONLY" ] && return 0
  local s
  for s in ${ONLY//,/ }; do
    [ "$s" = "$1" ] && return 0
    [ "$s" = box ] && { [ "$1" = longpoll ] || [ "$1" = pickups ]; } && return 0
  done
  return 1
}

command -v wrk >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq wrk; }
# 10,000 idle connections (or long-polling boxes) + wrk's need more descriptors than the usual 1024.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n)"
# The server and the long-poll client each hold one descriptor per box, plus their own.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((BOXES + 1000)) ]; then
  echo "open-file limit $(ulimit -n) is too low for $BOXES long-polling boxes: using 5000"
  BOXES=5000
fi

BIN=${BENCH_BIN:-.build/release/pickupbox}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  swift build -c release --product pickupbox
  swift build -c release --product pickupbox-bench
fi
[ -x "$BIN" ] || { echo "no server binary at $BIN"; exit 1; }

export PICKUPBOX_DATA_DIR="$ROOT/.pickupbox/bench"
# A fresh cluster every run, so the demo's logins are printed (and known figures start from a clean table).
if [ -e "$PICKUPBOX_DATA_DIR/postgres" ]; then rm -rf "$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")"; fi
rm -rf "$PICKUPBOX_DATA_DIR"
MAXCONN=$(( (IDLE > BOXES ? IDLE : BOXES) + 500 ))
# SMS_DISPATCHER=off: the pickup benchmark reads the PINs from the outbox; a dispatcher would
# erase them once sent. Builds without a dispatcher ignore it.
export ACCESS_LOG=off LOG_LEVEL=warning HTTP_MAX_CONNECTIONS=$MAXCONN STATUS_RATE_LIMIT=1000000000 SMS_DISPATCHER=off
# Every load tool connects from 127.0.0.1: without this, the 513th connection (idle connections, long-polling
# boxes) would get the per-address limit's 429 (HTTP_MAX_CONNECTIONS_PER_ADDRESS, 512 by default).
export HTTP_MAX_CONNECTIONS_PER_ADDRESS=0
export DB_POOL_SIZE=${DB_POOL_SIZE:-8}
# As many workers as connections, as the server does by default (BENCHMARKS.md; 16 until 2026-11-30).
export HTTP_WORKER_THREADS=${HTTP_WORKER_THREADS:-$DB_POOL_SIZE}
"$BIN" serve --demo --port "$PORT" ${BENCH_MIGRATIONS:+--migrations "$BENCH_MIGRATIONS"} > "$OUT/server.log" 2>&1 &
SERVER=$!
TLS_SERVER=""
cleanup() {
  [ -n "$TLS_SERVER" ] && { kill -TERM "$TLS_SERVER" 2>/dev/null || true; wait "$TLS_SERVER" 2>/dev/null || true; }
  kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null

PSQL=(psql -h "$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/run" -U postgres -d pickupbox)
if [ "${BENCH_PG_STATEMENTS:-0}" = 1 ]; then
  # Profiling only: pg_stat_statements must be preloaded, so restart the cluster (same options) and let the pool reconnect.
  "${PSQL[@]}" -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  PG_DATA="$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/data"
  if [ "$(id -u)" = 0 ]; then runuser -u "$(stat -c %U "$PG_DATA")" -- pg_ctl restart -m fast -w -D "$PG_DATA" -l "$PG_DATA/../postgres.log" >/dev/null
  else pg_ctl restart -m fast -w -D "$PG_DATA" -l "$PG_DATA/../postgres.log" >/dev/null; fi
  "${PSQL[@]}" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.2; done
fi
POSTMASTER=$(head -1 "$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/data/postmaster.pid" 2>/dev/null || true)
PASSWORD=$(awk '/username sachbearbeitung/ {print $6}' "$OUT/server.log")
LOGIN=$(curl -si -X POST -H 'Content-Type: application/json' \
  -d "{\"authority\":\"demo\",\"username\":\"sachbearbeitung\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$PORT/api/v1/auth/login")
export BENCH_COOKIE=$(printf '%s' "$LOGIN" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}')
export BENCH_CSRF=$(printf '%s' "$LOGIN" | tail -n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrfToken"])')
export BENCH_SITE=$("${PSQL[@]}" -Atc "SELECT s.id FROM site s JOIN authority a ON a.id = s.authority_id WHERE a.slug = 'demo'")

BOX_CHANGES=${BENCH_BOX_CHANGES:-500}
BOX_RATE=${BENCH_BOX_RATE:-25}
PICKUP_BOXES=${BENCH_PICKUP_BOXES:-200}
PICKUP_COMPARTMENTS=${BENCH_PICKUP_COMPARTMENTS:-10}
PICKUP_PROCESSES=${BENCH_PICKUP_PROCESSES:-2}
PICKUP_CONNECTIONS=${BENCH_PICKUP_CONNECTIONS:-32}
PICKUP_SECONDS=${BENCH_PICKUP_SECONDS:-${DURATION%s}}
BACKGROUND=${BENCH_BACKGROUND_APPLICATIONS:-100000}

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$SERVER/status"; }
# cpu_wrk <wrk arguments…>: wrk as given, then the server's CPU time (user + system) per request it answered.
cpu_wrk() { cpu_wrk_of "$SERVER" "$@"; }
# cpu_wrk_of <pid> <wrk arguments…>: the same for another server process.
cpu_wrk_of() {
  local pid=$1 before after out
  shift
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk "$@")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  printf '%s\n' "$out"
  python3 -c "import sys; r = int(sys.argv[3]); print(f'server CPU per request: {(int(sys.argv[2]) - int(sys.argv[1])) / $(getconf CLK_TCK) / max(1, r) * 1e6:.1f} µs ({r} requests)')" \
    "$before" "$after" "$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')"
}

{
  echo "# pickupbox benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); binary $BIN; server: ACCESS_LOG=off DB_POOL_SIZE=$DB_POOL_SIZE HTTP_WORKER_THREADS=$HTTP_WORKER_THREADS HTTP_MAX_CONNECTIONS=$MAXCONN HTTP_MAX_CONNECTIONS_PER_ADDRESS=$HTTP_MAX_CONNECTIONS_PER_ADDRESS"
  [ -n "$ONLY" ] && echo "# sections: $ONLY (BENCH_ONLY)"
  echo
  if want health; then
    echo "## GET /health — wrk -t2 -c64 -d$DURATION --latency (after a 2 s warm-up)"
    wrk -t2 -c64 -d2s "http://127.0.0.1:$PORT/health" >/dev/null
    cpu_wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT/health"
    echo "server RSS after: $(rss)"
    echo
  fi
  if want tls; then
    # The server's own TLS (README.md#tls-without-a-proxy): a second process on the same database with a certificate made
    # now (EC P-256, self-signed; wrk does not verify it), so /health measures TLS and nothing else.
    TLS_PORT=$((PORT + 2))
    TLS_DIR="$OUT/tls"
    rm -rf "$TLS_DIR" && mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" \
      -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
    TLS_CERT_FILE="$TLS_DIR/cert.pem" TLS_KEY_FILE="$TLS_DIR/key.pem" \
      DATABASE_URL="host=$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/run user=postgres dbname=pickupbox" \
      "$BIN" serve --port "$TLS_PORT" ${BENCH_MIGRATIONS:+--migrations "$BENCH_MIGRATIONS"} > "$OUT/server-tls.log" 2>&1 &
    TLS_SERVER=$!
    for _ in $(seq 1 300); do curl -fsk "https://127.0.0.1:$TLS_PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done
    echo "## GET /health over TLS ($(curl -sk -o /dev/null -w '%{scheme}' "https://127.0.0.1:$TLS_PORT/health"), $(openssl s_client -connect 127.0.0.1:$TLS_PORT -brief </dev/null 2>&1 | awk -F': ' '/Protocol version|Ciphersuite/ {printf "%s ", $2}')) — keep-alive: wrk -t2 -c64 -d$DURATION --latency https://… (after a 2 s warm-up)"
    wrk -t2 -c64 -d2s "https://127.0.0.1:$TLS_PORT/health" >/dev/null
    wrk -t2 -c64 -d"$DURATION" --latency "https://127.0.0.1:$TLS_PORT/health"
    echo "TLS server RSS after: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$TLS_SERVER/status")"
    echo "### a new connection and full handshake per request: wrk -t2 -c16 -d$DURATION --latency -H 'Connection: close' https://…"
    wrk -t2 -c16 -d"$DURATION" --latency -H 'Connection: close' "https://127.0.0.1:$TLS_PORT/health"
    kill -TERM "$TLS_SERVER" 2>/dev/null || true
    wait "$TLS_SERVER" 2>/dev/null || true
    TLS_SERVER=""
    echo
  fi
  if want accesslog; then
    echo "## Access log: the cost of one line — pickupbox-bench access-log --lines 2000000 (json, text); then GET /health on two more servers alike but for ACCESS_LOG (off / on), LOG_FORMAT=json to a file each, wrk -t2 -c64 -d$DURATION, two rounds taking turns"
    BENCH_TOOL="$(dirname "$BIN")/pickupbox-bench"
    [ -x "$BENCH_TOOL" ] || BENCH_TOOL=.build/release/pickupbox-bench
    "$BENCH_TOOL" access-log --lines 2000000 --format json --output "$OUT/access-bench.log"
    "$BENCH_TOOL" access-log --lines 2000000 --format text --output "$OUT/access-bench.log"
    # Both servers alike (same binary, database, log format and level), so the difference is the access log.
    start_logged() {  # start_logged <port> <on|off>
      DATABASE_URL="host=$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/run user=postgres dbname=pickupbox" ACCESS_LOG=$2 LOG_LEVEL=info LOG_FORMAT=json \
        SMS_DISPATCHER=off DEADLINE_CHECK_SECONDS=3600 "$BIN" serve --port "$1" ${BENCH_MIGRATIONS:+--migrations "$BENCH_MIGRATIONS"} 2> "$OUT/access-$2.log" >/dev/null &
    }
    start_logged $((PORT + 1)) off; LOG_OFF=$!
    start_logged $((PORT + 2)) on; LOG_ON=$!
    for p in $((PORT + 1)) $((PORT + 2)); do
      for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$p/health" >/dev/null 2>&1 && break; sleep 0.2; done
      wrk -t2 -c64 -d2s "http://127.0.0.1:$p/health" >/dev/null
    done
    FIGURES=()
    for round in 1 2; do
      for side in off on; do
        if [ $side = off ]; then pid=$LOG_OFF; p=$((PORT + 1)); else pid=$LOG_ON; p=$((PORT + 2)); fi
        R=$(cpu_wrk_of "$pid" -t2 -c64 -d"$DURATION" "http://127.0.0.1:$p/health")
        echo "ACCESS_LOG=$side (round $round): $(printf '%s\n' "$R" | awk '/Requests\/sec/ {print $2 " requests/s"}'), $(printf '%s\n' "$R" | grep 'server CPU')"
        FIGURES+=("$(printf '%s\n' "$R" | sed -n 's/.*server CPU per request: \([0-9.]*\).*/\1/p')")
      done
    done
    python3 -c "import sys; f=[float(x) for x in sys.argv[1:5]]; off=(f[0]+f[2])/2; on=(f[1]+f[3])/2; print(f'access log: {off:.1f} µs → {on:.1f} µs of server CPU per request, {on - off:+.1f} µs a line (mean of two rounds); lines written: {sys.argv[5]}')" \
      "${FIGURES[@]}" "$(grep -c '"message":"request"' "$OUT/access-on.log")"
    echo "$(curl -s "http://127.0.0.1:$((PORT + 2))/metrics" | grep '^log_lines_dropped_total')"
    kill -TERM "$LOG_OFF" "$LOG_ON" 2>/dev/null || true
    wait "$LOG_OFF" "$LOG_ON" 2>/dev/null || true
    rm -f "$OUT/access-on.log" "$OUT/access-off.log" "$OUT/access-bench.log"
    echo
  fi
  if want ready; then
    echo "## GET /ready (one prepared SELECT by primary key) — wrk -t2 -c64 -d$DURATION --latency"
    wrk -t2 -c64 -d2s "http://127.0.0.1:$PORT/ready" >/dev/null
    wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT/ready"
    echo "server RSS after: $(rss)"
    echo
  fi
  if want status; then
    echo "## GET /api/v1/status/{vn} — 100,000 applications, random numbers (5 % unknown), wrk -t2 -c64 -d$DURATION --latency -s bench/status.lua"
    (cd bench && python3 seed_status.py --psql "${PSQL[*]}" --count 100000 --numbers-file results/numbers.txt)
    wrk -t2 -c64 -d2s -s bench/status.lua "http://127.0.0.1:$PORT" >/dev/null
    cpu_wrk -t2 -c64 -d"$DURATION" --latency -s bench/status.lua "http://127.0.0.1:$PORT"
    echo "server RSS after: $(rss)"
    # Where the look-ups ran (warm-up included): the event loops' pipelined connections or the pool.
    echo "status look-ups by path: $(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^status_lookups_total{path="\([a-z]*\)"} \(.*\)/\1 \2/p' | paste -sd ' ')"
    echo
  fi
  if want statuspage; then
    [ -s bench/results/numbers.txt ] && want status || (cd bench && python3 seed_status.py --psql "${PSQL[*]}" --count 100000 --numbers-file results/numbers.txt)
    echo "## GET /status?vn=… (the applicant's page, rendered on the server, gzip) — 100,000 applications, wrk -t2 -c64 -d$DURATION --latency -s bench/status_page.lua; then -c8"
    wrk -t2 -c64 -d2s -s bench/status_page.lua "http://127.0.0.1:$PORT" >/dev/null
    python3 bench/route_latency.py --port "$PORT" --save "$OUT/metrics.before"
    cpu_wrk -t2 -c64 -d"$DURATION" --latency -s bench/status_page.lua "http://127.0.0.1:$PORT"
    python3 bench/route_latency.py --port "$PORT" --since "$OUT/metrics.before" --route /status
    # The latency a phone sees when the route is not saturated: 8 connections.
    python3 bench/route_latency.py --port "$PORT" --save "$OUT/metrics.before"
    cpu_wrk -t2 -c8 -d"$DURATION" --latency -s bench/status_page.lua "http://127.0.0.1:$PORT"
    python3 bench/route_latency.py --port "$PORT" --since "$OUT/metrics.before" --route /status
    echo
  fi
  if want applications; then
    echo "## POST /api/v1/applications (logged-in caseworker) — wrk -t2 -c64 -d$DURATION --latency -s bench/create_application.lua"
    cpu_wrk -t2 -c64 -d"$DURATION" --latency -s bench/create_application.lua "http://127.0.0.1:$PORT/api/v1/applications"
    echo "applications created: $("${PSQL[@]}" -Atc "SELECT count(*) FROM application WHERE family_name = 'Bench' AND pickup_method = 'box' AND created_at > now() - interval '5 minutes'")"
    echo
  fi
  if want deliveries; then
    echo "## Automatic assignment during delivery — python3 bench/deliveries.py --count 4000 --batch 100 --clients 8"
    (cd bench && python3 deliveries.py --psql "${PSQL[*]}" --port "$PORT" --cookie="$BENCH_COOKIE" --csrf="$BENCH_CSRF" --count 4000 --batch 100 --clients 8)
    echo
  fi
  # Before the box sections: they add 10,200 boxes to the demo authority, and the dashboard draws a
  # forecast for each box (a city hall has a handful), which the page check would wait for in vain.
  if want dashboard; then
    echo "## Dashboard with ${BENCH_DASHBOARD_APPLICATIONS:-100000} applications over 200 days — psql -v count=… -f bench/seed_dashboard.sql; python3 bench/dashboard.py --runs 20"
    "${PSQL[@]}" -q -v count="${BENCH_DASHBOARD_APPLICATIONS:-100000}" -f bench/seed_dashboard.sql
    timeout 300 python3 bench/dashboard.py --port "$PORT" --cookie="$BENCH_COOKIE" --password="$PASSWORD" --runs 20 || echo "(dashboard.py: exit status $?)"
    echo
  fi
  if want idle; then
    echo "## $IDLE idle keep-alive connections, then /health under wrk -t2 -c64 -d$DURATION --latency"
    python3 bench/idle_connections.py --port "$PORT" --connections "$IDLE" --hold-seconds 40 --ready-file "$OUT/idle.ready" &
    HOLDER=$!
    for _ in $(seq 1 600); do [ -f "$OUT/idle.ready" ] && break; sleep 0.1; done
    cat "$OUT/idle.ready" 2>/dev/null || echo "idle connections: not all set up within 60 s (see bench/idle_connections.py's output above)"
    echo "server RSS with $IDLE idle connections: $(rss)"
    wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT/health"
    echo "server RSS after: $(rss)"
    kill "$HOLDER" 2>/dev/null || true
    wait "$HOLDER" 2>/dev/null || true
    rm -f "$OUT/idle.ready"
    echo
  fi
  if { want longpoll || want pickups; } && ! want status && [ "$BACKGROUND" -gt 0 ]; then
    # The box routes' queries run against the whole application table: give it the size of a full run.
    echo "## (box sections without the status section) background data — python3 bench/seed_status.py --count $BACKGROUND"
    (cd bench && python3 seed_status.py --psql "${PSQL[*]}" --count "$BACKGROUND" --numbers-file results/numbers.txt)
    echo
  fi
  if want longpoll; then
    LP=(python3 bench/longpoll.py --port "$PORT" --tokens-file "$OUT/longpoll_tokens.txt" --boxes "$BOXES" --changes "$BOX_CHANGES"
        --rate "$BOX_RATE" --in-flight 4 --wait 60 --server-pid "$SERVER")
    echo "## $BOXES long-polling boxes (GET /api/v1/box/assignments?since=…&wait=60, one connection and token each), $BOX_CHANGES changes (caseworker blocks/unblocks a compartment) — python3 bench/seed_boxes.py --boxes $BOXES --compartments 1 --tokens-file $OUT/longpoll_tokens.txt; ${LP[*]} --cookie \$BENCH_COOKIE --csrf \$BENCH_CSRF"
    python3 bench/seed_boxes.py --psql "${PSQL[*]}" --boxes "$BOXES" --compartments 1 --site-name "Bench Longpoll" --tokens-file "$OUT/longpoll_tokens.txt"
    timeout 300 "${LP[@]}" --cookie="$BENCH_COOKIE" --csrf="$BENCH_CSRF" || echo "(longpoll.py: exit status $?)"
    echo "server RSS after: $(rss)"
    echo
  fi
  if want pickups; then
    PU=(python3 bench/pickups.py --port "$PORT" --boxes "$PICKUP_BOXES" --compartments "$PICKUP_COMPARTMENTS" --processes "$PICKUP_PROCESSES"
        --connections "$PICKUP_CONNECTIONS" --duration "$PICKUP_SECONDS" --warmup 2 --server-pid "$SERVER" ${POSTMASTER:+--postgres-pid "$POSTMASTER"}
        --secret-key-file "$PICKUPBOX_DATA_DIR/secret-key" ${BENCH_PG_STATEMENTS:+--statements})
    echo "## Pickup verification at the box (POST /api/v1/box/pickups + …/{id}/factors) — ${PU[*]} --psql … --cookie \$BENCH_COOKIE --csrf \$BENCH_CSRF"
    timeout 600 "${PU[@]}" --psql "${PSQL[*]}" --cookie="$BENCH_COOKIE" --csrf="$BENCH_CSRF" || echo "(pickups.py: exit status $?)"
    echo "server RSS after: $(rss)"
    echo
  fi
  if want refusals; then
    # A refused pickup must take as long whichever input was wrong (the tests check the answer and the work;
    # docs/ARCHITECTURE.md#pickup).
    RF=(python3 bench/pickups.py --port "$PORT" --boxes 100 --compartments 2 --refusals 100 --refusals-only
        --secret-key-file "$PICKUPBOX_DATA_DIR/secret-key")
    echo "## Refused pickups, per wrong input (unknown mobile number or wrong PIN; wrong date of birth or PIN letter not confirmed) — ${RF[*]} --psql … --cookie \$BENCH_COOKIE --csrf \$BENCH_CSRF"
    timeout 300 "${RF[@]}" --psql "${PSQL[*]}" --cookie="$BENCH_COOKIE" --csrf="$BENCH_CSRF" || echo "(pickups.py --refusals: exit status $?)"
    echo
  fi
  if want sms; then
    echo "## SMS drain: ${BENCH_SMS_COUNT:-10000} queued messages, one pickupbox process, loopback gateway (pickupbox-bench sms-gateway) — PSQL_HOST=… bench/sms.sh"
    PSQL_HOST="$(readlink -f "$PICKUPBOX_DATA_DIR/postgres")/run" BENCH_BIN="$BIN" timeout 200 bench/sms.sh || echo "(sms.sh: exit status $?)"
    echo
  fi
} 2>&1 | tee "$RESULT"
echo "results in $RESULT"
