-- The pickup's steps without the box's admission before them (BENCHMARKS.md): the first step in one round
-- trip, the second in one after a first step this server answered.
--
-- The first step: the box's admission (its token, its site's factors) is checked inside the step's call
-- instead of read before it. The server remembers, per token hash, the box and the site's factors an
-- earlier admission read (Sources/App/BoxProtocol/BoxAdmissions.swift) and passes them with the token's
-- hash; this function takes them as a claim, not as a fact. Under the box's row lock it answers 'no_box'
-- when that box no longer has that token (rotated, revoked, deleted) and 'stale' when the site's factors
-- are no longer the ones given, both without writing anything; the server then forgets what it
-- remembered, admits the box as before and calls again. A rotated or revoked token is still refused at
-- once: the check and the write are one transaction. 'accepted' also answers the matched application's
-- date of birth and CAN hash, which the second step checks the answers against (the server keeps them
-- until the session is verified or expires, never longer than its two minutes).
--
-- A NULL token hash skips the token's check, NULL factors the factors' check: after an admission of its own
-- (when it remembered nothing) the server passes the token only. Outcomes, locks, writes and the refusals'
-- counting are pickup_start_keyed's (migration 0024), plus "seen" (box.last_seen_at, at most every 10
-- seconds, as the admission writes it) when the token was checked here. pickup_start_keyed and
-- pickup_verify stay as they are, for a replica of the previous release still running during a rolling
-- upgrade: it is granted them, not these (DatabaseRoles runs after the migrations).
CREATE FUNCTION pickup_start_claimed(p_token_hash bytea, p_authority uuid, p_box uuid,
                                     p_requires_pin_letter boolean, p_second_factor text, p_requires_old_document boolean,
                                     p_mobile text, p_pin_key bytea, p_session uuid,
                                     p_factors_first text[], p_factors_renewal_can text[], p_factors_renewal text[], p_expires_at timestamptz,
                                     p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                     OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean, OUT factors text[],
                                     OUT date_of_birth text, OUT old_can_hash bytea)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_open boolean;
    v_token bytea;
    v_seen timestamptz;
    v_policy_held boolean;
    v_candidates uuid[] := '{}';
    v_matched uuid;
    v_application uuid;
    v_birth text;
    v_can_hash bytea;
    v_expired boolean;
    v_legacy boolean := false;
    v_equal boolean;
    r record;
    c record;
BEGIN
    box_blocked := false;
    -- The gate: the box locked, whether it is blocked and its site open now, and the claim's facts.
    SELECT ceil(extract(epoch FROM b.pickups_blocked_until - now()))::bigint,
           CASE
             WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
             ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                          AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
           END,
           b.token_hash, b.last_seen_at,
           (s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document)
               IS NOT DISTINCT FROM (p_requires_pin_letter, p_second_factor, p_requires_old_document)
    INTO wait_seconds, v_open, v_token, v_seen, v_policy_held
    FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
    CROSS JOIN LATERAL (SELECT now() AT TIME ZONE s.time_zone AS t) l
    LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date
    WHERE b.authority_id = p_authority AND b.id = p_box
    FOR UPDATE OF b;
    IF NOT FOUND OR (p_token_hash IS NOT NULL AND v_token IS DISTINCT FROM p_token_hash) THEN
        outcome := 'no_box';
        RETURN;
    ELSIF p_second_factor IS NOT NULL AND NOT v_policy_held THEN
        outcome := 'stale';
        RETURN;
    END IF;
    IF p_token_hash IS NOT NULL AND (v_seen IS NULL OR v_seen < now() - interval '10 seconds') THEN
        UPDATE box SET last_seen_at = now() WHERE authority_id = p_authority AND id = p_box;
    END IF;
    IF wait_seconds > 0 THEN
        outcome := 'throttled';
    ELSIF NOT coalesce(v_open, false) THEN
        outcome := 'outside_hours';
    END IF;
    IF outcome IS NOT NULL THEN
        INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (p_authority, p_box, outcome);
        RETURN;
    END IF;
    -- The candidates, each digest computed (a locked one never matches).
    FOR r IN SELECT a.id, a.assignment_id, a.issuance, a.old_can_hash IS NOT NULL AS has_can, a.date_of_birth, a.old_can_hash FROM application a
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
            v_birth := r.date_of_birth;
            v_can_hash := r.old_can_hash;
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
        date_of_birth := v_birth;
        old_can_hash := v_can_hash;
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

-- Only the server's role may call it (DatabaseRoles grants it EXECUTE after every migration).
REVOKE EXECUTE ON FUNCTION pickup_start_claimed(bytea, uuid, uuid, boolean, text, boolean, text, bytea, uuid, text[], text[], text[], timestamptz, integer, integer, integer, integer) FROM PUBLIC;

-- The second step likewise: the first step's answer is remembered by the server that gave it (the session's
-- factors and what they are checked against, until the session is verified or expires), so the factors
-- step makes one call and no admission. pickup_verify (migration 0024) with a claim: the token's check
-- ('no_box' when the session's box no longer has it, nothing written) and "seen"; a NULL token hash skips
-- both.
CREATE FUNCTION pickup_verify_claimed(p_token_hash bytea, p_authority uuid, p_box uuid, p_pickup uuid, p_given_ok boolean,
                                      p_request_id text, p_client_address text,
                                      p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                      OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean,
                                      OUT assignment_id uuid, OUT compartment_number integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_done boolean;
    v_open boolean;
    v_locked boolean;
    v_status text;
    v_token bytea;
    v_seen timestamptz;
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
           asg.locked, asg.status, cp.number, b.token_hash, b.last_seen_at
    INTO assignment_id, v_done, wait_seconds, v_open, v_locked, v_status, compartment_number, v_token, v_seen
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
    ELSIF p_token_hash IS NOT NULL AND v_token IS DISTINCT FROM p_token_hash THEN
        outcome := 'no_box';
        assignment_id := NULL;
        compartment_number := NULL;
        wait_seconds := NULL;
        RETURN;
    END IF;
    IF p_token_hash IS NOT NULL AND (v_seen IS NULL OR v_seen < now() - interval '10 seconds') THEN
        UPDATE box SET last_seen_at = now() WHERE authority_id = p_authority AND id = p_box;
    END IF;
    IF v_done THEN
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

REVOKE EXECUTE ON FUNCTION pickup_verify_claimed(bytea, uuid, uuid, uuid, boolean, text, text, integer, integer, integer, integer) FROM PUBLIC;
