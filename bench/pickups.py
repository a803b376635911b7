#!/usr/bin/env python3
"""Pickup verification at the box under load (docs/ARCHITECTURE.md#pickup): `POST /api/v1/box/pickups` (mobile number
and PIN) then `POST /api/v1/box/pickups/{id}/factors` (PIN letter confirmed, date of birth), as pairs,
from several processes with keep-alive connections; reports pickups per second and the latency of
the pair. Part of make bench; loopback only; bounded in time and count.

Set-up, before anything is timed:
1. SQL (bench/seed_boxes.py): a new site open 00:00-24:00 every day with the default pickup factors,
   --boxes boxes of --compartments compartments, each box with its own token.
2. SQL (COPY, as bench/deliveries.py): one box-pickup application per compartment at that site, fee
   settled, first issuance (so the factors are the PIN letter and the date of birth), each with its
   own mobile number and a known date of birth.
3. HTTP, as the caseworker: POST /api/v1/deliveries, 100 documents a call; the server assigns every
   document a compartment in the same transaction.
4. HTTP, as each box: GET /api/v1/box/assignments?since=…&wait=0 for its `to_load` changes, then
   POST /api/v1/box/events `loaded` for each compartment (the server draws the PIN, stores its HMAC
   and puts the "ready" SMS into the sms_message outbox).
5. SQL: the PINs from the outbox SMS texts, opened with the server's secret key (`--secret-key-file`,
   the development key the server keeps in its data directory): the outbox stores them only encrypted
   (AES-256-GCM, key derived with the label `sms-body`, see Sources/App/Security/TextCipher.swift).

A verified pickup does not change the assignment (the factors call only marks the pickup session
verified; the assignment stays `loaded` until the box reports the door events), so every connection
cycles through its own assignments again and again. Each connection plays the panels of its own set
of boxes (a box serves one person at a time), so no two connections use one box at once.
Wrong inputs would lock assignments and block boxes: every input is correct, and the run stops early
if the server refuses anything."""
import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import resource
import selectors
import shlex
import socket
import subprocess
import sys
import threading
import time

from seed_boxes import psql_run, seed
from vorgangsnummer import generate

p = argparse.ArgumentParser()
p.add_argument("--psql", required=True, help="psql command line, one string")
p.add_argument("--port", type=int, required=True)
p.add_argument("--cookie", required=True, help="caseworker session cookie (name=value)")
p.add_argument("--csrf", required=True)
p.add_argument("--boxes", type=int, default=200)
p.add_argument("--compartments", type=int, default=10, help="per box; one loaded assignment each")
p.add_argument("--processes", type=int, default=2, help="client processes")
p.add_argument("--connections", type=int, default=32, help="keep-alive connections in all (each plays the panels of its own boxes)")
p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
p.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
p.add_argument("--max-pairs", type=int, default=1_000_000, help="stop after this many pairs in all")
p.add_argument("--server-pid", type=int, help="for server CPU from /proc")
p.add_argument("--postgres-pid", type=int, help="postmaster pid, for PostgreSQL CPU from /proc (it and its children)")
p.add_argument("--statements", action="store_true",
               help="reset pg_stat_statements when the measurement starts and print its top statements after it "
                    "(the cluster must preload it: BENCH_PG_STATEMENTS=1 bench/run.sh)")
p.add_argument("--refusals", type=int, default=0,
               help="measure the refusal of each wrong input (unknown mobile number, wrong PIN, wrong date of birth) this many "
                    "times, one request at a time, before the load; at most one of each per box (the box's failure limit)")
p.add_argument("--refusals-only", action="store_true", help="stop after the refusal measurement (no load)")
p.add_argument("--secret-key-file", required=True, help="the server's PICKUPBOX_SECRET_KEY (hex), to open the SMS texts in the outbox")
args = p.parse_args()
if args.connections > args.boxes:
    sys.exit("--connections must not exceed --boxes (a box serves one person at a time)")

HOST = "127.0.0.1"
if args.boxes * args.compartments > 1_000_000:
    sys.exit("at most 1,000,000 assignments (document and mobile numbers have six digits for them)")


def log(msg):
    print(msg, flush=True)


def request(conn, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body)
    h = dict(headers or {})
    if data is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    return r.status, r.read()


def parallel(items, threads, fn):
    """Runs fn(item, connection) over items from `threads` threads, each with one keep-alive connection."""
    errors = []
    lock = threading.Lock()
    it = iter(items)

    def run():
        c = http.client.HTTPConnection(HOST, args.port, timeout=60)
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                break
            try:
                fn(item, c)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(e))
        c.close()

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit(f"set-up failed ({len(errors)} errors), e.g. {errors[0]}")


# ---------------------------------------------------------------- set-up
setup_started = time.monotonic()
count = args.boxes * args.compartments
# Document and mobile numbers carry the number of earlier runs against this database, so runs never collide.
tag = int(psql_run(args.psql, "SELECT count(*) FROM site WHERE name LIKE 'Bench Pickups %'").strip())
if tag > 99:
    sys.exit("100 pickup runs against this database already: start from a fresh one")
site, box_tokens = seed(args.psql, "Bench Pickups", args.boxes, args.compartments)
token_of = dict(box_tokens)
t_boxes = time.monotonic()

rng = random.Random()
numbers = set()
while len(numbers) < count:
    numbers.add(generate(rng))
numbers = sorted(numbers)
apps = []
for i, vn in enumerate(numbers):
    mobile = f"+49152{tag:02d}{i:06d}"
    birth = (1950 + i % 50, 1 + i % 12, 1 + i % 28)
    apps.append((vn, mobile, "%04d-%02d-%02d" % birth, f"P{tag:02d}{i:06d}"))
rows = "".join(f"{vn}\t{mobile}\t{birth}\n" for vn, mobile, birth, _ in apps)
psql_run(args.psql, f"""
CREATE TEMP TABLE n (vorgangsnummer text, mobile text, birth text);
COPY n FROM STDIN;
{rows}\\.
INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
    mobile_number, pickup_method, fee_cents, fee_settled, state)
SELECT s.authority_id, gen_random_uuid(), n.vorgangsnummer, s.id, 'eat', 'first', 'Bench', 'Pickup', n.birth, n.mobile, 'box', 10000, true, 'registered'
FROM n, site s WHERE s.id = '{site}';
ANALYZE application;
""")
t_apps = time.monotonic()

headers = {"Cookie": args.cookie, "X-CSRF-Token": args.csrf}
assigned = [0]
batches = [apps[i : i + 100] for i in range(0, len(apps), 100)]


def deliver(batch, c):
    items = [{"documentNumber": doc, "vorgangsnummer": vn} for vn, _, _, doc in batch]
    status, body = request(c, "POST", "/api/v1/deliveries", {"deliveryNoteNumber": f"BENCH-PICKUP-{site[:8]}-{batch[0][3]}", "items": items}, headers)
    if status != 201:
        raise RuntimeError(f"delivery: HTTP {status} {body[:200]!r}")
    assigned[0] += json.loads(body)["summary"]["assigned"]


parallel(batches, 4, deliver)
if assigned[0] != count:
    sys.exit(f"set-up: {assigned[0]} of {count} documents got a compartment")
# Statistics for the tables just filled, as autovacuum would soon have them: without them the planner
# takes the fresh tables for empty, and the feed and `loaded` queries run on those guesses.
psql_run(args.psql, "ANALYZE assignment; ANALYZE document; ANALYZE box_change;")
t_deliveries = time.monotonic()

loaded = [0]


def load_box(box_token, c):
    box, token = box_token
    auth = {"Authorization": f"Bearer {token}"}
    cursor = 0
    while True:
        status, body = request(c, "GET", f"/api/v1/box/assignments?since={cursor}&wait=0", None, auth)
        if status != 200:
            raise RuntimeError(f"feed: HTTP {status} {body[:200]!r}")
        feed = json.loads(body)
        if not feed["changes"]:
            return
        cursor = feed["cursor"]
        for ch in feed["changes"]:
            if ch["kind"] != "to_load":
                continue
            event = {"eventId": f"bench-load-{ch['assignmentId']}", "kind": "loaded", "compartmentNumber": ch["compartmentNumber"],
                     "assignmentId": ch["assignmentId"]}
            status, body = request(c, "POST", "/api/v1/box/events", event, auth)
            if status != 200 or json.loads(body).get("state") != "ready_in_box":
                raise RuntimeError(f"loaded: HTTP {status} {body[:200]!r}")
            loaded[0] += 1


parallel(box_tokens, 8, load_box)
if loaded[0] != count:
    sys.exit(f"set-up: {loaded[0]} of {count} compartments reported loaded")
t_loading = time.monotonic()

# The application table has no index on assignment_id or mobile_number: join the outbox to the box by
# the assignment and take the date of birth from what was seeded (by mobile number).
birth_of = {mobile: birth for _, mobile, birth, _ in apps}
# Statistics again (this query runs for a minute on a fresh outbox without them, and the server's pickup
# queries would be planned on the same guesses).
out = psql_run(args.psql, f"""
ANALYZE assignment;
ANALYZE sms_message;
ANALYZE box_event;
SELECT b.id, m.to_number, m.authority_id, m.id, encode(m.body_sealed, 'hex'), m.body_key_id
FROM sms_message m
JOIN assignment asg ON asg.authority_id = m.authority_id AND asg.id = m.assignment_id AND asg.status = 'loaded'
JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
WHERE b.site_id = '{site}' AND m.template = 'ready_in_box'
ORDER BY b.id, c.number
""")
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

with open(args.secret_key_file) as f:
    secret = bytes.fromhex(f.read().strip())
# As TextCipher.derive: the key is HMAC-SHA256(secret, "pickupbox/sms-body/v1"), the id names the secret.
sms_key = AESGCM(hmac.new(secret, b"pickupbox/sms-body/v1", hashlib.sha256).digest())
sms_key_id = hmac.new(secret, b"pickupbox/key-id/v1", hashlib.sha256).digest()[:8].hex()
work = {}
for line in out.splitlines():
    box, mobile, authority, message, sealed, key_id = line.split("|", 5)
    if not sealed:
        sys.exit("set-up: the outbox SMS has no text (a dispatcher sent it and erased the PIN): run the server with SMS_DISPATCHER=off")
    if key_id != sms_key_id:
        sys.exit("set-up: the outbox texts are sealed with another key than --secret-key-file")
    raw = bytes.fromhex(sealed)
    body = sms_key.decrypt(raw[:12], raw[12:], f"sms_message:{authority}:{message}".encode()).decode()
    pin = re.search(r"PIN: (\d{6})", body).group(1)
    y, mth, d = birth_of[mobile].split("-")
    work.setdefault(box, []).append((mobile, pin, f"{d}.{mth}.{y}"))
if sum(len(v) for v in work.values()) != count:
    sys.exit(f"set-up: {sum(len(v) for v in work.values())} PINs found in the outbox for {count} loaded compartments")
t_pins = time.monotonic()
application_rows = int(psql_run(args.psql, "SELECT count(*) FROM application").strip())
log(f"set-up: {args.boxes} boxes × {args.compartments} compartments (SQL {t_boxes - setup_started:.1f} s), {count} applications (SQL {t_apps - t_boxes:.1f} s), "
    f"delivered and assigned over HTTP in {t_deliveries - t_apps:.1f} s, {count} `loaded` events over HTTP in {t_loading - t_deliveries:.1f} s "
    f"({count / (t_loading - t_deliveries):.0f}/s), PINs from the outbox ({t_pins - t_loading:.1f} s); {application_rows} applications in the database")


# ---------------------------------------------------------------- one pair, checked in full
def pair_once(mobile, pin, birth, token):
    c = http.client.HTTPConnection(HOST, args.port, timeout=30)
    auth = {"Authorization": f"Bearer {token}"}
    s, b = request(c, "POST", "/api/v1/box/pickups", {"mobileNumber": mobile, "pin": pin}, auth)
    if s != 201:
        sys.exit(f"check: pickup HTTP {s} {b[:200]!r}")
    session = json.loads(b)
    if session["factors"] != ["pin_letter", "date_of_birth"]:
        sys.exit(f"check: the site asks for {session['factors']}, the tool gives pin_letter and date_of_birth")
    s, b = request(c, "POST", f"/api/v1/box/pickups/{session['pickupId']}/factors", {"pinLetterConfirmed": True, "dateOfBirth": birth}, auth)
    if s != 200:
        sys.exit(f"check: factors HTTP {s} {b[:200]!r}")
    c.close()
    return json.loads(b)


first_box = next(iter(work))
opened = pair_once(*work[first_box][0], token_of[first_box])
again = pair_once(*work[first_box][0], token_of[first_box])
log(f"check: a pair answers 201 then 200 (compartment {opened['compartmentNumbers']}); the same assignment verifies again: "
    f"{again['assignmentId'] == opened['assignmentId']}")


# ---------------------------------------------------------------- refusals, one wrong input at a time
def measure_refusals(rounds):
    """The same refusal must cost the same, whichever input was wrong (the tests check that the answer and the
    counted work are identical; durations belong here). Per box one of each wrong input, in rotating order, on
    one keep-alive connection, so a burst of load elsewhere hits all alike. First step: an unknown mobile
    number, and a known number with a wrong PIN (the box's first assignment). Second step, after the right
    PIN of the box's second assignment: a wrong date of birth, and the PIN letter not confirmed. What a
    caller can tell apart is a step's refusals, so the medians are compared within each step. Each box
    counts four failures (limit PICKUP_FAILURES_PER_BOX, default 10) and no assignment more than two
    (limit 5), so nothing locks or blocks."""
    boxes = [b for b in work if len(work[b]) >= 2][:rounds]
    if len(boxes) < rounds:
        sys.exit(f"--refusals {rounds}: needs as many boxes with two compartments or more (--boxes, --compartments)")
    c = http.client.HTTPConnection(HOST, args.port, timeout=30)
    steps = {"POST /box/pickups": ["unknown mobile number", "wrong PIN"],
             "POST /box/pickups/{id}/factors": ["wrong date of birth", "PIN letter not confirmed"]}
    kinds = [k for ks in steps.values() for k in ks]
    took = {k: [] for k in kinds}
    answers = set()
    for n, box in enumerate(boxes):
        auth = {"Authorization": f"Bearer {token_of[box]}"}
        (mobile, pin, _), (mobile2, pin2, birth2) = work[box][0], work[box][1]
        d, m, y = birth2.split(".")
        wrong_birth = f"{int(d) % 28 + 1:02d}.{m}.{y}"
        sessions = []
        for _ in range(2):
            s, b = request(c, "POST", "/api/v1/box/pickups", {"mobileNumber": mobile2, "pin": pin2}, auth)
            if s != 201:
                sys.exit(f"refusals: the right PIN got HTTP {s} {b[:200]!r}")
            sessions.append(json.loads(b)["pickupId"])
        tries = {
            "unknown mobile number": ("/api/v1/box/pickups", {"mobileNumber": f"+49170{n:07d}", "pin": pin}),
            "wrong PIN": ("/api/v1/box/pickups", {"mobileNumber": mobile, "pin": f"{(int(pin) + 1) % 1_000_000:06d}"}),
            "wrong date of birth": (f"/api/v1/box/pickups/{sessions[0]}/factors", {"pinLetterConfirmed": True, "dateOfBirth": wrong_birth}),
            "PIN letter not confirmed": (f"/api/v1/box/pickups/{sessions[1]}/factors", {"pinLetterConfirmed": False, "dateOfBirth": birth2}),
        }
        for k in kinds[n % len(kinds):] + kinds[: n % len(kinds)]:
            path, body = tries[k]
            t0 = time.perf_counter()
            s, b = request(c, "POST", path, body, auth)
            took[k].append((time.perf_counter() - t0) * 1000)
            if s != 403:
                sys.exit(f"refusals: {k} got HTTP {s} {b[:200]!r}, not the refusal")
            answers.add(b)
    c.close()

    def q(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * p / 100))]

    log(f"refusals: {rounds} of each wrong input, one request at a time; the answer is byte-identical for all: {len(answers) == 1}")
    for step, ks in steps.items():
        for k in ks:
            log(f"  {step:31s} {k:25s} p50 {q(took[k], 50):6.2f} ms  p90 {q(took[k], 90):6.2f} ms  mean {sum(took[k]) / len(took[k]):6.2f} ms")
        medians = [q(took[k], 50) for k in ks]
        log(f"  {step:31s} difference of the medians: {max(medians) - min(medians):.2f} ms")
    if len(answers) != 1:
        sys.exit(f"refusals: {len(answers)} different answers")


if args.refusals:
    measure_refusals(args.refusals)
if args.refusals_only:
    sys.exit(0)


# ---------------------------------------------------------------- the load
def worker(conn_specs, start_at, measure_from, measure_to, max_pairs, result_pipe):
    """One process: a selector over its connections; each connection runs pair after pair."""
    sel = selectors.DefaultSelector()

    class C:
        __slots__ = ("sock", "buf", "items", "i", "phase", "t0", "item", "token")

    conns = []
    for items in conn_specs:
        c = C()
        c.sock = socket.create_connection((HOST, args.port))
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock.setblocking(False)
        c.buf = bytearray()
        c.items = items
        c.i = 0
        c.phase = 0
        sel.register(c.sock, selectors.EVENT_READ, c)
        conns.append(c)
    lat = []
    counted = 0
    warm = 0
    refused = {}
    samples = []
    stop = False
    cpu_window = [None, None]

    def cpu_now():
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime

    def send(c, data):
        # Requests are small: one send; loopback buffers take them whole.
        c.sock.sendall(data)

    def start_pair(c):
        mobile, pin, birth, token = c.items[c.i % len(c.items)]
        c.i += 1
        c.item = (birth, token)
        body = b'{"mobileNumber":"%s","pin":"%s"}' % (mobile.encode(), pin.encode())
        c.t0 = time.perf_counter()
        c.phase = 1
        send(c, b"POST /api/v1/box/pickups HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (token.encode(), len(body), body))

    while time.time() < start_at:
        time.sleep(0.001)
    for c in conns:
        start_pair(c)
    active = len(conns)
    while active:
        for key, _ in sel.select(1.0):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                refused["connection closed"] = refused.get("connection closed", 0) + 1
                sel.unregister(c.sock)
                active -= 1
                continue
            c.buf += chunk
            end = c.buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            m = re.search(rb"\r\n[Cc]ontent-[Ll]ength:\s*(\d+)", c.buf[:end])
            length = int(m.group(1)) if m else 0
            if len(c.buf) < end + 4 + length:
                continue
            status = int(c.buf[9:12])
            body = bytes(c.buf[end + 4 : end + 4 + length])
            del c.buf[: end + 4 + length]
            now = time.perf_counter()
            ok = (c.phase == 1 and status == 201) or (c.phase == 2 and status == 200)
            if not ok:
                key_ = f"{'pickup' if c.phase == 1 else 'factors'} HTTP {status}"
                refused[key_] = refused.get(key_, 0) + 1
                if len(samples) < 3:
                    samples.append(f"{key_}: {body[:160]!r}")
                stop = True  # wrong answers lock assignments and block boxes: do not go on
            if ok and c.phase == 1:
                pickup_id = re.search(rb'"pickupId":"([0-9A-Fa-f-]{36})"', body).group(1)
                birth, token = c.item
                fbody = b'{"pinLetterConfirmed":true,"dateOfBirth":"%s"}' % birth.encode()
                c.phase = 2
                send(c, b"POST /api/v1/box/pickups/%s/factors HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"
                        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (pickup_id, token.encode(), len(fbody), fbody))
                continue
            if ok:
                wall = time.time()
                if cpu_window[0] is None and wall >= measure_from:
                    cpu_window[0] = cpu_now()
                if measure_from <= wall <= measure_to:
                    lat.append(now - c.t0)
                    counted += 1
                elif wall < measure_from:
                    warm += 1
            if stop or time.time() >= measure_to or counted >= max_pairs:
                if cpu_window[1] is None:
                    cpu_window[1] = cpu_now()
                sel.unregister(c.sock)
                c.sock.close()
                active -= 1
                continue
            start_pair(c)
    result_pipe.send({"lat": lat, "counted": counted, "warm": warm, "refused": refused, "samples": samples,
                      "cpu": (cpu_window[1] or 0) - (cpu_window[0] or 0)})
    result_pipe.close()


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def postgres_pids():
    if not args.postgres_pid:
        return []
    pids = [args.postgres_pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == args.postgres_pid:
                        pids.append(int(d))
            except OSError:
                pass
    return pids


# Boxes to connections: connection k plays boxes k, k+C, k+2C, …; it cycles through their assignments
# box by box (one compartment of each box in turn).
box_ids = sorted(work)
per_conn = [[] for _ in range(args.connections)]
for n, box in enumerate(box_ids):
    per_conn[n % args.connections].append(box)
conn_items = []
for boxes_of in per_conn:
    items = []
    for j in range(args.compartments):
        for box in boxes_of:
            if j < len(work[box]):
                mobile, pin, birth = work[box][j]
                items.append((mobile, pin, birth, token_of[box]))
    conn_items.append(items)
procs = []
pipes = []
start_at = time.time() + 0.5
measure_from = start_at + args.warmup
measure_to = measure_from + args.duration
per_proc_max = max(1, args.max_pairs // args.processes)
for k in range(args.processes):
    specs = conn_items[k :: args.processes]
    if not specs:
        continue
    a, b = mp.Pipe(duplex=False)
    pr = mp.Process(target=worker, args=(specs, start_at, measure_from, measure_to, per_proc_max, b))
    pr.start()
    procs.append(pr)
    pipes.append(a)
pg = postgres_pids()
while time.time() < measure_from:
    time.sleep(0.005)
srv0, pg0 = cpu_of([args.server_pid] if args.server_pid else []), cpu_of(pg)
if args.statements:
    psql_run(args.psql, "SELECT pg_stat_statements_reset()")
time.sleep(max(0.0, measure_to - time.time()))
srv1, pg1 = cpu_of([args.server_pid] if args.server_pid else []), cpu_of(pg)
statements = ""
if args.statements:
    # Per measured pair: how often each statement ran and what it cost (planning + execution), top 15 by time.
    statements = psql_run(args.psql, """
SELECT to_char(calls, 'FM9999999') || ' calls | ' || to_char(total_plan_time + total_exec_time, 'FM999990.0') || ' ms | '
       || to_char((total_plan_time + total_exec_time) * 1000 / greatest(calls, 1), 'FM99990.0') || ' µs/call (plan '
       || to_char(total_plan_time * 1000 / greatest(calls, 1), 'FM99990.0') || ') | ' || regexp_replace(left(query, 110), '\\s+', ' ', 'g')
FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
ORDER BY total_plan_time + total_exec_time DESC LIMIT 15""")
results = []
for a in pipes:
    if a.poll(args.duration + args.warmup + 60):
        results.append(a.recv())
for pr in procs:
    pr.join(10)
    if pr.is_alive():
        pr.terminate()

lat = sorted(x * 1000 for r in results for x in r["lat"])
counted = sum(r["counted"] for r in results)
refused = {}
for r in results:
    for k, v in r["refused"].items():
        refused[k] = refused.get(k, 0) + v
client_cpu = sum(r["cpu"] for r in results)


def pct(q):
    return lat[min(len(lat) - 1, max(0, int(round(q / 100 * len(lat) + 0.5)) - 1))] if lat else float("nan")


log(f"pickups: {counted} verified pairs (pickup + factors) in {args.duration:.0f} s after a {args.warmup:.0f} s warm-up: "
    f"{counted / args.duration:.0f} pickups/s ({2 * counted / args.duration:.0f} requests/s) from {len(procs)} processes × "
    f"{args.connections // max(1, len(procs))} keep-alive connections, {args.boxes} boxes, {count} loaded assignments")
log(f"pair latency (ms): p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {lat[-1] if lat else float('nan'):.1f}")
cpu_line = f"CPU during the measured {args.duration:.0f} s (of {2 * args.duration:.0f} core-seconds on 2 cores): clients {client_cpu:.1f} s"
if args.server_pid:
    cpu_line += f", server {srv1 - srv0:.1f} s"
if pg:
    cpu_line += f", PostgreSQL {pg1 - pg0:.1f} s"
log(cpu_line)
if counted:
    per_pair = f"CPU per verified pair: clients {client_cpu / counted * 1e6:.0f} µs"
    if args.server_pid:
        per_pair += f", server {(srv1 - srv0) / counted * 1e6:.0f} µs ({(srv1 - srv0) / (2 * counted) * 1e6:.0f} µs per request)"
    if pg:
        per_pair += f", PostgreSQL {(pg1 - pg0) / counted * 1e6:.0f} µs"
    log(per_pair)
if statements:
    log("pg_stat_statements during the measured seconds (top 15 by planning + execution time):")
    for line in statements.splitlines():
        log("  " + line)
log(f"refused or failed: {sum(refused.values())} {refused if refused else ''}; client processes that reported: {len(results)} of {len(procs)}")
for r in results:
    for s in r["samples"]:
        log("  e.g. " + s)
sys.exit(0 if not refused and len(results) == len(procs) and counted > 0 else 1)
