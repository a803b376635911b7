#!/usr/bin/env python3
"""Automatic assignment during delivery: registers N settled box applications (COPY), then records
deliveries of --batch items from --clients threads and reports documents per second. The box must
have room: the script adds a bench box with enough compartments. Part of make bench."""
import argparse
import http.client
import json
import random
import shlex
import subprocess
import sys
import threading
import time

from vorgangsnummer import generate

p = argparse.ArgumentParser()
p.add_argument("--psql", required=True, help="psql command line, one string")
p.add_argument("--port", type=int, required=True)
p.add_argument("--cookie", required=True)
p.add_argument("--csrf", required=True)
p.add_argument("--count", type=int, default=4000)
p.add_argument("--batch", type=int, default=100)
p.add_argument("--clients", type=int, default=8)
args = p.parse_args()

rng = random.Random(7)
numbers = sorted({generate(rng) for _ in range(args.count * 2)})[: args.count]
sql = """
CREATE TEMP TABLE n (vorgangsnummer text);
COPY n FROM STDIN;
{rows}\\.
WITH s AS (SELECT s.authority_id, s.id FROM site s JOIN authority a ON a.id = s.authority_id WHERE a.slug = 'demo' LIMIT 1),
     b AS (INSERT INTO box (authority_id, id, site_id, name) SELECT authority_id, gen_random_uuid(), id, 'Bench ' || now()::text FROM s RETURNING authority_id, id)
INSERT INTO compartment (authority_id, id, box_id, number, row_index, column_index, size_class, floor_height_cm, accessible)
SELECT b.authority_id, gen_random_uuid(), b.id, g, 1 + (g - 1) / 100, 1 + (g - 1) % 100, 1, 150, false FROM b, generate_series(1, {count}) g;
INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
    mobile_number, pickup_method, fee_cents, fee_settled, state)
SELECT s.authority_id, gen_random_uuid(), n.vorgangsnummer, s.id, 'eat', 'first', 'Bench', 'Mark', '1990-01-01', '+4915100000000', 'box', 10000, true, 'registered'
FROM n, (SELECT s.authority_id, s.id FROM site s JOIN authority a ON a.id = s.authority_id WHERE a.slug = 'demo' LIMIT 1) s;
""".replace("{rows}", "".join(x + "\n" for x in numbers)).replace("{count}", str(args.count))
r = subprocess.run(shlex.split(args.psql) + ["-v", "ON_ERROR_STOP=1", "-q"], input=sql, text=True, capture_output=True)
if r.returncode != 0:
    sys.exit("seeding failed: " + r.stderr)

batches = [numbers[i : i + args.batch] for i in range(0, len(numbers), args.batch)]
results = {"assigned": 0, "errors": 0}
lock = threading.Lock()
run_id = int(time.time())


def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    for b, batch in enumerate(batches):
        if b % args.clients != k:
            continue
        items = [{"documentNumber": "L%08d" % (b * args.batch + i), "vorgangsnummer": n} for i, n in enumerate(batch)]
        body = json.dumps({"deliveryNoteNumber": f"BENCH-{run_id}-{b}", "items": items})
        conn.request("POST", "/api/v1/deliveries", body=body, headers={
            "Content-Type": "application/json", "Cookie": args.cookie, "X-CSRF-Token": args.csrf})
        resp = conn.getresponse()
        data = resp.read()
        with lock:
            if resp.status != 201:
                results["errors"] += 1
            else:
                results["assigned"] += json.loads(data)["summary"]["assigned"]


started = time.monotonic()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
print(f"deliveries: {len(numbers)} documents in {len(batches)} deliveries of {args.batch} from {args.clients} clients: "
      f"{elapsed:.2f} s, {len(numbers) / elapsed:.0f} documents/s, {results['assigned']} assigned, {results['errors']} failed requests")
