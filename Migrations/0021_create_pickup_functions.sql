-- The pickup at the box in one round trip per decision (issue #15 §5). The server reads the candidates
-- and compares the PIN (HMAC with its key, in constant time) and the factors itself; these functions
-- then write the outcome under the box's row lock, as the old multi-statement transaction did: the gate
-- (box throttled, site closed), the counters (per assignment, locking it at the limit; per box, blocking
-- it past its limit), the attempt's outcome, the session. What the server read without a lock is checked
-- again under it: a match whose assignment was locked, collected or given a new PIN meanwhile counts as
-- a refusal, as it would have had it been read under the lock. Called as the server's own role (no
-- SECURITY DEFINER): it may write every table touched here. Sources/App/Box/BoxPickup.swift is the
-- caller and says which outcome becomes which answer.
--
-- Cost (bench/pickups.py with pg_stat_statements): PL/pgSQL keeps each statement's plan for the session,
-- so none of them is planned per call, but only without a SET clause on the function (it makes a call
-- a GUC change) and without calls of other functions on the hot path (a function scan per call; an SQL
-- function's body is planned again in every transaction). So the gate is written out in both steps.

-- Step 1's read, for the box the server authenticated from the request's head (the token's look-up is
-- not repeated here): its site's factors, and the number's loaded compartments at the box with the
-- application of each, in no particular order (the server sorts them); one row with NULL candidate
-- columns when there is none, no row when the box is gone. Written as single-table lookups with generic
-- plans: as one join its custom plans cost more to make (0.8 ms) than to run, and its generic plan went
-- through every assigned application of the authority when a number was common. (Nor does the lookup
-- by number say `assignment_id IS NOT NULL`: that lets the planner take the partial index on
-- assignment_id, and it did whenever the statistics were older than the assignments.)
CREATE FUNCTION pickup_candidates(p_authority uuid, p_box uuid, p_mobile text)
RETURNS TABLE (requires_pin_letter boolean, second_factor text, requires_old_document boolean,
               assignment_id uuid, pin_hmac bytea, locked boolean, application_id uuid, issuance text, has_can boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_any boolean := false;
    r record;
BEGIN
    SELECT s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document
    INTO requires_pin_letter, second_factor, requires_old_document
    FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
    WHERE b.authority_id = p_authority AND b.id = p_box;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    FOR r IN SELECT a.id, a.assignment_id, a.issuance, a.old_can_hash IS NOT NULL AS has_can FROM application a
             WHERE a.authority_id = p_authority AND a.mobile_number = p_mobile AND a.state = 'ready_in_box'
    LOOP
        SELECT asg.id, asg.pin_hmac, asg.locked INTO assignment_id, pin_hmac, locked
        FROM assignment asg JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
        WHERE asg.authority_id = p_authority AND asg.id = r.assignment_id AND asg.status = 'loaded' AND cp.box_id = p_box;
        IF FOUND THEN
            application_id := r.id;
            issuance := r.issuance;
            has_can := r.has_can;
            v_any := true;
            RETURN NEXT;
        END IF;
    END LOOP;
    IF NOT v_any THEN
        assignment_id := NULL;
        pin_hmac := NULL;
        locked := NULL;
        RETURN NEXT;
    END IF;
END $$;

-- A failed attempt: counted against each of the assignments that is still open (locking it at
-- p_per_assignment), recorded with its outcome, and counted against the box: more than p_per_box
-- failures in p_window_minutes block it for p_block_minutes (box_blocked: this attempt blocked it).
-- Called with the box's row locked.
CREATE FUNCTION pickup_count_failure(p_authority uuid, p_box uuid, p_assignments uuid[], p_outcome text,
                                     p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                     OUT failures bigint, OUT box_blocked boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_rows integer;
BEGIN
    IF cardinality(p_assignments) > 0 THEN
        UPDATE assignment SET failed_attempts = failed_attempts + 1, locked = failed_attempts + 1 >= p_per_assignment
        WHERE authority_id = p_authority AND id = ANY(p_assignments) AND NOT locked AND status = 'loaded';
    END IF;
    INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, p_outcome);
    SELECT count(*) INTO failures FROM pickup_attempt
    WHERE authority_id = p_authority AND box_id = p_box AND outcome IN ('refused', 'factors_refused')
      AND at > now() - make_interval(mins => p_window_minutes);
    box_blocked := false;
    IF failures > p_per_box THEN
        UPDATE box SET pickups_blocked_until = now() + make_interval(mins => p_block_minutes)
        WHERE authority_id = p_authority AND id = p_box AND (pickups_blocked_until IS NULL OR pickups_blocked_until < now());
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        box_blocked := v_rows > 0;
    END IF;
END $$;

-- Step 1's write: mobile number and PIN. p_candidates: every loaded assignment of the number at the box,
-- as the server read them; p_matched: the first open one whose PIN HMAC (p_matched_hmac) equalled the
-- PIN's, or NULL. The gate first, under the box's row lock (which serializes the attempts at one box, so
-- the failures counted decide the block exactly): a blocked box ('throttled', wait_seconds) or a closed
-- site ('outside_hours': that day's exception, else the weekly hours, in the site's time zone), each
-- recorded. Then 'deadline_passed' (recorded), 'accepted' (session written) or 'refused' (counted);
-- 'no_box' when the box is gone.
CREATE FUNCTION pickup_start(p_authority uuid, p_box uuid, p_candidates uuid[], p_matched uuid, p_matched_hmac bytea,
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
            INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, 'pin_accepted');
            RETURN;
        END IF;
    END IF;
    -- No match, or the match no longer holds: a guess counts against every open assignment of this number at this box.
    outcome := 'refused';
    SELECT f.failures, f.box_blocked INTO failures, box_blocked
    FROM pickup_count_failure(p_authority, p_box, p_candidates, 'refused', p_per_assignment, p_per_box, p_window_minutes, p_block_minutes) f;
END $$;

-- Step 2's write: the factors of a pickup session. p_given_ok: whether the server found every factor the
-- session asks for given and right. 'not_found'; 'expired' (or verified already); the gate as in step 1;
-- 'refused' (the assignment is locked or no longer loaded: recorded, not counted); 'factors_refused'
-- (counted); 'verified' (session verified, audit event written; assignment_id, compartment_number).
CREATE FUNCTION pickup_verify(p_authority uuid, p_box uuid, p_pickup uuid, p_given_ok boolean, p_request_id text, p_client_address text,
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
    INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, 'factors_accepted');
    INSERT INTO audit_event (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address)
    VALUES (p_authority, 'box', p_box, 'assignment.pickup_verified', 'assignment', assignment_id, p_request_id, p_client_address);
    outcome := 'verified';
END $$;

-- Only the server's role may call them (DatabaseRoles grants it EXECUTE after every migration).
REVOKE EXECUTE ON FUNCTION pickup_candidates(uuid, uuid, text),
    pickup_count_failure(uuid, uuid, uuid[], text, integer, integer, integer, integer),
    pickup_start(uuid, uuid, uuid[], uuid, bytea, uuid, uuid, text[], timestamptz, integer, integer, integer, integer),
    pickup_verify(uuid, uuid, uuid, boolean, text, text, integer, integer, integer, integer) FROM PUBLIC;
