-- What the audit log's CHECK constraints cost an INSERT (BENCHMARKS.md, migration 0027): 10,000 single-row
-- INSERTs, each its own statement and its own transaction as on the pickup path (PostgreSQL reads and plans
-- a table's CHECKs per statement; PL/pgSQL sets a function's expressions up again per transaction), into
-- three copies of audit_event's shape: with migration 0026's ten CHECKs, with 0027's two function calls,
-- and with none. Commits do not wait for the disk here (synchronous_commit off, this session only), so
-- the flush does not drown the difference. Run against a scratch database, never production:
--   psql -X -d <scratch> -f bench/audit_checks.sql
-- It works in its own schema and drops it at the end.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS bench_audit_checks CASCADE;
CREATE SCHEMA bench_audit_checks;
SET search_path = bench_audit_checks, pg_catalog;
CREATE TABLE plain (
    authority_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL, actor_id uuid, action text NOT NULL, entity_type text NOT NULL, entity_id uuid,
    request_id text, client_address text, detail jsonb, chain_seq bigint, hash bytea, client_address_salt bytea,
    client_address_digest bytea, PRIMARY KEY (authority_id, id));
CREATE TABLE ten (LIKE plain INCLUDING DEFAULTS INCLUDING IDENTITY);
ALTER TABLE ten ADD PRIMARY KEY (authority_id, id),
    ADD CHECK (actor_kind IN ('user', 'box', 'system')),
    ADD CHECK (length(action) BETWEEN 1 AND 64 AND action !~ '[^a-z_.]'),
    ADD CHECK (length(entity_type) BETWEEN 1 AND 32 AND entity_type !~ '[^a-z_]'),
    ADD CHECK (length(request_id) <= 64), ADD CHECK (length(client_address) <= 64),
    ADD CHECK (chain_seq >= 1), ADD CHECK (length(hash) = 32), ADD CHECK (length(client_address_salt) = 16),
    ADD CHECK (length(client_address_digest) = 32), ADD CHECK ((chain_seq IS NULL) = (hash IS NULL));
CREATE FUNCTION format_ok(p_actor_kind text, p_action text, p_entity_type text, p_request_id text, p_client_address text)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN p_actor_kind IN ('user', 'box', 'system')
       AND length(p_action) BETWEEN 1 AND 64 AND p_action !~ '[^a-z_.]'
       AND length(p_entity_type) BETWEEN 1 AND 32 AND p_entity_type !~ '[^a-z_]'
       AND coalesce(length(p_request_id) <= 64, true) AND coalesce(length(p_client_address) <= 64, true);
END $$;
CREATE FUNCTION seal_ok(p_chain_seq bigint, p_hash bytea, p_digest bytea, p_salt bytea)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (p_chain_seq IS NULL) = (p_hash IS NULL) AND coalesce(p_chain_seq >= 1, true) AND coalesce(length(p_hash) = 32, true)
       AND coalesce(length(p_digest) = 32, true) AND coalesce(length(p_salt) = 16, true);
END $$;
CREATE TABLE two (LIKE plain INCLUDING DEFAULTS INCLUDING IDENTITY);
ALTER TABLE two ADD PRIMARY KEY (authority_id, id),
    ADD CHECK (format_ok(actor_kind, action, entity_type, request_id, client_address)),
    ADD CHECK (seal_ok(chain_seq, hash, client_address_digest, client_address_salt));
-- Static statements, as in pickup_verify_claimed: each keeps its plan; only the CHECKs are read again.
CREATE PROCEDURE fill(p_table text, n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF p_table = 'ten' THEN
            INSERT INTO ten (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address)
            VALUES ('00000000-0000-0000-0000-000000000001', 'box', gen_random_uuid(), 'assignment.pickup_verified', 'assignment', gen_random_uuid(), 'req-123', '127.0.0.1');
        ELSIF p_table = 'two' THEN
            INSERT INTO two (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address)
            VALUES ('00000000-0000-0000-0000-000000000001', 'box', gen_random_uuid(), 'assignment.pickup_verified', 'assignment', gen_random_uuid(), 'req-123', '127.0.0.1');
        ELSE
            INSERT INTO plain (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address)
            VALUES ('00000000-0000-0000-0000-000000000001', 'box', gen_random_uuid(), 'assignment.pickup_verified', 'assignment', gen_random_uuid(), 'req-123', '127.0.0.1');
        END IF;
        COMMIT;
    END LOOP;
END $$;
SET synchronous_commit = off;
CALL fill('ten', 1000); CALL fill('two', 1000); CALL fill('plain', 1000);   -- warm-up
\timing on
\echo ten CHECKs, two function calls, none (10,000 inserts and commits each; three rounds)
CALL fill('ten', 10000); CALL fill('two', 10000); CALL fill('plain', 10000);
CALL fill('ten', 10000); CALL fill('two', 10000); CALL fill('plain', 10000);
CALL fill('ten', 10000); CALL fill('two', 10000); CALL fill('plain', 10000);
\timing off
DROP SCHEMA bench_audit_checks CASCADE;
