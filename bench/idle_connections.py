#!/usr/bin/env python3
"""Opens N keep-alive connections to a pickupbox server on loopback, proves each one works with
one GET /health, then holds them idle for a bounded time. Part of `make bench`.

Writes a one-line summary to --ready-file once every connection is established and answered."""
import argparse
import selectors
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--connections", type=int, default=10000)
parser.add_argument("--hold-seconds", type=float, default=30)
parser.add_argument("--ready-file", required=True)
args = parser.parse_args()

REQUEST = b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n"
sel = selectors.DefaultSelector()
sockets = []
started = time.monotonic()
for i in range(args.connections):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect(("127.0.0.1", args.port))
    s.setblocking(False)
    s.send(REQUEST)
    sel.register(s, selectors.EVENT_READ, bytearray())
    sockets.append(s)

answered = 0
failed = 0
deadline = time.monotonic() + 60
while answered + failed < len(sockets) and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=1):
        buf = key.data
        try:
            chunk = key.fileobj.recv(4096)
        except BlockingIOError:
            continue
        except ConnectionError:  # refused by the server (a limit): counted, not a crash
            chunk = b""
        if not chunk:
            failed += 1
            sel.unregister(key.fileobj)
            continue
        buf.extend(chunk)
        if b"\r\n\r\n" in buf and buf.endswith(b'{"status":"ok"}'):
            ok = buf.startswith(b"HTTP/1.1 200")
            answered += 1 if ok else 0
            failed += 0 if ok else 1
            sel.unregister(key.fileobj)

elapsed = time.monotonic() - started
summary = f"idle connections: {answered} open and answered, {failed} failed, set up in {elapsed:.1f} s\n"
with open(args.ready_file, "w") as f:
    f.write(summary)
time.sleep(args.hold_seconds)
for s in sockets:
    s.close()
sys.exit(0 if failed == 0 else 1)
