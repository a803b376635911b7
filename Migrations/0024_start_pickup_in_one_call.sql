-- The pickup's first step in one call after the box's admission: the read by mobile number, the PIN's
-- comparison and the write in one function, under the box's row lock (two round trips a step instead of
-- three; BENCHMARKS.md). Sources/App/BoxProtocol/BoxPickupStore.swift is the caller.
--
-- That needs a stored PIN the database can compare without the server's key, which never reaches it.
-- The old form, HMAC-SHA256(key, assignment id ‖ PIN), needs the key and the assignment id together,
-- and the server learned the id only from a read of its own. The new form is keyed in two steps: the
-- server turns the PIN into its PIN key, HMAC-SHA256(key, "pin:" ‖ authority id ‖ ":" ‖ PIN), before it
-- knows any assignment (Sources/App/Security/Pin.swift), and the database stores, per assignment,
-- SHA-256(PIN key ‖ the assignment id's 16 bytes). A dump of the database alone still cannot be tried
-- against the million PINs (the key is not in it), and equal PINs of two assignments still look unlike.
--
-- PINs sent before this migration have only the old form (pin_hmac) until they are collected, retrieved
-- or replaced; for a number whose compartments at the box hold one, the function answers 'legacy' and
-- the server takes the old path (pickup_candidates and pickup_start, migration 0021). New PINs are
-- written in both forms, so that a replica of the previous release, still running during a rolling
-- upgrade (OPERATIONS.md: a migration only adds), opens them too; so is pickup_admit_factors (migration
-- 0023) kept, which this release no longer calls.
ALTER TABLE assignment ADD COLUMN pin_digest bytea;
COMMENT ON COLUMN assignment.pin_hmac IS 'PINs sent before migration 0024: HMAC-SHA256(server key, assignment id || PIN)';
COMMENT ON COLUMN assignment.pin_digest IS 'SHA-256(HMAC-SHA256(server key, ''pin:'' || authority id || '':'' || PIN) || assignment id); never the PIN';

-- Step 1: mobile number and PIN key. The gate as in pickup_start (the box locked; a blocked box or a
-- closed site is recorded and answered). Then the number's loaded compartments at this box, each
-- assignment locked, in assignment order (of a household, the first application): the first one open
-- whose digest the PIN key gives is the match. 'accepted' writes the session with the factors the
-- server's Domain rule gave for the kind of application matched (p_factors_first, p_factors_renewal_can:
-- a renewal whose old card's CAN is on file, p_factors_renewal: one without) and answers them in
-- `factors`; 'deadline_passed' is recorded; 'refused' counts a guess against every open assignment of
-- the number at this box (pickup_count_failure). 'legacy' (nothing written): no match, and a candidate
-- holds a PIN of the old form. 'no_box' when the box is gone.
--
-- Its plans are generic (the SET clause): the look-up by number otherwise kept choosing custom plans, one
-- planned per call, as pickup_candidates did (migration 0021) — 570 against 431 µs a call in
-- `BENCH_PG_STATEMENTS=1 BENCH_ONLY=pickups bench/run.sh`, which outweighs the clause's GUC change. The
-- look-ups are single-table, so the generic plans stay cheap; no other function is called on the
-- accepted path (each call is a function scan).
CREATE FUNCTION pickup_start_keyed(p_authority uuid, p_box uuid, p_mobile text, p_pin_key bytea, p_session uuid,
                                   p_factors_first text[], p_factors_renewal_can text[], p_factors_renewal text[], p_expires_at timestamptz,
                                   p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                   OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean, OUT factors text[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_open boolean;
    v_candidates uuid[] := '{}';
    v_matched uuid;
    v_application uuid;
    v_expired boolean;
    v_legacy boolean := false;
    v_equal boolean;
    r record;
    c record;
BEGIN
    box_blocked := false;
    -- The gate: the box locked, and whether it is blocked and its site open now.
    SELECT ceil(extract(epoch FROM b.pickups_blocked_until - now()))::bigint,
           CASE
             WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
             ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                          AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
           END
    INTO wait_seconds, v_open
    FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
    CROSS JOIN LATERAL (SELECT now() AT TIME ZONE s.time_zone AS t) l
    LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date
    WHERE b.authority_id = p_authority AND b.id = p_box
    FOR UPDATE OF b;
    IF NOT FOUND THEN
        outcome := 'no_box';
        RETURN;
    ELSIF wait_seconds > 0 THEN
        outcome := 'throttled';
    ELSIF NOT coalesce(v_open, false) THEN
        outcome := 'outside_hours';
    END IF;
    IF outcome IS NOT NULL THEN
        INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
        RETURN;
    END IF;
    -- The candidates, each digest computed (a locked one never matches).
    FOR r IN SELECT a.id, a.assignment_id, a.issuance, a.old_can_hash IS NOT NULL AS has_can FROM application a
             WHERE a.authority_id = p_authority AND a.mobile_number = p_mobile AND a.state = 'ready_in_box'
             ORDER BY a.assignment_id, a.id
    LOOP
        SELECT asg.pin_digest, asg.pin_digest IS NULL AND asg.pin_hmac IS NOT NULL AS legacy, asg.locked,
               coalesce(asg.pin_expires_at < now(), false) AS expired
        INTO c
        FROM assignment asg JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
        WHERE asg.authority_id = p_authority AND asg.id = r.assignment_id AND asg.status = 'loaded' AND cp.box_id = p_box
        FOR UPDATE OF asg;
        CONTINUE WHEN NOT FOUND;
        IF v_candidates[cardinality(v_candidates)] IS DISTINCT FROM r.assignment_id THEN
            v_candidates := v_candidates || r.assignment_id;
        END IF;
        v_legacy := v_legacy OR c.legacy;
        v_equal := c.pin_digest = sha256(p_pin_key || uuid_send(r.assignment_id));
        IF v_matched IS NULL AND coalesce(v_equal, false) AND NOT c.locked THEN
            v_matched := r.assignment_id;
            v_application := r.id;
            v_expired := c.expired;
            factors := CASE WHEN r.issuance = 'renewal' AND r.has_can THEN p_factors_renewal_can
                            WHEN r.issuance = 'renewal' THEN p_factors_renewal
                            ELSE p_factors_first END;
        END IF;
    END LOOP;
    IF v_matched IS NOT NULL AND v_expired THEN
        outcome := 'deadline_passed';
        factors := NULL;
        INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
        RETURN;
    ELSIF v_matched IS NOT NULL THEN
        INSERT INTO pickup_session (authority_id, id, box_id, assignment_id, application_id, factors, expires_at)
        VALUES (p_authority, p_session, p_box, v_matched, v_application, factors, p_expires_at);
        outcome := 'accepted';
        RETURN;
    ELSIF v_legacy THEN
        outcome := 'legacy';
        RETURN;
    END IF;
    -- No match: a guess counts against every open assignment of this number at this box.
    outcome := 'refused';
    SELECT f.failures, f.box_blocked INTO failures, box_blocked
    FROM pickup_count_failure(p_authority, p_box, v_candidates, 'refused', p_per_assignment, p_per_box, p_window_minutes, p_block_minutes) f;
END $$;

-- Fewer writes per pickup: a successful step is no longer recorded in pickup_attempt. Only failures are
-- ever counted there (the guessing limits, pickup_count_failure); a verified pickup is in the audit log
-- (assignment.pickup_verified) and the session. Refusals and the gate's answers are recorded as before.
-- The two functions of migration 0021, less those writes (pickup_start serves PINs of the old form):
CREATE OR REPLACE FUNCTION pickup_start(p_authority uuid, p_box uuid, p_candidates uuid[], p_matched uuid, p_matched_hmac bytea,
                             p_session uuid, p_application uuid, p_factors text[], p_expires_at timestamptz,
                             p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                             OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_open boolean;
    v_expired boolean;
BEGIN
    box_blocked := false;
    -- The gate: the box locked, and whether it is blocked and its site open now.
    SELECT ceil(extract(epoch FROM b.pickups_blocked_until - now()))::bigint,
           CASE
             WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
             ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                          AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
           END
    INTO wait_seconds, v_open
    FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
    CROSS JOIN LATERAL (SELECT now() AT TIME ZONE s.time_zone AS t) l
    LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date
    WHERE b.authority_id = p_authority AND b.id = p_box
    FOR UPDATE OF b;
    IF NOT FOUND THEN
        outcome := 'no_box';
        RETURN;
    ELSIF wait_seconds > 0 THEN
        outcome := 'throttled';
    ELSIF NOT coalesce(v_open, false) THEN
        outcome := 'outside_hours';
    END IF;
    IF outcome IS NOT NULL THEN
        INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
        RETURN;
    END IF;
    IF p_matched IS NOT NULL THEN
        SELECT asg.pin_expires_at < now() INTO v_expired FROM assignment asg
        WHERE asg.authority_id = p_authority AND asg.id = p_matched AND asg.status = 'loaded' AND NOT asg.locked
          AND asg.pin_hmac = p_matched_hmac
        FOR UPDATE;
        IF FOUND AND coalesce(v_expired, false) THEN
            outcome := 'deadline_passed';
            INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
            RETURN;
        ELSIF FOUND THEN
            INSERT INTO pickup_session (authority_id, id, box_id, assignment_id, application_id, factors, expires_at)
            VALUES (p_authority, p_session, p_box, p_matched, p_application, p_factors, p_expires_at);
            outcome := 'accepted';
            RETURN;
        END IF;
    END IF;
    -- No match, or the match no longer holds: a guess counts against every open assignment of this number at this box.
    outcome := 'refused';
    SELECT f.failures, f.box_blocked INTO failures, box_blocked
    FROM pickup_count_failure(p_authority, p_box, p_candidates, 'refused', p_per_assignment, p_per_box, p_window_minutes, p_block_minutes) f;
END $$;

CREATE OR REPLACE FUNCTION pickup_verify(p_authority uuid, p_box uuid, p_pickup uuid, p_given_ok boolean, p_request_id text, p_client_address text,
                              p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                              OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean,
                              OUT assignment_id uuid, OUT compartment_number integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_done boolean;
    v_open boolean;
    v_locked boolean;
    v_status text;
BEGIN
    box_blocked := false;
    -- The session, the gate and the assignment, all three locked, in one statement.
    SELECT ps.assignment_id, ps.expires_at < now() OR ps.verified_at IS NOT NULL,
           ceil(extract(epoch FROM b.pickups_blocked_until - now()))::bigint,
           CASE
             WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
             ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                          AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
           END,
           asg.locked, asg.status, cp.number
    INTO assignment_id, v_done, wait_seconds, v_open, v_locked, v_status, compartment_number
    FROM pickup_session ps
    JOIN box b ON b.authority_id = ps.authority_id AND b.id = ps.box_id
    JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
    CROSS JOIN LATERAL (SELECT now() AT TIME ZONE s.time_zone AS t) l
    LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date
    JOIN assignment asg ON asg.authority_id = ps.authority_id AND asg.id = ps.assignment_id
    JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
    WHERE ps.authority_id = p_authority AND ps.id = p_pickup AND ps.box_id = p_box
    FOR UPDATE OF ps, b, asg;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    ELSIF v_done THEN
        outcome := 'expired';
        RETURN;
    ELSIF wait_seconds > 0 THEN
        outcome := 'throttled';
    ELSIF NOT coalesce(v_open, false) THEN
        outcome := 'outside_hours';
    END IF;
    IF outcome IS NOT NULL THEN
        INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
        RETURN;
    END IF;
    IF v_locked OR v_status <> 'loaded' THEN
        outcome := 'refused';
        INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, 'factors_refused');
        RETURN;
    END IF;
    IF NOT p_given_ok THEN
        outcome := 'factors_refused';
        SELECT f.failures, f.box_blocked INTO failures, box_blocked
        FROM pickup_count_failure(p_authority, p_box, ARRAY[assignment_id], 'factors_refused', p_per_assignment, p_per_box, p_window_minutes, p_block_minutes) f;
        RETURN;
    END IF;
    UPDATE pickup_session SET verified_at = now() WHERE authority_id = p_authority AND id = p_pickup;
    INSERT INTO audit_event (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address)
    VALUES (p_authority, 'box', p_box, 'assignment.pickup_verified', 'assignment', assignment_id, p_request_id, p_client_address);
    outcome := 'verified';
END $$;

-- Only the server's role may call it (DatabaseRoles grants it EXECUTE after every migration).
REVOKE EXECUTE ON FUNCTION pickup_start_keyed(uuid, uuid, text, bytea, uuid, text[], text[], text[], timestamptz, integer, integer, integer, integer) FROM PUBLIC;
