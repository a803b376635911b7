#!/usr/bin/env python3
"""Box long poll under load (docs/ARCHITECTURE.md#box-protocol): holds one long poll per box, N boxes at once, each
`GET /api/v1/box/assignments?since=<cursor>&wait=60` with the box's own bearer token (polling again
whenever one returns), then makes changes to a sample of the boxes and measures how long each change
takes to reach its box: from just before the triggering request is sent until that box's long poll
has returned with the change. Part of make bench; loopback only; bounded in time and count.

The change is the cheapest real one the box sees: a caseworker blocks (then later unblocks) the box's
compartment 1 (`POST /api/v1/boxes/{id}/compartments/1/block`, `.../unblock`). Both write a
`compartment` row to the box's change feed and NOTIFY in the same transaction, like an assignment.
Every sampled box gets a block and, once that has arrived, an unblock; both are measured.

One thread, one epoll selector: the polls, the change requests and the timing share no lock.
Tokens come from bench/seed_boxes.py (`<box id> <token>` a line)."""
import argparse
import http.client
import json
import os
import random
import re
import resource
import selectors
import socket
import struct
import sys
import time

from seed_boxes import read_tokens

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--tokens-file", required=True)
p.add_argument("--boxes", type=int, default=10_000, help="long polls to hold (one per box; at most the boxes in the tokens file)")
p.add_argument("--cookie", required=True, help="caseworker session cookie (name=value)")
p.add_argument("--csrf", required=True)
p.add_argument("--changes", type=int, default=500, help="changes to make (even: a block and an unblock per sampled box)")
p.add_argument("--rate", type=float, default=25.0, help="changes started per second")
p.add_argument("--in-flight", type=int, default=4, help="changes under way at most (sent, not yet seen by the box)")
p.add_argument("--wait", type=int, default=60, help="the polls' wait parameter, seconds")
p.add_argument("--server-pid", type=int, help="for RSS and CPU from /proc")
p.add_argument("--setup-timeout", type=float, default=90.0, help="seconds to get every poll parked")
p.add_argument("--max-seconds", type=float, default=150.0, help="hard limit for the whole run")
p.add_argument("--seed", type=int, default=11)
args = p.parse_args()

HOST = "127.0.0.1"
started_all = time.monotonic()
hard_deadline = started_all + args.max_seconds


def rss_mib():
    if not args.server_pid:
        return None
    with open(f"/proc/{args.server_pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def server_cpu_seconds():
    if not args.server_pid:
        return None
    with open(f"/proc/{args.server_pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_fds():
    if not args.server_pid:
        return None
    try:
        return len(os.listdir(f"/proc/{args.server_pid}/fd"))
    except OSError:
        return None


def metrics():
    c = http.client.HTTPConnection(HOST, args.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out = {}
    for name in ("box_long_polls_waiting", "http_open_connections", "http_queued_requests"):
        m = re.search(r"^" + name + r"(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)
        if m:
            out[name] = float(m.group(1))
    return out


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


class Conn:
    """One keep-alive HTTP/1.1 connection on the selector; one request at a time."""
    __slots__ = ("sock", "out", "buf", "on_response", "busy", "sent_at", "owner")

    def __init__(self, owner):
        self.owner = owner
        self.sock = None
        self.out = b""
        self.buf = bytearray()
        self.busy = False
        self.sent_at = 0.0

    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect((HOST, args.port))
        s.setblocking(False)
        self.sock = s
        self.buf = bytearray()
        sel.register(s, selectors.EVENT_READ, self)

    def send(self, data):
        if self.sock is None:
            self.open()
        self.busy = True
        self.sent_at = time.perf_counter()
        n = self.sock.send(data)
        if n < len(data):
            self.out = data[n:]
            sel.modify(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def flush(self):
        n = self.sock.send(self.out)
        self.out = self.out[n:]
        if not self.out:
            sel.modify(self.sock, selectors.EVENT_READ, self)

    def close(self):
        if self.sock is not None:
            try:
                sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()
            self.sock = None
        self.busy = False

    def read(self, now):
        """Returns (status, body) once a whole response is in, None while waiting, or raises EOFError."""
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return None
        except ConnectionError:
            raise EOFError
        if not chunk:
            raise EOFError
        self.buf += chunk
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buf[:end]).decode("latin-1")
        m = re.search(r"\r\ncontent-length:\s*(\d+)", head, re.I)
        length = int(m.group(1)) if m else 0
        if len(self.buf) < end + 4 + length:
            return None
        body = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        self.busy = False
        status = int(head.split(" ", 2)[1])
        if re.search(r"\r\nconnection:\s*close", head, re.I):
            self.close()
        return status, body


class Box:
    __slots__ = ("index", "box_id", "token", "cursor", "conn", "expect", "polls", "retry_at", "blocked")

    def __init__(self, index, box_id, token):
        self.index = index
        self.box_id = box_id
        self.token = token
        self.cursor = 0
        self.conn = Conn(self)
        self.expect = None  # the change under way for this box
        self.polls = 0
        self.retry_at = None
        self.blocked = False

    def poll(self):
        self.polls += 1
        self.conn.send((f"GET /api/v1/box/assignments?since={self.cursor}&wait={args.wait} HTTP/1.1\r\nHost: bench\r\n"
                        f"Authorization: Bearer {self.token}\r\n\r\n").encode())


class Change:
    __slots__ = ("box", "action", "sent", "answered", "seen", "status")

    def __init__(self, box, action):
        self.box = box
        self.action = action
        self.sent = None
        self.answered = None
        self.seen = None
        self.status = None


class Trigger:
    """A caseworker's keep-alive connection that makes the changes."""
    __slots__ = ("conn", "change")

    def __init__(self):
        self.conn = Conn(self)
        self.change = None

    def start(self, change):
        self.change = change
        box = change.box
        body = b'{"reason":"maintenance","note":"bench"}' if change.action == "block" else b"{}"
        req = (f"POST /api/v1/boxes/{box.box_id}/compartments/1/{change.action} HTTP/1.1\r\nHost: bench\r\n"
               f"Cookie: {args.cookie}\r\nX-CSRF-Token: {args.csrf}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        box.expect = change
        change.sent = time.perf_counter()   # just before the request leaves
        self.conn.send(req)


tokens = read_tokens(args.tokens_file)
if len(tokens) < args.boxes:
    sys.exit(f"{args.tokens_file} has {len(tokens)} boxes, {args.boxes} asked for")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < args.boxes + 100:
    sys.exit(f"open-file limit {soft} is too low for {args.boxes} connections (raise it with ulimit -n)")

sel = selectors.DefaultSelector()
boxes = [Box(i, b, t) for i, (b, t) in enumerate(tokens[: args.boxes])]
counts = {"poll_ok": 0, "poll_expired": 0, "poll_errors": 0, "poll_closed": 0, "overloaded": 0, "trigger_errors": 0,
          "earlier_changes": 0}
error_samples = []
changes_done = []
state = {"in_flight": 0}
rss_before = rss_mib()


def handle_poll(box, status, body, now):
    if status != 200:
        if status == 503:
            counts["overloaded"] += 1
        else:
            counts["poll_errors"] += 1
            if len(error_samples) < 5:
                error_samples.append(f"poll HTTP {status}: {body[:200]!r}")
        box.retry_at = time.monotonic() + (0.2 if status == 503 else 1.0)
        return
    counts["poll_ok"] += 1
    feed = json.loads(body)
    box.cursor = feed["cursor"]
    changes = feed["changes"]
    if not changes:
        counts["poll_expired"] += 1
    elif box.expect is not None and box.expect.sent is not None and any(
            c["kind"] == "compartment" and c["compartmentNumber"] == 1 for c in changes):
        ch = box.expect
        ch.seen = now
        box.expect = None
        state["in_flight"] -= 1
        changes_done.append(ch)
        if ch.action == "block":
            box.blocked = True
            pending.append(Change(box, "unblock"))
        else:
            box.blocked = False
    else:
        counts["earlier_changes"] += 1  # e.g. a box's first poll (since=0) finds changes of an earlier run
    box.poll()


def handle_trigger(trigger, status, body, now):
    ch = trigger.change
    ch.answered = now
    ch.status = status
    trigger.change = None
    if status != 200:
        counts["trigger_errors"] += 1
        if len(error_samples) < 5:
            error_samples.append(f"{ch.action} HTTP {status}: {body[:200]!r}")
        if ch.box.expect is ch:
            ch.box.expect = None
            state["in_flight"] -= 1


def pump(timeout):
    for key, events in sel.select(timeout):
        conn = key.data
        if events & selectors.EVENT_WRITE and conn.out:
            conn.flush()
        if not events & selectors.EVENT_READ or conn.sock is None:
            continue
        now = time.perf_counter()
        try:
            r = conn.read(now)
        except EOFError:
            conn.close()
            owner = conn.owner
            if isinstance(owner, Box):
                counts["poll_closed"] += 1
                owner.retry_at = time.monotonic() + 1.0
            else:
                counts["trigger_errors"] += 1
                ch = owner.change
                owner.change = None
                if ch is not None and ch.box.expect is ch:
                    ch.box.expect = None
                    state["in_flight"] -= 1
            continue
        if r is None:
            continue
        if isinstance(conn.owner, Box):
            handle_poll(conn.owner, r[0], r[1], now)
        else:
            handle_trigger(conn.owner, r[0], r[1], now)


def retry_polls():
    """Polls again on the connections whose last poll failed, once their pause is over."""
    t = time.monotonic()
    for b in boxes:
        if b.retry_at is not None and b.retry_at <= t:
            b.retry_at = None
            b.poll()

# --- Setup: open the connections and park a poll on each, paced by what the server reports as parked
# (the server's worker queue holds 4,096 requests; beyond it new ones get 503).
setup_started = time.monotonic()
sent = 0
step = 500
last_retry_scan = 0.0
parked = 0.0
while True:
    now = time.monotonic()
    if now > setup_started + args.setup_timeout or now > hard_deadline:
        break
    m = metrics()
    parked = m.get("box_long_polls_waiting", 0)
    if sent >= len(boxes) and parked >= len(boxes):
        break
    if sent < len(boxes) and sent - parked < 2 * step:
        for b in boxes[sent : sent + step]:
            b.poll()
        sent = min(len(boxes), sent + step)
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        pump(0.02)
    if now - last_retry_scan > 0.5:
        last_retry_scan = now
        retry_polls()
setup_seconds = time.monotonic() - setup_started
m = metrics()
parked = int(m.get("box_long_polls_waiting", 0))
rss_parked = rss_mib()
fds = server_fds()

# --- Quiet hold: what holding the polls costs the server.
cpu0 = server_cpu_seconds()
hold_end = time.monotonic() + 3
while time.monotonic() < hold_end:
    pump(0.1)
cpu1 = server_cpu_seconds()
hold_cpu = None if cpu0 is None else (cpu1 - cpu0) / 3 * 100

# --- Changes: blocks for a random sample of boxes, each followed by an unblock once it arrived.
rng = random.Random(args.seed)
sample = rng.sample(boxes, min(len(boxes), max(1, args.changes // 2)))
pending = [Change(b, "block") for b in sample if not b.blocked]
triggers = [Trigger() for _ in range(args.in_flight)]
started_changes = 0
rss_max = rss_parked or 0
change_phase_started = time.monotonic()
next_start = change_phase_started
change_deadline = min(hard_deadline, change_phase_started + args.changes / args.rate + 30)
last_rss = 0.0
while time.monotonic() < change_deadline:
    now = time.monotonic()
    in_flight = state["in_flight"]
    if started_changes < args.changes and now >= next_start and in_flight < args.in_flight and pending:
        free = next((t for t in triggers if t.change is None and not t.conn.busy), None)
        if free is not None:
            free.start(pending.pop(0))
            state["in_flight"] += 1
            started_changes += 1
            next_start += 1 / args.rate
    if started_changes >= args.changes and state["in_flight"] == 0:
        break
    pump(0.002)
    if now - last_rss > 1:
        last_rss = now
        r = rss_mib()
        if r:
            rss_max = max(rss_max, r)
        retry_polls()
change_seconds = time.monotonic() - change_phase_started
m_end = metrics()
rss_end = rss_mib()
# Leave with a reset (SO_LINGER 0): the server drops a poll at once when its connection fails, but a
# plain close (FIN) leaves the poll parked until its wait runs out (the server takes FIN as "done
# sending" and keeps the request), which would disturb the next benchmark for up to a minute.
linger = struct.pack("ii", 1, 0)
for b in boxes:
    if b.conn.sock is not None:
        b.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    b.conn.close()
for t in triggers:
    t.conn.close()
time.sleep(1)
m_after = metrics()

lat = [(c.seen - c.sent) * 1000 for c in changes_done]
req = [(c.answered - c.sent) * 1000 for c in changes_done if c.answered]
missed = started_changes - len(changes_done)
usage = resource.getrusage(resource.RUSAGE_SELF)
fmt = lambda v: "n/a" if v is None else f"{v:.1f} MiB"
print(f"long polls: {len(boxes)} connections, one per box; box_long_polls_waiting {parked} after {setup_seconds:.1f} s "
      f"({sum(b.polls for b in boxes)} poll requests so far); open-file limit {soft}; server fds {fds}")
print(f"server RSS: {fmt(rss_before)} before, {fmt(rss_parked)} with all polls parked, max {fmt(rss_max)} during the changes, {fmt(rss_end)} after")
if hold_cpu is not None:
    print(f"server CPU while {parked} polls sit parked (3 s, no changes): {hold_cpu:.1f} % of one core")
print(f"changes: {started_changes} made ({sum(1 for c in changes_done if c.action == 'block')} blocks, "
      f"{sum(1 for c in changes_done if c.action == 'unblock')} unblocks seen) in {change_seconds:.1f} s at ≤ {args.rate:g}/s, "
      f"≤ {args.in_flight} under way; seen by their box: {len(changes_done)}; missed: {missed}")
print(f"change → box's poll answered with it (ms): p50 {pct(lat, 50):.1f}  p90 {pct(lat, 90):.1f}  p99 {pct(lat, 99):.1f}  "
      f"max {max(lat) if lat else float('nan'):.1f}  (n={len(lat)})")
print(f"the block/unblock request itself (ms): p50 {pct(req, 50):.1f}  p90 {pct(req, 90):.1f}  p99 {pct(req, 99):.1f}  "
      f"max {max(req) if req else float('nan'):.1f}")
after = [(c.seen - c.answered) * 1000 for c in changes_done if c.answered]
print(f"box's poll answered minus that request's answer (ms; below 0: the box heard first): p50 {pct(after, 50):.1f}  "
      f"p99 {pct(after, 99):.1f}  max {max(after) if after else float('nan'):.1f}")
print(f"errors: poll non-200 {counts['poll_errors']}, poll connections closed {counts['poll_closed']}, 503 at setup {counts['overloaded']}, "
      f"change requests failed {counts['trigger_errors']}, answers with other (earlier) changes {counts['earlier_changes']}; "
      f"empty answers (wait expired, polled again) {counts['poll_expired']}")
print(f"polls waiting at the end {int(m_end.get('box_long_polls_waiting', 0))}, 1 s after the clients reset their connections "
      f"{int(m_after.get('box_long_polls_waiting', 0))} (open connections {int(m_after.get('http_open_connections', 0))})")
print(f"client: {usage.ru_utime + usage.ru_stime:.1f} s CPU over {time.monotonic() - started_all:.1f} s")
for e in error_samples:
    print("  e.g. " + e)
ok = parked >= len(boxes) and missed == 0 and counts["poll_errors"] == 0 and counts["trigger_errors"] == 0
sys.exit(0 if ok else 1)
