-- The pickup steps without the opening hours' look-up on every call (BENCHMARKS.md, issue 15 §5).
--
-- Until now each step decided "is the site open now" from the site's time zone (looked up by name), the
-- day's exception and the weekday's hours: a quarter to a third of what the two steps cost PostgreSQL. The answer
-- only changes at the edges of an opening interval, so a step that finds its site open now remembers that
-- interval in absolute time on the box's row (pickups_open_from … pickups_open_until, the box it holds
-- locked anyway) and the steps after it compare now() with it. A step outside the remembered interval
-- decides as before (box_pickups_open, site_open_window) and remembers the new interval; a closed site remembers nothing
-- and is decided on every call, as before.
--
-- Why a remembered interval is never wrong:
--  * site_open_window gives an interval only where the site's clock runs evenly through it (the same
--    UTC offset at both ends, the ends' local times exactly the hours' ones), so every instant in it has a
--    local time inside the hours it was computed from: the decision made at any of those instants from
--    the same hours is "open". Where a daylight-saving change falls inside, it gives none and the steps
--    decide on every call during that interval.
--  * Every change to what the decision reads (a site's pickup hours, its exceptions, its time zone, a box's
--    site), through the API or in SQL, writes every box row of the site in the changing transaction,
--    forgetting its interval (the triggers below; every row, remembered interval or not, so that each is
--    locked; the site's row first, so that no box joins the site unseen meanwhile). A step that computed
--    an interval from hours read before such a change committed holds the box's row lock until it
--    commits; the change's trigger waits for that lock and forgets the interval after it. A change that
--    wrote the box first holds its row until it commits, so the step's gate waits, and the step decides
--    from a snapshot taken after the change. Either way no interval from superseded hours survives a
--    change's commit, which is what the decision from the tables guaranteed before. (Not forgotten: a
--    new time-zone database under PostgreSQL; an interval lasts a day at most.)
ALTER TABLE box ADD COLUMN pickups_open_from timestamptz;
ALTER TABLE box ADD COLUMN pickups_open_until timestamptz;

-- Whether the site is open for pickups at p_at, and, when it is, the interval around p_at in which it
-- stays open by the same hours (NULLs when that interval contains a change of the site's UTC offset).
-- The decision is the one migrations 0021–0025 made in the steps: the exception of the local day if
-- there is one (closed, or its own hours), else the weekday's hours; intervals are [opens, closes).
CREATE FUNCTION site_open_window(p_authority uuid, p_site uuid, p_at timestamptz,
                                 OUT open boolean, OUT open_from timestamptz, OUT open_until timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_zone text;
    v_local timestamp;
    v_day date;
    v_opens time;
    v_closes time;
    e record;
BEGIN
    open := false;
    SELECT s.time_zone INTO v_zone FROM site s WHERE s.authority_id = p_authority AND s.id = p_site;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_local := p_at AT TIME ZONE v_zone;
    v_day := v_local::date;
    SELECT x.closed, x.opens, x.closes INTO e FROM site_exception x
    WHERE x.authority_id = p_authority AND x.site_id = p_site AND x.day = v_day;
    IF FOUND THEN
        IF NOT e.closed AND v_local::time >= e.opens AND v_local::time < e.closes THEN
            v_opens := e.opens;
            v_closes := e.closes;
        END IF;
    ELSE
        -- Of overlapping intervals, the one that lasts longest.
        SELECT h.opens, h.closes INTO v_opens, v_closes FROM site_pickup_hours h
        WHERE h.authority_id = p_authority AND h.site_id = p_site AND h.weekday = extract(isodow FROM v_local)
          AND v_local::time >= h.opens AND v_local::time < h.closes
        ORDER BY h.closes DESC
        LIMIT 1;
    END IF;
    IF v_opens IS NULL THEN
        RETURN;
    END IF;
    open := true;
    open_from := (v_day + v_opens) AT TIME ZONE v_zone;
    open_until := (v_day + v_closes) AT TIME ZONE v_zone;
    -- closes may be 24:00: v_day + closes is then the next midnight, still the end of this local day.
    IF NOT (open_from <= p_at AND p_at < open_until
            AND open_from AT TIME ZONE v_zone = v_day + v_opens
            AND open_until - open_from = v_closes - v_opens
            AND (open_from AT TIME ZONE v_zone) - (open_from AT TIME ZONE 'UTC')
                = ((open_until - interval '1 microsecond') AT TIME ZONE v_zone) - ((open_until - interval '1 microsecond') AT TIME ZONE 'UTC')) THEN
        open_from := NULL;
        open_until := NULL;
    END IF;
END $$;

REVOKE EXECUTE ON FUNCTION site_open_window(uuid, uuid, timestamptz) FROM PUBLIC;

-- A step's decision when now() is outside the box's remembered interval: the site's hours decide, and an
-- interval they give is remembered on the box's row. The caller holds that row locked (both steps' gates
-- read it FOR UPDATE), which is what makes the interval safe against a change (see above).
CREATE FUNCTION box_pickups_open(p_authority uuid, p_box uuid, p_site uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    w record;
BEGIN
    SELECT * INTO w FROM site_open_window(p_authority, p_site, now());
    IF w.open_until IS NOT NULL THEN
        UPDATE box SET pickups_open_from = w.open_from, pickups_open_until = w.open_until
        WHERE authority_id = p_authority AND id = p_box;
    END IF;
    RETURN w.open;
END $$;

REVOKE EXECUTE ON FUNCTION box_pickups_open(uuid, uuid, uuid) FROM PUBLIC;

-- Forgetting: every box of the given sites (pairs of authority and site) loses its interval. The sites'
-- rows are locked first, FOR UPDATE, which conflicts with the KEY SHARE lock a box's foreign key takes
-- on its site: a box being added to or moved into one of them commits before (and the statements below,
-- with snapshots taken after the lock, see it) or waits until the change commits (and has no interval
-- then). Then every box of theirs is locked, in key order (as deliveries lock boxes), remembered
-- interval or not, so that a step at any of them waits for the change; then those with one forget it.
-- This needs each statement's own snapshot: READ COMMITTED, PostgreSQL's default and the server's.
CREATE FUNCTION box_forget_open_intervals(p_authorities uuid[], p_sites uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'a site''s pickup hours, exceptions and time zone and a box''s site change in READ COMMITTED transactions only'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'The boxes'' remembered opening intervals are forgotten with each statement''s own snapshot (migration 0028).';
    END IF;
    PERFORM 1 FROM site s JOIN unnest(p_authorities, p_sites) AS c(authority_id, site_id) ON s.authority_id = c.authority_id AND s.id = c.site_id
    ORDER BY s.authority_id, s.id
    FOR UPDATE OF s;
    PERFORM 1 FROM box x JOIN unnest(p_authorities, p_sites) AS c(authority_id, site_id) ON x.authority_id = c.authority_id AND x.site_id = c.site_id
    ORDER BY x.authority_id, x.id
    FOR NO KEY UPDATE OF x;
    UPDATE box x SET pickups_open_from = NULL, pickups_open_until = NULL
    FROM unnest(p_authorities, p_sites) AS c(authority_id, site_id)
    WHERE x.authority_id = c.authority_id AND x.site_id = c.site_id AND x.pickups_open_until IS NOT NULL;
END $$;

-- A row of hours or exceptions written for a site locks the site's row first, before its foreign key's
-- KEY SHARE lock: two transactions writing rows for one site then wait for each other instead of both
-- holding KEY SHARE and both asking for FOR UPDATE in the statement trigger below (a deadlock). The API
-- locks the site first anyway (SiteAdmin.lock); this is for changes in SQL. Both sites of a moved row,
-- in key order.
CREATE FUNCTION site_row_lock_site() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM site s
    WHERE (s.authority_id, s.id) IN ((NEW.authority_id, NEW.site_id), (OLD.authority_id, OLD.site_id))
    ORDER BY s.authority_id, s.id
    FOR UPDATE OF s;
    RETURN NEW;
END $$;

CREATE TRIGGER site_pickup_hours_lock_site BEFORE INSERT OR UPDATE OF authority_id, site_id ON site_pickup_hours
FOR EACH ROW EXECUTE FUNCTION site_row_lock_site();
CREATE TRIGGER site_exception_lock_site BEFORE INSERT OR UPDATE OF authority_id, site_id ON site_exception
FOR EACH ROW EXECUTE FUNCTION site_row_lock_site();

-- A site's hours or exceptions changed: once per statement, for the sites of the rows it inserted,
-- deleted or updated (both the old and the new site of a moved row).
CREATE FUNCTION site_rows_forget_open_intervals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM box_forget_open_intervals(array_agg(c.authority_id), array_agg(c.site_id))
    FROM (SELECT DISTINCT authority_id, site_id FROM changed) c;
    RETURN NULL;
END $$;

CREATE FUNCTION site_rows_updated_forget_open_intervals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM box_forget_open_intervals(array_agg(c.authority_id), array_agg(c.site_id))
    FROM (SELECT authority_id, site_id FROM changed_before UNION SELECT authority_id, site_id FROM changed_after) c;
    RETURN NULL;
END $$;

CREATE TRIGGER site_pickup_hours_inserted_forget_open_intervals AFTER INSERT ON site_pickup_hours
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION site_rows_forget_open_intervals();
CREATE TRIGGER site_pickup_hours_deleted_forget_open_intervals AFTER DELETE ON site_pickup_hours
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION site_rows_forget_open_intervals();
CREATE TRIGGER site_pickup_hours_updated_forget_open_intervals AFTER UPDATE ON site_pickup_hours
REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after FOR EACH STATEMENT EXECUTE FUNCTION site_rows_updated_forget_open_intervals();
CREATE TRIGGER site_exception_inserted_forget_open_intervals AFTER INSERT ON site_exception
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION site_rows_forget_open_intervals();
CREATE TRIGGER site_exception_deleted_forget_open_intervals AFTER DELETE ON site_exception
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION site_rows_forget_open_intervals();
CREATE TRIGGER site_exception_updated_forget_open_intervals AFTER UPDATE ON site_exception
REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after FOR EACH STATEMENT EXECUTE FUNCTION site_rows_updated_forget_open_intervals();

-- TRUNCATE fires no DELETE triggers (only the owner may truncate): every box forgets.
CREATE FUNCTION site_rows_truncated_forget_open_intervals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM box_forget_open_intervals(array_agg(s.authority_id), array_agg(s.id)) FROM site s;
    RETURN NULL;
END $$;

CREATE TRIGGER site_pickup_hours_truncated_forget_open_intervals AFTER TRUNCATE ON site_pickup_hours
FOR EACH STATEMENT EXECUTE FUNCTION site_rows_truncated_forget_open_intervals();
CREATE TRIGGER site_exception_truncated_forget_open_intervals AFTER TRUNCATE ON site_exception
FOR EACH STATEMENT EXECUTE FUNCTION site_rows_truncated_forget_open_intervals();

-- A site's time zone changed.
CREATE FUNCTION site_forget_open_intervals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM box_forget_open_intervals(ARRAY[NEW.authority_id], ARRAY[NEW.id]);
    RETURN NULL;
END $$;

CREATE TRIGGER site_time_zone_forget_open_intervals AFTER UPDATE OF time_zone ON site
FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION site_forget_open_intervals();

-- A box moved to another site.
CREATE FUNCTION box_moved_forget_open_interval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.pickups_open_from := NULL;
    NEW.pickups_open_until := NULL;
    RETURN NEW;
END $$;

CREATE TRIGGER box_site_forget_open_interval BEFORE UPDATE OF site_id ON box
FOR EACH ROW WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id) EXECUTE FUNCTION box_moved_forget_open_interval();

-- The triggers' helper runs as the role whose change fired them: the server's role is granted it
-- (DatabaseRoles), no one else. The trigger functions themselves can only be called as triggers.
REVOKE EXECUTE ON FUNCTION box_forget_open_intervals(uuid[], uuid[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION site_rows_forget_open_intervals(), site_rows_updated_forget_open_intervals(), site_rows_truncated_forget_open_intervals(),
                           site_forget_open_intervals(), site_row_lock_site(), box_moved_forget_open_interval() FROM PUBLIC;

-- The first step (migration 0025's, same arguments, outcomes and writes) with the remembered interval:
-- the gate reads the box and its site's factors only; the hours are read (box_pickups_open) when now()
-- is outside the box's interval and the box is not throttled.
CREATE OR REPLACE FUNCTION pickup_start_claimed(p_token_hash bytea, p_authority uuid, p_box uuid,
                                     p_requires_pin_letter boolean, p_second_factor text, p_requires_old_document boolean,
                                     p_mobile text, p_pin_key bytea, p_session uuid,
                                     p_factors_first text[], p_factors_renewal_can text[], p_factors_renewal text[], p_expires_at timestamptz,
                                     p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                     OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean, OUT factors text[],
                                     OUT date_of_birth text, OUT old_can_hash bytea)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_open boolean;
    v_site uuid;
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
    -- The gate: the box locked, whether it is blocked and inside its remembered open interval, and the claim's facts.
    SELECT ceil(extract(epoch FROM b.pickups_blocked_until - now()))::bigint,
           b.pickups_open_from <= now() AND now() < b.pickups_open_until,
           b.site_id, b.token_hash, b.last_seen_at,
           (s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document)
               IS NOT DISTINCT FROM (p_requires_pin_letter, p_second_factor, p_requires_old_document)
    INTO wait_seconds, v_open, v_site, v_token, v_seen, v_policy_held
    FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
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
        IF NOT box_pickups_open(p_authority, p_box, v_site) THEN
            outcome := 'outside_hours';
        END IF;
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

-- The second step likewise (migration 0025's, same arguments, outcomes and writes): its gate no longer
-- joins the site, its exception and its hours.
CREATE OR REPLACE FUNCTION pickup_verify_claimed(p_token_hash bytea, p_authority uuid, p_box uuid, p_pickup uuid, p_given_ok boolean,
                                      p_request_id text, p_client_address text,
                                      p_per_assignment integer, p_per_box integer, p_window_minutes integer, p_block_minutes integer,
                                      OUT outcome text, OUT wait_seconds bigint, OUT failures bigint, OUT box_blocked boolean,
                                      OUT assignment_id uuid, OUT compartment_number integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_done boolean;
    v_open boolean;
    v_site uuid;
    v_locked boolean;
    v_status text;
    v_token bytea;
    v_seen timestamptz;
BEGIN
    box_blocked := false;
    -- The session, the gate and the assignment, all three locked, in one statement.
    SELECT ps.assignment_id, ps.expires_at < now() OR ps.verified_at IS NOT NULL,
           ceil(extract(epoch FROM b.pickups_blocked_until - now()))::bigint,
           b.pickups_open_from <= now() AND now() < b.pickups_open_until, b.site_id,
           asg.locked, asg.status, cp.number, b.token_hash, b.last_seen_at
    INTO assignment_id, v_done, wait_seconds, v_open, v_site, v_locked, v_status, compartment_number, v_token, v_seen
    FROM pickup_session ps
    JOIN box b ON b.authority_id = ps.authority_id AND b.id = ps.box_id
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
        IF NOT box_pickups_open(p_authority, p_box, v_site) THEN
            outcome := 'outside_hours';
        END IF;
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
