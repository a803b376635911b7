-- Erasure on schedule (issue #11 §1, DESIGN §7): personal data is erased RETENTION_DAYS_AFTER_CLOSE days
-- after an application was collected or cancelled and RETENTION_DAYS_MAX days after it was registered;
-- side tables are trimmed by the same pass, and every pass leaves a receipt.

-- When an application was cancelled: with collected_at, the moment it closed (the retention clock).
-- Earlier cancellations changed nothing after their cancellation but their updated_at.
ALTER TABLE application ADD COLUMN cancelled_at timestamptz;
UPDATE application SET cancelled_at = updated_at WHERE state = 'cancelled';

-- The reason of a cancellation is free text and erased with the other personal data; the state stays.
ALTER TABLE application DROP CONSTRAINT application_check1;
ALTER TABLE application ADD CONSTRAINT application_cancel_reason_given
    CHECK (personal_data_erased_at IS NOT NULL OR (state = 'cancelled') = (cancel_reason IS NOT NULL));

-- What the pass looks for, without scanning the table: closed and not yet erased, and by age.
CREATE INDEX application_erasure_closed_idx ON application ((coalesce(collected_at, cancelled_at)))
    WHERE personal_data_erased_at IS NULL AND state IN ('collected', 'cancelled');
CREATE INDEX application_erasure_age_idx ON application (created_at) WHERE personal_data_erased_at IS NULL;

-- An erased message keeps its kind, status and times, not the number.
ALTER TABLE sms_message ALTER COLUMN to_number DROP NOT NULL;
-- Messages without an application, and document numbers of delivery items that matched none, are
-- erased on their own clock.
CREATE INDEX sms_message_unlinked_idx ON sms_message (created_at) WHERE application_id IS NULL AND to_number IS NOT NULL;
CREATE INDEX delivery_item_unmatched_idx ON delivery_item (authority_id, delivery_id)
    WHERE application_id IS NULL AND document_number NOT LIKE 'erased-%';

-- Side tables trimmed by time.
CREATE INDEX pickup_attempt_at_idx ON pickup_attempt (at);
CREATE INDEX pickup_session_expires_idx ON pickup_session (expires_at);
CREATE INDEX session_expires_idx ON session (expires_at);

-- The audit log stays append-only, with one exception: the client address is forgotten after
-- AUDIT_IP_DAYS. Any other change, and every DELETE, is refused.
CREATE INDEX audit_event_address_at_idx ON audit_event (at) WHERE client_address IS NOT NULL;
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.client_address IS NULL
       AND (NEW.authority_id, NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.action, NEW.entity_type, NEW.entity_id, NEW.request_id, NEW.detail)
           IS NOT DISTINCT FROM
           (OLD.authority_id, OLD.id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.action, OLD.entity_type, OLD.entity_id, OLD.request_id, OLD.detail) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

-- Forgets the client addresses of up to max_rows events recorded before `before`; returns how many per
-- authority. SECURITY DEFINER: the server's database role may call this, but may not UPDATE the audit log.
CREATE FUNCTION audit_event_forget_addresses(before timestamptz, max_rows integer)
RETURNS TABLE (authority uuid, forgotten bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH due AS (
        SELECT e.authority_id, e.id FROM audit_event e
        WHERE e.client_address IS NOT NULL AND e.at < before
        ORDER BY e.at
        LIMIT max_rows
        FOR UPDATE SKIP LOCKED
    ), changed AS (
        UPDATE audit_event e SET client_address = NULL
        FROM due WHERE e.authority_id = due.authority_id AND e.id = due.id
        RETURNING e.authority_id
    )
    SELECT changed.authority_id, count(*) FROM changed GROUP BY changed.authority_id
$$;

-- One row per erasure pass (installation-wide, like schema_migrations): when, under which policy, how it ended.
CREATE TABLE erasure_pass (
    id           uuid PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    -- 'interrupted': the process stopped or the database failed during the pass; the next pass goes on.
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'interrupted')),
    policy       jsonb NOT NULL,
    -- Rows of installation-wide tables (login_throttle), by table.
    counts       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX erasure_pass_started_idx ON erasure_pass (started_at);

-- The receipt of one pass for one authority: how many applications and side rows per table, the range of
-- the audit events it wrote (one `application.personal_data_erased` per application), and its own event.
CREATE TABLE erasure_receipt (
    authority_id          uuid NOT NULL,
    pass_id               uuid NOT NULL REFERENCES erasure_pass (id),
    applications          integer NOT NULL DEFAULT 0 CHECK (applications >= 0),
    counts                jsonb NOT NULL DEFAULT '{}',
    first_audit_event_id  bigint,
    last_audit_event_id   bigint,
    audit_event_id        bigint,
    PRIMARY KEY (authority_id, pass_id)
);
