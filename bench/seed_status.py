#!/usr/bin/env python3
"""Seeds N applications into the demo authority of a running bench server (through psql and COPY),
and writes the list of numbers wrk asks for: the known ones plus 5 % unknown ones. Part of make bench."""
import argparse
import random
import shlex
import subprocess
import sys

from vorgangsnummer import generate

p = argparse.ArgumentParser()
p.add_argument("--psql", required=True, help="psql command line (host, user, database), one string")
p.add_argument("--count", type=int, default=100_000)
p.add_argument("--numbers-file", required=True)
p.add_argument("--state", default="ready_in_box")
args = p.parse_args()

rng = random.Random(42)
states = ["in_production", "ready_in_box", "ready_at_counter", "collected", "registered"]
numbers = set()
while len(numbers) < args.count:
    numbers.add(generate(rng))
numbers = sorted(numbers)
rows = []
for i, n in enumerate(numbers):
    state = states[i % len(states)]
    rows.append(f"{n}\t{state}\n")
sql = """
CREATE TEMP TABLE bench_numbers (vorgangsnummer text, state text);
COPY bench_numbers FROM STDIN;
{rows}\\.
INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
    mobile_number, pickup_method, fee_cents, fee_settled, state, pickup_deadline)
SELECT s.authority_id, gen_random_uuid(), b.vorgangsnummer, s.id, 'eat', 'first', 'Bench', 'Mark', '1990-01-01', '+4915100000000',
    'counter', 10000, true, b.state, CASE WHEN b.state = 'ready_in_box' THEN current_date + 10 END
FROM bench_numbers b, (SELECT s.authority_id, s.id FROM site s JOIN authority a ON a.id = s.authority_id WHERE a.slug = 'demo' LIMIT 1) s
ON CONFLICT DO NOTHING;
ANALYZE application;
""".replace("{rows}", "".join(rows))
result = subprocess.run(shlex.split(args.psql) + ["-v", "ON_ERROR_STOP=1", "-q"], input=sql, text=True, capture_output=True)
if result.returncode != 0:
    sys.exit("seeding failed: " + result.stderr)
unknown = [generate(rng) for _ in range(len(numbers) * 5 // 95)]
with open(args.numbers_file, "w") as f:
    for n in numbers + unknown:
        f.write(n + "\n")
print(f"seeded {len(numbers)} applications; {len(unknown)} unknown numbers mixed in ({len(unknown) * 100 // (len(numbers) + len(unknown))} %)")
