-- The pickup at the box in one round trip per decision (issue #15 §5). The server reads the candidates
-- and compares the PIN (HMAC with its key, in constant time) and the factors itself; these functions
-- then write the outcome under the box's row lock, as the old multi-statement transaction did: the gate
-- (box throttled, site closed), the counters (per assignment, locking it at the limit; per box, blocking
-- it past its limit), the attempt's outcome, the session. What the server read without a lock is checked
-- again under it: a match whose assignment was locked, collected or given a new PIN meanwhile counts as
-- a refusal, as it would have had it been read under the lock. Called as the server's own role (no
-- SECURITY DEFINER): it may write every table touched here. Sources/App/Box/BoxPickup.swift is the
-- caller and says which outcome becomes which answer.

-- Whether the site is open for pickups now, in its own time zone: that day's exception, else its weekly hours.
CREATE FUNCTION pickup_site_open(p_authority uuid, p_site uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT coalesce((
        SELECT CASE
                 WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
                 ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                              AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
               END
        FROM site s
        CROSS JOIN LATERAL (SELECT now() AT TIME ZONE s.time_zone AS t) l
        LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date
        WHERE s.authority_id = p_authority AND s.id = p_site), false)
$$;

-- The gate of every step, under the box's row lock (which serializes the attempts at one box, so the
-- failures counted later decide the block exactly): 'no_box', 'throttled' (with the seconds left) or
-- 'outside_hours', each but the first recorded as an attempt; NULL when the attempt may go on.
CREATE FUNCTION pickup_gate(p_authority uuid, p_box uuid, OUT outcome text, OUT wait_seconds bigint)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_site uuid;
    v_until timestamptz;
BEGIN
    SELECT b.site_id, b.pickups_blocked_until INTO v_site, v_until FROM box b
    WHERE b.authority_id = p_authority AND b.id = p_box FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_box';
        RETURN;
    END IF;
    wait_seconds := ceil(extract(epoch FROM v_until - now()))::bigint;
    IF wait_seconds > 0 THEN
        outcome := 'throttled';
    ELSIF NOT pickup_site_open(p_authority, v_site) THEN
        outcome := 'outside_hours';
    ELSE
        RETURN;
    END IF;
    INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
END $$;

-- A failed attempt: counted against each of the assignments that is still open (locking it at
-- p_per_assignment), recorded with its outcome, and counted against the box: more than p_per_box
-- failures in p_window_minutes block it for p_block_minutes (box_blocked: this attempt blocked it).
CREATE FUNCTION pickup_count_failure(p_authority uuid, p_box uuid, p_assignments uuid[], p_outcome text,
                                     p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                     OUT failures bigint, OUT box_blocked boolean)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
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

-- Step 1, mobile number and PIN. p_candidates: every loaded assignment of the number at the box, as the
-- server read them; p_matched: the first open one whose PIN HMAC (p_matched_hmac) equalled the PIN's, or
-- NULL. Outcomes: 'no_box', 'throttled', 'outside_hours', 'deadline_passed', 'accepted' (session written),
-- 'refused' (counted).
CREATE FUNCTION pickup_start(p_authority uuid, p_box uuid, p_candidates uuid[], p_matched uuid, p_matched_hmac bytea,
                             p_session uuid, p_application uuid, p_factors text[], p_expires_at timestamptz,
                             p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                             OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_expired boolean;
BEGIN
    box_blocked := false;
    SELECT g.outcome, g.wait_seconds INTO outcome, wait_seconds FROM pickup_gate(p_authority, p_box) g;
    IF outcome IS NOT NULL THEN
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
    outcome := 'refused';
    SELECT f.failures, f.box_blocked INTO failures, box_blocked
    FROM pickup_count_failure(p_authority, p_box, p_candidates, 'refused', p_per_assignment, p_per_box, p_window_minutes, p_block_minutes) f;
END $$;

-- Step 2, the factors of a pickup session. p_given_ok: whether the server found every factor the session
-- asks for given and right. Outcomes: 'not_found', 'expired' (or verified already), 'no_box', 'throttled',
-- 'outside_hours', 'refused' (the assignment is locked or no longer loaded: recorded, not counted),
-- 'factors_refused' (counted), 'verified' (session verified, audit event written; compartment_number).
CREATE FUNCTION pickup_verify(p_authority uuid, p_box uuid, p_pickup uuid, p_given_ok boolean, p_request_id text, p_client_address text,
                              p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                              OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean,
                              OUT assignment_id uuid, OUT compartment_number integer)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_done boolean;
    v_locked boolean;
    v_status text;
BEGIN
    box_blocked := false;
    SELECT ps.assignment_id, ps.expires_at < now() OR ps.verified_at IS NOT NULL INTO assignment_id, v_done FROM pickup_session ps
    WHERE ps.authority_id = p_authority AND ps.id = p_pickup AND ps.box_id = p_box FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    ELSIF v_done THEN
        outcome := 'expired';
        RETURN;
    END IF;
    SELECT g.outcome, g.wait_seconds INTO outcome, wait_seconds FROM pickup_gate(p_authority, p_box) g;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT asg.locked, asg.status, cp.number INTO v_locked, v_status, compartment_number FROM assignment asg
    JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
    WHERE asg.authority_id = p_authority AND asg.id = pickup_verify.assignment_id
    FOR UPDATE OF asg;
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
REVOKE EXECUTE ON FUNCTION pickup_site_open(uuid, uuid), pickup_gate(uuid, uuid),
    pickup_count_failure(uuid, uuid, uuid[], text, integer, integer, integer, integer),
    pickup_start(uuid, uuid, uuid[], uuid, bytea, uuid, uuid, text[], timestamptz, integer, integer, integer, integer),
    pickup_verify(uuid, uuid, uuid, boolean, text, text, integer, integer, integer, integer) FROM PUBLIC;
