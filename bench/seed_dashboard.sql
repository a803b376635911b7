-- make bench, dashboard section: :count applications of the demo authority spread over the last 200
-- days as a busy site would have them — registered, produced in 21 days, delivered (one delivery note
-- a day), 70 % collected from the demo box 0–9 days after loading, the rest at the counter; the
-- newest still in production. Historical assignments only (collected), so the live-compartment
-- index is untouched. Run with: psql -v count=100000 -f bench/seed_dashboard.sql
\set ON_ERROR_STOP on
CREATE TEMP TABLE demo AS
SELECT s.authority_id AS a, s.id AS site, (SELECT id FROM app_user u WHERE u.authority_id = s.authority_id ORDER BY username LIMIT 1) AS u,
       (SELECT array_agg(c.id) FROM compartment c JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
        WHERE b.authority_id = s.authority_id AND b.site_id = s.id) AS compartments
FROM site s JOIN authority au ON au.id = s.authority_id WHERE au.slug = 'demo' AND s.name = 'Bürgeramt Mitte';

INSERT INTO delivery (authority_id, id, delivery_note_number, received_at, received_by)
SELECT a, gen_random_uuid(), 'DASH-' || d, date_trunc('day', now()) - make_interval(days => d) + interval '9 hours', u
FROM demo, generate_series(0, 179) d;

CREATE TEMP TABLE plan AS
SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS assignment,
       (i % 200) AS age_days,                                  -- created this many days ago
       (i % 200) - 21 AS delivered_days_ago,                   -- negative: still in production
       ((i / 200) % 10) AS stay_days,
       (i % 10) < 7 AS box
FROM generate_series(1, :count) i;

INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
    mobile_number, pickup_method, fee_cents, fee_settled, state, created_at, collected_at)
SELECT d.a, p.id, 'DASH-' || lpad(p.i::text, 9, '0'), d.site, 'eat', 'first', 'Bench', 'Dash', '1990-01-01', '+4915100000000',
       CASE WHEN p.box THEN 'box' ELSE 'counter' END, 10000, true,
       CASE WHEN p.delivered_days_ago < 0 THEN 'in_production'
            WHEN p.delivered_days_ago - p.stay_days >= 0 THEN 'collected'
            ELSE 'ready_at_counter' END,
       now() - make_interval(days => p.age_days),
       CASE WHEN p.delivered_days_ago >= 0 AND p.delivered_days_ago - p.stay_days >= 0
            THEN date_trunc('day', now()) - make_interval(days => p.delivered_days_ago - p.stay_days) + interval '13 hours' END
FROM plan p, demo d;

INSERT INTO document (authority_id, document_number, delivery_id, application_id)
SELECT d.a, 'D' || lpad(p.i::text, 8, '0'), dl.id, p.id
FROM plan p CROSS JOIN demo d JOIN delivery dl ON dl.authority_id = d.a AND dl.delivery_note_number = 'DASH-' || p.delivered_days_ago
WHERE p.delivered_days_ago BETWEEN 0 AND 179;

-- The delivery notes' items, as recording a delivery writes them (one matched item per document).
INSERT INTO delivery_item (authority_id, delivery_id, position, document_number, vorgangsnummer, result, application_id)
SELECT d.authority_id, d.delivery_id, row_number() OVER (PARTITION BY d.delivery_id ORDER BY d.document_number), d.document_number,
       a.vorgangsnummer, 'matched', d.application_id
FROM document d JOIN application a ON a.authority_id = d.authority_id AND a.id = d.application_id
WHERE d.document_number LIKE 'D%' AND a.vorgangsnummer LIKE 'DASH-%';

INSERT INTO assignment (authority_id, id, compartment_id, status, assigned_at, loaded_at, collected_at)
SELECT d.a, p.assignment, d.compartments[1 + p.i % array_length(d.compartments, 1)], 'collected',
       date_trunc('day', now()) - make_interval(days => p.delivered_days_ago) + interval '10 hours',
       date_trunc('day', now()) - make_interval(days => p.delivered_days_ago) + interval '11 hours',
       date_trunc('day', now()) - make_interval(days => p.delivered_days_ago - p.stay_days) + interval '13 hours'
FROM plan p, demo d
WHERE p.box AND p.delivered_days_ago BETWEEN 0 AND 179 AND p.delivered_days_ago - p.stay_days >= 0;

UPDATE application a SET assignment_id = p.assignment FROM plan p
WHERE a.id = p.id AND p.box AND p.delivered_days_ago BETWEEN 0 AND 179 AND p.delivered_days_ago - p.stay_days >= 0;

ANALYZE application; ANALYZE assignment; ANALYZE document; ANALYZE delivery; ANALYZE delivery_item;
SELECT count(*) AS applications, count(*) FILTER (WHERE state = 'collected') AS collected FROM application;
