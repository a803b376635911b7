-- Tamper-evident audit log (issue #11 §3): every event is sealed into a hash chain per authority,
--   hash = SHA-256(previous hash ‖ canonical encoding of the event),
-- in the order of `chain_seq` (1, 2, 3, … per authority; the first event follows 32 zero bytes). A sealer
-- in every server process (Sources/App/Audit/AuditSealer.swift, which also defines the encoding) seals
-- what was committed, a batch at a time, under an advisory lock and the lock of the authority's
-- `audit_chain` row, so the chain stays linear across processes; writers never wait for it.
-- `pickupbox audit verify` recomputes the chain from the rows.
--
-- The client address is erased after AUDIT_IP_DAYS, so the chain covers it through
-- client_address_digest = SHA-256(client_address_salt ‖ address) instead; the salt is erased with the
-- address, which leaves the digest without meaning, and the chain intact.
ALTER TABLE audit_event
    ADD COLUMN chain_seq bigint CHECK (chain_seq >= 1),
    ADD COLUMN hash bytea CHECK (length(hash) = 32),
    ADD COLUMN client_address_salt bytea CHECK (length(client_address_salt) = 16),
    ADD COLUMN client_address_digest bytea CHECK (length(client_address_digest) = 32),
    ADD CONSTRAINT audit_event_sealed_whole CHECK ((chain_seq IS NULL) = (hash IS NULL));
CREATE UNIQUE INDEX audit_event_chain_idx ON audit_event (authority_id, chain_seq) WHERE chain_seq IS NOT NULL;
CREATE INDEX audit_event_unsealed_idx ON audit_event (authority_id, id) WHERE hash IS NULL;

-- The head of each authority's chain: its last position and hash. The row is the chain's lock.
CREATE TABLE audit_chain (
    authority_id  uuid PRIMARY KEY,
    seq           bigint NOT NULL CHECK (seq >= 0),
    head          bytea NOT NULL CHECK (length(head) = 32),
    sealed_at     timestamptz NOT NULL DEFAULT now()
);

-- Seals the given unsealed events of one authority, in the given order, as positions after the head
-- (from_seq, from_head); an empty salt and digest stand for none (no client address). Returns false
-- (and changes nothing) when the head moved meanwhile. Refuses
-- events that are sealed already or belong to another authority. SECURITY DEFINER: the server's database
-- role may call this, but may not UPDATE the audit log itself. The hashes come from the caller; a wrong
-- one cannot hide anything, `pickupbox audit verify` recomputes them all.
CREATE FUNCTION audit_event_seal(p_authority uuid, p_from_seq bigint, p_from_head bytea, p_ids bigint[], p_hashes bytea[], p_salts bytea[], p_digests bytea[])
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_seq bigint;
    v_head bytea;
    v_count integer := cardinality(p_ids);
    v_sealed integer;
BEGIN
    IF v_count = 0 OR cardinality(p_hashes) <> v_count OR cardinality(p_salts) <> v_count OR cardinality(p_digests) <> v_count THEN
        RAISE EXCEPTION 'audit_event_seal: arrays of different lengths' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO audit_chain (authority_id, seq, head) VALUES (p_authority, 0, decode(repeat('00', 32), 'hex')) ON CONFLICT DO NOTHING;
    SELECT c.seq, c.head INTO v_seq, v_head FROM audit_chain c WHERE c.authority_id = p_authority FOR UPDATE;
    IF v_seq <> p_from_seq OR v_head <> p_from_head THEN
        RETURN false;
    END IF;
    UPDATE audit_event e SET chain_seq = p_from_seq + s.n, hash = s.hash,
        client_address_salt = nullif(s.salt, ''::bytea), client_address_digest = nullif(s.digest, ''::bytea)
    FROM unnest(p_ids, p_hashes, p_salts, p_digests) WITH ORDINALITY AS s(id, hash, salt, digest, n)
    WHERE e.authority_id = p_authority AND e.id = s.id AND e.hash IS NULL;
    GET DIAGNOSTICS v_sealed = ROW_COUNT;
    IF v_sealed <> v_count THEN
        RAISE EXCEPTION 'audit_event_seal: % of % events were not unsealed events of the authority', v_count - v_sealed, v_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE audit_chain c SET seq = p_from_seq + v_count, head = p_hashes[v_count], sealed_at = now() WHERE c.authority_id = p_authority;
    RETURN true;
END $$;

-- Append-only, with two changes allowed: sealing an event once (its content unchanged), and forgetting
-- the client address with its salt (AUDIT_IP_DAYS; the chain columns unchanged). Every other UPDATE
-- and every DELETE is refused.
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.authority_id, NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.action, NEW.entity_type, NEW.entity_id, NEW.request_id, NEW.detail)
           IS NOT DISTINCT FROM
           (OLD.authority_id, OLD.id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.action, OLD.entity_type, OLD.entity_id, OLD.request_id, OLD.detail) THEN
        IF OLD.hash IS NULL AND OLD.client_address_digest IS NULL AND NEW.hash IS NOT NULL
           AND NEW.client_address IS NOT DISTINCT FROM OLD.client_address THEN
            RETURN NEW;
        END IF;
        IF NEW.client_address IS NULL AND NEW.client_address_salt IS NULL
           AND (NEW.chain_seq, NEW.hash, NEW.client_address_digest) IS NOT DISTINCT FROM (OLD.chain_seq, OLD.hash, OLD.client_address_digest) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION audit_event_forget_addresses(before timestamptz, max_rows integer)
RETURNS TABLE (authority uuid, forgotten bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH due AS (
        SELECT e.authority_id, e.id FROM audit_event e
        WHERE e.client_address IS NOT NULL AND e.at < before
        ORDER BY e.at
        LIMIT max_rows
        FOR UPDATE SKIP LOCKED
    ), changed AS (
        UPDATE audit_event e SET client_address = NULL, client_address_salt = NULL
        FROM due WHERE e.authority_id = due.authority_id AND e.id = due.id
        RETURNING e.authority_id
    )
    SELECT changed.authority_id, count(*) FROM changed GROUP BY changed.authority_id
$$;
