#!/usr/bin/env python3
"""Seeds a bench site with N boxes of K compartments each, every box with its own bearer token, into
the demo authority of a running bench server (through psql and COPY). Part of make bench.

Creating 10,000 boxes through the API takes three requests each (POST /boxes, POST /boxes/{id}/token,
POST /boxes/{id}/compartments, every one a transaction with an fsync'd commit), and `pickupbox box
create` starts a process per box; COPY takes a second or two. The rows are what the server itself
stores (Sources/App/Boxes/BoxAdmin.swift, BoxAdmin+Layout.swift):
- the token: 32 random bytes in base64url without padding (43 characters, as Crypto.token()); the box
  row keeps only SHA-256 of its UTF-8 bytes in token_hash (what BoxAuth.principal looks up), plus
  token_created_at;
- panel_languages the default {de,en}; compartments numbered 1..K row by row, size class 1, not
  accessible (floor 150 cm); state available;
- the audit events of the operator command (actor system): box.created with {"siteId"},
  box.token_issued, box.compartments_created.
The site is new, open 00:00-24:00 every day (as the tests' openAllWeek), with the default pickup
factors of migration 0005 (PIN letter, date of birth or CAN, old document for renewals).

The tokens go to --tokens-file (mode 0600), one box a line: `<box id> <token>`."""
import argparse
import hashlib
import os
import secrets
import shlex
import subprocess
import sys
import time
import uuid


def psql_run(psql, sql):
    r = subprocess.run(shlex.split(psql) + ["-v", "ON_ERROR_STOP=1", "-q", "-At"], input=sql, text=True, capture_output=True)
    if r.returncode != 0:
        sys.exit("psql failed: " + r.stderr.strip())
    return r.stdout


def seed(psql, site_name, boxes, compartments, columns=10):
    """Creates the site, boxes, compartments and tokens; returns (site id, [(box id, token)])."""
    site = str(uuid.uuid4())
    rows = []
    created = []
    tag = site[:8]
    for i in range(boxes):
        box = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        rows.append(f"{box}\t{site_name} {tag} {i + 1:05d}\t\\\\x{digest}\n")
        created.append((box, token))
    rows_per_box = (compartments + columns - 1) // columns
    sql = f"""
BEGIN;
CREATE TEMP TABLE bench_box (id uuid, name text, token_hash bytea);
COPY bench_box FROM STDIN;
{"".join(rows)}\\.
CREATE TEMP TABLE bench_ctx AS
    SELECT a.id AS authority_id, '{site}'::uuid AS site_id FROM authority a WHERE a.slug = 'demo';
INSERT INTO site (authority_id, id, name, address, land)
    SELECT authority_id, site_id, '{site_name} {tag}', 'Benchstraße 1, 44135 Musterstadt', 'NW' FROM bench_ctx;
INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
    SELECT authority_id, site_id, d, time '00:00', time '24:00' FROM bench_ctx, generate_series(1, 7) d;
INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
    SELECT authority_id, 'system', 'site.created', 'site', site_id, jsonb_build_object('land', 'NW') FROM bench_ctx;
INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
    SELECT authority_id, 'system', 'site.hours_replaced', 'site', site_id, jsonb_build_object('intervals', '7') FROM bench_ctx;
INSERT INTO box (authority_id, id, site_id, name, token_hash, token_created_at)
    SELECT c.authority_id, b.id, c.site_id, b.name, b.token_hash, now() FROM bench_box b, bench_ctx c;
INSERT INTO compartment (authority_id, id, box_id, number, row_index, column_index, size_class, floor_height_cm, accessible)
    SELECT c.authority_id, gen_random_uuid(), b.id, n, 1 + (n - 1) / {columns}, 1 + (n - 1) % {columns}, 1, 150, false
    FROM bench_box b, bench_ctx c, generate_series(1, {compartments}) n;
INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
    SELECT c.authority_id, 'system', 'box.created', 'box', b.id, jsonb_build_object('siteId', c.site_id::text) FROM bench_box b, bench_ctx c;
INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id)
    SELECT c.authority_id, 'system', 'box.token_issued', 'box', b.id FROM bench_box b, bench_ctx c;
INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
    SELECT c.authority_id, 'system', 'box.compartments_created', 'box', b.id,
           jsonb_build_object('firstNumber', '1', 'lastNumber', '{compartments}', 'accessible', '0') FROM bench_box b, bench_ctx c;
COMMIT;
ANALYZE box;
ANALYZE compartment;
SELECT count(*) FROM box WHERE site_id = '{site}';
"""
    assert rows_per_box <= 1000
    out = psql_run(psql, sql).strip().splitlines()
    if not out or int(out[-1]) != boxes:
        sys.exit(f"seeding boxes failed: {out}")
    return site, created


def write_tokens(path, created):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for box, token in created:
            f.write(f"{box} {token}\n")


def read_tokens(path):
    with open(path) as f:
        return [tuple(line.split()) for line in f if line.strip()]


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--psql", required=True, help="psql command line, one string")
    p.add_argument("--boxes", type=int, default=10_000)
    p.add_argument("--compartments", type=int, default=1, help="compartments per box")
    p.add_argument("--site-name", default="Bench Longpoll")
    p.add_argument("--tokens-file", required=True)
    args = p.parse_args()
    started = time.monotonic()
    site, created = seed(args.psql, args.site_name, args.boxes, args.compartments)
    write_tokens(args.tokens_file, created)
    print(f"seeded {args.boxes} boxes with {args.compartments} compartment(s) each and their own tokens at site {site} "
          f"(SQL/COPY, {time.monotonic() - started:.1f} s); tokens in {args.tokens_file}")
