-- The pickup's first step in one round trip: the box's admission (its token, its site's factors) is
-- checked inside the step's call instead of read before it (BENCHMARKS.md). The server remembers, per token
-- hash, the box and the site's factors an earlier admission read (Sources/App/BoxProtocol/BoxAdmissions.swift)
-- and passes them with the token's hash; this function takes them as a claim, not as a fact. Under the box's
-- row lock it answers 'no_box' when that box no longer has that token (rotated, revoked, deleted) and
-- 'stale' when the site's factors are no longer the ones given, both without writing anything; the server
-- then forgets what it remembered, admits the box as before and calls again. A rotated or revoked token is
-- still refused at once: the check and the write are one transaction.
--
-- A NULL token hash skips the token's check, NULL factors the factors' check: after an admission of its own
-- (when it remembered nothing) the server passes the token only. pickup_start_keyed (migration 0024) was
-- this function's body; it is now this function without either check, for a replica of the previous
-- release, which admits the box itself, still running during a rolling upgrade. Outcomes, locks, writes and the
-- refusals' counting are pickup_start_keyed's, plus "seen" (box.last_seen_at, at most every 10 seconds,
-- as the admission writes it) when the token was checked here.
CREATE FUNCTION pickup_start_claimed(p_token_hash bytea, p_authority uuid, p_box uuid,
                                     p_requires_pin_letter boolean, p_second_factor text, p_requires_old_document boolean,
                                     p_mobile text, p_pin_key bytea, p_session uuid,
                                     p_factors_first text[], p_factors_renewal_can text[], p_factors_renewal text[], p_expires_at timestamptz,
                                     p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                     OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean, OUT factors text[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_open boolean;
    v_token bytea;
    v_seen timestamptz;
    v_policy_held boolean;
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

-- The previous release's call, unchanged in what it answers and writes: the function above without a claim.
CREATE OR REPLACE FUNCTION pickup_start_keyed(p_authority uuid, p_box uuid, p_mobile text, p_pin_key bytea, p_session uuid,
                                              p_factors_first text[], p_factors_renewal_can text[], p_factors_renewal text[], p_expires_at timestamptz,
                                              p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                              OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean, OUT factors text[])
LANGUAGE sql AS $$
    SELECT f.outcome, f.wait_seconds, f.failures, f.box_blocked, f.factors
    FROM pickup_start_claimed(NULL, p_authority, p_box, NULL, NULL, NULL, p_mobile, p_pin_key, p_session,
                              p_factors_first, p_factors_renewal_can, p_factors_renewal, p_expires_at,
                              p_per_assignment, p_per_box, p_window_minutes, p_block_minutes) f
$$;

-- Only the server's role may call it (DatabaseRoles grants it EXECUTE after every migration).
REVOKE EXECUTE ON FUNCTION pickup_start_claimed(bytea, uuid, uuid, boolean, text, boolean, text, bytea, uuid, text[], text[], text[], timestamptz, integer, integer, integer, integer) FROM PUBLIC;
