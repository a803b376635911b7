-- The audit log's ten CHECK constraints as two calls of immutable functions (BENCHMARKS.md). PostgreSQL
-- reads a table's CHECK expressions from their stored text and plans them again for every statement
-- that writes the table: the ten of migrations 0002, 0013 and 0026 cost ~27 µs of every INSERT into
-- audit_event in its own transaction, against ~13 µs for two function calls (bench/audit_checks.sql). A
-- call is a small expression to read and plan; a function's body is compiled once per connection, its
-- expression set up once per transaction.
--
-- The same rules, column by column, as the checks they replace (a CHECK passes unless it is false):
--   actor_kind one of three; action 1 to 64 and entity_type 1 to 32 characters of their classes (0026);
--   request_id and client_address at most 64 characters or NULL;
--   chain_seq and hash both NULL or both set; chain_seq ≥ 1, hash and client_address_digest 32 bytes,
--   client_address_salt 16 bytes, each or NULL.
-- Adding them scans the audit log once, under the migration's lock.
CREATE FUNCTION audit_event_format_ok(p_actor_kind text, p_action text, p_entity_type text, p_request_id text, p_client_address text)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN p_actor_kind IN ('user', 'box', 'system')
       AND length(p_action) BETWEEN 1 AND 64 AND p_action !~ '[^a-z_.]'
       AND length(p_entity_type) BETWEEN 1 AND 32 AND p_entity_type !~ '[^a-z_]'
       AND coalesce(length(p_request_id) <= 64, true)
       AND coalesce(length(p_client_address) <= 64, true);
END $$;

CREATE FUNCTION audit_event_seal_ok(p_chain_seq bigint, p_hash bytea, p_client_address_digest bytea, p_client_address_salt bytea)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (p_chain_seq IS NULL) = (p_hash IS NULL)
       AND coalesce(p_chain_seq >= 1, true)
       AND coalesce(length(p_hash) = 32, true)
       AND coalesce(length(p_client_address_digest) = 32, true)
       AND coalesce(length(p_client_address_salt) = 16, true);
END $$;

ALTER TABLE audit_event
    DROP CONSTRAINT audit_event_actor_kind_check,
    DROP CONSTRAINT audit_event_action_check,
    DROP CONSTRAINT audit_event_entity_type_check,
    DROP CONSTRAINT audit_event_request_id_check,
    DROP CONSTRAINT audit_event_client_address_check,
    DROP CONSTRAINT audit_event_chain_seq_check,
    DROP CONSTRAINT audit_event_hash_check,
    DROP CONSTRAINT audit_event_client_address_digest_check,
    DROP CONSTRAINT audit_event_client_address_salt_check,
    DROP CONSTRAINT audit_event_sealed_whole,
    ADD CONSTRAINT audit_event_format_check CHECK (audit_event_format_ok(actor_kind, action, entity_type, request_id, client_address)),
    ADD CONSTRAINT audit_event_seal_check CHECK (audit_event_seal_ok(chain_seq, hash, client_address_digest, client_address_salt));
