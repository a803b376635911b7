-- Each pickup step reads what it decides on in the same round trip as the box's admission (the token's
-- look-up from the request head, before the body is read): a step is then two round trips, this read
-- and the write of migration 0021 (`pickup_start` / `pickup_verify`), instead of three. The server still
-- compares the PIN (HMAC with its key, in constant time) and decides the factors between the two; the
-- write checks again under the box's lock what was read here. Sources/App/BoxProtocol/BoxPickupStore.swift
-- is the caller.
--
-- Both functions first do what the box's admission did (Sources/App/BoxProtocol/BoxAuth.swift): the box
-- of the token's SHA-256, and "seen" noted at most every 10 seconds. No row when no box has the token.
-- No SET clause and no call of another function (each would cost a GUC change or a function scan per
-- call); PL/pgSQL keeps every statement's plan for the session.

-- Step 1 (mobile number and PIN), read before the body is here, so without the number: the site's
-- factors and every loaded compartment at the box with its application(s) and their mobile numbers; the
-- server keeps the number's. A box holds tens of compartments, and the read is the same whichever number
-- comes: an unknown number and a known one cost the database the same here. One row with NULL candidate
-- columns when nothing is loaded.
CREATE FUNCTION pickup_admit_start(p_token_hash bytea)
RETURNS TABLE (authority_id uuid, box_id uuid, site_id uuid,
               requires_pin_letter boolean, second_factor text, requires_old_document boolean,
               assignment_id uuid, pin_hmac bytea, locked boolean, application_id uuid, mobile_number text, issuance text, has_can boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_authority uuid;
    v_box uuid;
    v_site uuid;
    v_seen timestamptz;
    v_pin_letter boolean;
    v_second text;
    v_old_document boolean;
BEGIN
    SELECT b.authority_id, b.id, b.site_id, b.last_seen_at, s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document
    INTO v_authority, v_box, v_site, v_seen, v_pin_letter, v_second, v_old_document
    FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
    WHERE b.token_hash = p_token_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_seen IS NULL OR v_seen < now() - interval '10 seconds' THEN
        UPDATE box b SET last_seen_at = now() WHERE b.authority_id = v_authority AND b.id = v_box;
    END IF;
    RETURN QUERY
        SELECT v_authority, v_box, v_site, v_pin_letter, v_second, v_old_document,
               c.assignment_id, c.pin_hmac, c.locked, c.application_id, c.mobile_number, c.issuance, c.has_can
        FROM (SELECT 1) one
        LEFT JOIN (
            SELECT asg.id AS assignment_id, asg.pin_hmac, asg.locked, a.id AS application_id, a.mobile_number, a.issuance,
                   a.old_can_hash IS NOT NULL AS has_can
            FROM compartment cp
            JOIN assignment asg ON asg.authority_id = cp.authority_id AND asg.compartment_id = cp.id AND asg.status = 'loaded'
            JOIN application a ON a.authority_id = asg.authority_id AND a.assignment_id = asg.id AND a.state = 'ready_in_box'
            WHERE cp.authority_id = v_authority AND cp.box_id = v_box
        ) c ON true;
END $$;

-- Step 2 (the factors of pickup p_pickup, from the request's path): the session the box started (the
-- factors it asks for, and whether it expired or was verified already) and what the factors are checked
-- against (the application's date of birth and the old card's CAN hash). One row with NULL session
-- columns when the box has no such session (p_pickup NULL: the path held no UUID).
CREATE FUNCTION pickup_admit_factors(p_token_hash bytea, p_pickup uuid)
RETURNS TABLE (authority_id uuid, box_id uuid, site_id uuid,
               factors text[], done boolean, date_of_birth text, old_can_hash bytea)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_authority uuid;
    v_box uuid;
    v_site uuid;
    v_seen timestamptz;
BEGIN
    SELECT b.authority_id, b.id, b.site_id, b.last_seen_at INTO v_authority, v_box, v_site, v_seen
    FROM box b WHERE b.token_hash = p_token_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_seen IS NULL OR v_seen < now() - interval '10 seconds' THEN
        UPDATE box b SET last_seen_at = now() WHERE b.authority_id = v_authority AND b.id = v_box;
    END IF;
    RETURN QUERY
        SELECT v_authority, v_box, v_site, ses.factors, ses.done, ses.date_of_birth, ses.old_can_hash
        FROM (SELECT 1) one
        LEFT JOIN (
            SELECT ps.factors, ps.expires_at < now() OR ps.verified_at IS NOT NULL AS done, a.date_of_birth, a.old_can_hash
            FROM pickup_session ps
            JOIN application a ON a.authority_id = ps.authority_id AND a.id = ps.application_id
            WHERE ps.authority_id = v_authority AND ps.id = p_pickup AND ps.box_id = v_box
        ) ses ON true;
END $$;

-- The read that step 1 made after the admission (migration 0021), now part of pickup_admit_start.
DROP FUNCTION pickup_candidates(uuid, uuid, text);

-- Only the server's role may call them (DatabaseRoles grants it EXECUTE after every migration).
REVOKE EXECUTE ON FUNCTION pickup_admit_start(bytea), pickup_admit_factors(bytea, uuid) FROM PUBLIC;
