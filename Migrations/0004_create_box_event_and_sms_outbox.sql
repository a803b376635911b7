-- Box events are idempotent by the box's own event id: a retry after a lost answer gets the first answer.
CREATE TABLE box_event (
    authority_id   uuid NOT NULL,
    box_id         uuid NOT NULL,
    event_id       text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 100),
    kind           text NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    request_hash   bytea NOT NULL,
    response_status integer NOT NULL,
    response_body  bytea NOT NULL,
    PRIMARY KEY (authority_id, box_id, event_id),
    FOREIGN KEY (authority_id, box_id) REFERENCES box (authority_id, id) ON DELETE CASCADE
);

-- The SMS outbox (DESIGN §6): written in the same transaction as the state change that needs it;
-- a dispatcher sends it (issue #5). The body carries the PIN; it is erased once the message is final.
CREATE TABLE sms_message (
    authority_id     uuid NOT NULL,
    id               uuid NOT NULL,
    application_id   uuid,
    assignment_id    uuid,
    to_number        text NOT NULL CHECK (to_number ~ '^\+[1-9][0-9]{6,14}$'),
    template         text NOT NULL CHECK (template ~ '^[a-z_]{1,40}$'),
    language         text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    body             text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    provider_id      text,
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, id)
);
CREATE INDEX sms_message_due_idx ON sms_message (next_attempt_at) WHERE status = 'queued';
