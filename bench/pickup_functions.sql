-- What a pickup pair costs PostgreSQL in one backend (BENCHMARKS.md): the two steps' functions,
-- pickup_start_claimed and pickup_verify_claimed (migration 0025), called from a procedure with a COMMIT
-- after each, as the server runs each step in its own transaction, but without the protocol, the server
-- and the other backends. Run by bench/pickup_functions.py, which reads the backend's CPU time.
--
-- Only against the database a `make bench` run left behind (.pickupbox/bench), never production: it
-- gives one loaded assignment a known PIN key ('\x01') and leaves the sessions and audit events it made.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_pickup_target;
CREATE TABLE bench_pickup_target AS
SELECT a.authority_id, b.id AS box_id, b.token_hash, a.mobile_number, asg.id AS assignment_id,
       s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document
FROM application a
JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
JOIN box b ON b.authority_id = cp.authority_id AND b.id = cp.box_id
JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
WHERE a.state = 'ready_in_box' AND asg.status = 'loaded' AND NOT asg.locked AND b.token_hash IS NOT NULL
  AND b.pickups_blocked_until IS NULL
ORDER BY asg.id
LIMIT 1;
-- The digest the first step compares: sha256(PIN key || assignment id), here with the key '\x01'.
UPDATE assignment SET pin_digest = sha256('\x01'::bytea || uuid_send(id)), pin_expires_at = now() + interval '30 days'
WHERE id = (SELECT assignment_id FROM bench_pickup_target);

CREATE OR REPLACE PROCEDURE bench_pickup_pairs(n integer) LANGUAGE plpgsql AS $$
DECLARE
    t record;
    session uuid;
    r record;
BEGIN
    SELECT * INTO STRICT t FROM bench_pickup_target;
    FOR i IN 1..n LOOP
        session := gen_random_uuid();
        SELECT * INTO r FROM pickup_start_claimed(t.token_hash, t.authority_id, t.box_id, t.pickup_requires_pin_letter,
            t.pickup_second_factor, t.pickup_requires_old_document, t.mobile_number, '\x01'::bytea, session,
            ARRAY['pin_letter', 'date_of_birth'], ARRAY['pin_letter', 'can'], ARRAY['pin_letter', 'date_of_birth'],
            now() + interval '2 minutes', 5, 10, 10, 15);
        IF r.outcome <> 'accepted' THEN RAISE EXCEPTION 'first step: %', r.outcome; END IF;
        COMMIT;
        SELECT * INTO r FROM pickup_verify_claimed(t.token_hash, t.authority_id, t.box_id, session, true,
            'bench-pickup-functions', '127.0.0.1', 5, 10, 10, 15);
        IF r.outcome <> 'verified' THEN RAISE EXCEPTION 'second step: %', r.outcome; END IF;
        COMMIT;
    END LOOP;
END $$;
