-- The pickup's second step (the factors) reads what it decides on in the same round trip as the box's
-- admission (the token's look-up from the request head, before the body is read): the step is then two
-- round trips, this read and `pickup_verify` (migration 0021), instead of three. The server still checks
-- the factors (the CAN as keyed hashes in constant time) and the Domain rule decides between the two;
-- `pickup_verify` checks the session again under the locks. Sources/App/BoxProtocol/BoxPickupStore.swift
-- is the caller.
--
-- The first step cannot do the same: its read needs the mobile number, which is in the body. Read
-- before the body, box-wide (every loaded compartment at the box with its applications' numbers), it
-- cost the database about three times the read by number and the token look-up it replaced (BENCHMARKS.md).
--
-- First what the box's admission does (Sources/App/BoxProtocol/BoxAuth.swift): the box of the token's
-- SHA-256, and "seen" noted at most every 10 seconds; no row when no box has the token. No SET clause
-- and no call of another function (each would cost a GUC change or a function scan per call); PL/pgSQL
-- keeps every statement's plan for the session.

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

-- Only the server's role may call them (DatabaseRoles grants it EXECUTE after every migration).
REVOKE EXECUTE ON FUNCTION pickup_admit_factors(bytea, uuid) FROM PUBLIC;
