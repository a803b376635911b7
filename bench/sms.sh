#!/usr/bin/env bash
# make bench, SMS section (docs/ARCHITECTURE.md#sms): COUNT queued messages drained by ONE pickupbox process to a
# loopback gateway (pickupbox-bench sms-gateway, webhook shape). Reports messages/s and checks that the
# gateway received each message exactly once. Needs the bench cluster of bench/run.sh:
#   PSQL_HOST=<socket dir> [BENCH_SMS_COUNT=10000] [BENCH_SMS_THREADS=2] bench/sms.sh
# Bounded: gives up after 120 s; targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PSQL_HOST:?set PSQL_HOST to the socket directory of the bench cluster}"
COUNT=${BENCH_SMS_COUNT:-10000}
THREADS=${BENCH_SMS_THREADS:-2}
PORT=${BENCH_SMS_SERVER_PORT:-18082}
GATEWAY_PORT=${BENCH_SMS_GATEWAY_PORT:-18090}
STATS_PORT=$((GATEWAY_PORT + 1))
BIN=${BENCH_BIN:-.build/release/pickupbox}
TOOL=${BENCH_TOOL:-.build/release/pickupbox-bench}
OUT=bench/results
mkdir -p "$OUT"
PSQL=(psql -q -h "$PSQL_HOST" -U postgres -d pickupbox -v ON_ERROR_STOP=1)

"$TOOL" sms-gateway --port "$GATEWAY_PORT" --stats-port "$STATS_PORT" --seconds 300 > "$OUT/sms-gateway.log" 2>&1 &
GATEWAY=$!
SENDER=""
cleanup() {
  [ -n "$SENDER" ] && kill -TERM "$SENDER" 2>/dev/null || true
  kill -TERM "$GATEWAY" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$STATS_PORT/stats" >/dev/null 2>&1 && break; sleep 0.1; done

# Messages already queued (the pickup section's "ready" SMS) wait until tomorrow: the gateway counts this run's only.
"${PSQL[@]}" -c "UPDATE sms_message SET next_attempt_at = now() + interval '1 day' WHERE status = 'queued'"
# The queue: COUNT messages of a throw-away authority id, as the outbox holds them (German reminder text, 1 segment).
BATCH=$(cat /proc/sys/kernel/random/uuid)
"${PSQL[@]}" -c "INSERT INTO sms_message (authority_id, id, to_number, template, language, body, encoding, segments)
  SELECT '$BATCH'::uuid, gen_random_uuid(), '+4915112345678', 'reminder', 'de',
         'Erinnerung: Ihr Dokument liegt noch in der Ausgabebox Bürgeramt Mitte. Abholung bis 04.12.2026 mit der PIN aus unserer SMS.', 'gsm7', 1
  FROM generate_series(1, $COUNT)"
echo "queued: $COUNT messages; one sender process with SMS_DISPATCH_THREADS=$THREADS, SMS_BATCH_SIZE=50"

START=$(date +%s.%N)
env DATABASE_URL="host=$PSQL_HOST user=postgres dbname=pickupbox" PICKUPBOX_PORT="$PORT" PICKUPBOX_DATA_DIR="${PICKUPBOX_DATA_DIR:-.pickupbox/bench}" \
    SMS_DISPATCHER=on SMS_PROVIDER=webhook SMS_URL="http://127.0.0.1:$GATEWAY_PORT/sms" SMS_TOKEN=bench-token \
    SMS_RATE_PER_SECOND=100000 SMS_HOURLY_CAP=100000000 SMS_DISPATCH_THREADS="$THREADS" SMS_BATCH_SIZE=50 \
    SMS_REMINDER_DAYS=0 LOG_LEVEL=warning ACCESS_LOG=off DB_POOL_SIZE=4 HTTP_WORKER_THREADS=4 \
    "$BIN" serve > "$OUT/sms-sender.log" 2>&1 &
SENDER=$!
SENT=0
for _ in $(seq 1 1200); do
  SENT=$("${PSQL[@]}" -Atc "SELECT count(*) FROM sms_message WHERE authority_id = '$BATCH' AND status = 'sent'")
  [ "$SENT" -ge "$COUNT" ] && break
  kill -0 "$SENDER" 2>/dev/null || { cat "$OUT/sms-sender.log"; exit 1; }
  sleep 0.1
done
END=$(date +%s.%N)
RSS=$(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$SENDER/status" 2>/dev/null || echo "?")
"${PSQL[@]}" -Atc "SELECT 'drained: ' || count(*) || ' sent; first to last send ' || round(extract(epoch FROM max(sent_at) - min(sent_at))::numeric, 2)
                         || ' s = ' || round((count(*) / greatest(extract(epoch FROM max(sent_at) - min(sent_at)), 0.001))::numeric) || ' messages/s'
                   FROM sms_message WHERE authority_id = '$BATCH' AND status = 'sent'"
python3 -c "import sys; c, s, e = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'wall time from process start (incl. start-up and migrations check): {e - s:.2f} s = {c / (e - s):.0f} messages/s')" "$SENT" "$START" "$END"
echo "sender RSS at the end: $RSS"
echo "gateway: $(curl -fs "http://127.0.0.1:$STATS_PORT/stats")  (each exactly once means accepted = distinct = $COUNT, duplicates = 0)"
[ "$SENT" -ge "$COUNT" ] || { echo "not drained within 120 s"; exit 1; }
