-- The data model of DESIGN §3. Every row belongs to one authority: authority_id leads every primary
-- key and every foreign key, so a Citus installation can distribute by it without a rewrite.
-- The database enforces the invariants the application relies on (unique Vorgangsnummer per
-- authority, at most one live assignment per compartment, states and enums by CHECK).

CREATE TABLE site (
    authority_id   uuid NOT NULL REFERENCES authority (id),
    id             uuid NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address        text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    time_zone      text NOT NULL DEFAULT 'Europe/Berlin',
    -- German Land, for public holidays (pickup deadline in working days).
    land           text NOT NULL CHECK (land IN ('BW','BY','BE','BB','HB','HH','HE','MV','NI','NW','RP','SL','SN','ST','SH','TH')),
    deadline_kind  text NOT NULL DEFAULT 'working_days' CHECK (deadline_kind IN ('working_days', 'calendar_days')),
    deadline_days  integer NOT NULL DEFAULT 10 CHECK (deadline_days BETWEEN 1 AND 60),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, id),
    UNIQUE (authority_id, name)
);

-- Weekly pickup hours: several intervals a weekday are allowed (1 = Monday … 7 = Sunday, ISO 8601).
CREATE TABLE site_pickup_hours (
    authority_id  uuid NOT NULL,
    site_id       uuid NOT NULL,
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens         time NOT NULL,
    closes        time NOT NULL CHECK (closes > opens),
    PRIMARY KEY (authority_id, site_id, weekday, opens),
    FOREIGN KEY (authority_id, site_id) REFERENCES site (authority_id, id) ON DELETE CASCADE
);

-- Dated exceptions: closed days (holidays, maintenance) or special hours.
CREATE TABLE site_exception (
    authority_id  uuid NOT NULL,
    site_id       uuid NOT NULL,
    day           date NOT NULL,
    closed        boolean NOT NULL,
    opens         time,
    closes        time,
    note          text CHECK (length(note) <= 200),
    PRIMARY KEY (authority_id, site_id, day),
    FOREIGN KEY (authority_id, site_id) REFERENCES site (authority_id, id) ON DELETE CASCADE,
    CHECK (closed OR (opens IS NOT NULL AND closes IS NOT NULL AND closes > opens))
);

CREATE TABLE box (
    authority_id      uuid NOT NULL,
    id                uuid NOT NULL,
    site_id           uuid NOT NULL,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- SHA-256 of the 256-bit bearer token; the token itself is shown once and never stored.
    token_hash        bytea CHECK (token_hash IS NULL OR length(token_hash) = 32),
    token_created_at  timestamptz,
    last_seen_at      timestamptz,
    panel_languages   text[] NOT NULL DEFAULT '{de,en}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, id),
    UNIQUE (authority_id, name),
    FOREIGN KEY (authority_id, site_id) REFERENCES site (authority_id, id)
);
CREATE UNIQUE INDEX box_token_hash_key ON box (token_hash) WHERE token_hash IS NOT NULL;

CREATE TABLE compartment (
    authority_id     uuid NOT NULL,
    id               uuid NOT NULL,
    box_id           uuid NOT NULL,
    number           integer NOT NULL CHECK (number BETWEEN 1 AND 10000),
    row_index        integer NOT NULL CHECK (row_index BETWEEN 1 AND 1000),
    column_index     integer NOT NULL CHECK (column_index BETWEEN 1 AND 1000),
    size_class       smallint NOT NULL CHECK (size_class BETWEEN 1 AND 5),
    floor_height_cm  integer NOT NULL CHECK (floor_height_cm BETWEEN 0 AND 300),
    accessible       boolean NOT NULL,
    state            text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'occupied', 'blocked')),
    block_reason     text CHECK (block_reason IN ('defect', 'maintenance', 'other')),
    block_note       text CHECK (length(block_note) <= 200),
    PRIMARY KEY (authority_id, id),
    UNIQUE (authority_id, box_id, number),
    FOREIGN KEY (authority_id, box_id) REFERENCES box (authority_id, id) ON DELETE CASCADE,
    CHECK ((state = 'blocked') = (block_reason IS NOT NULL))
);
-- Free compartments in the order the assignment takes them (Assignments.assignAutomatically).
CREATE INDEX compartment_free_idx ON compartment (authority_id, accessible, size_class, box_id, number) WHERE state = 'available';

CREATE TABLE app_user (
    authority_id    uuid NOT NULL,
    id              uuid NOT NULL,
    username        text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role            text NOT NULL CHECK (role IN ('caseworker', 'supervisor')),
    -- Argon2id, PHC string format.
    password_hash   text NOT NULL,
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, id),
    UNIQUE (authority_id, username)
);

CREATE TABLE session (
    authority_id   uuid NOT NULL,
    -- SHA-256 of the session token in the cookie.
    token_hash     bytea NOT NULL CHECK (length(token_hash) = 32),
    user_id        uuid NOT NULL,
    csrf_token     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (authority_id, token_hash),
    FOREIGN KEY (authority_id, user_id) REFERENCES app_user (authority_id, id) ON DELETE CASCADE
);

-- Failed logins per account and per client address (shared by all server processes). Keys are
-- 'user:<authority>:<username>' or 'addr:<address>'; no personal data beyond that.
CREATE TABLE login_throttle (
    key            text PRIMARY KEY,
    failures       integer NOT NULL,
    window_start   timestamptz NOT NULL,
    blocked_until  timestamptz
);

CREATE TABLE application (
    authority_id              uuid NOT NULL,
    id                        uuid NOT NULL,
    vorgangsnummer            text NOT NULL CHECK (length(vorgangsnummer) BETWEEN 4 AND 40),
    site_id                   uuid NOT NULL,
    document_type             text NOT NULL CHECK (document_type IN ('eat', 'travel_document', 'passport', 'id_card')),
    issuance                  text NOT NULL CHECK (issuance IN ('first', 'renewal')),
    family_name               text CHECK (length(family_name) <= 200),
    given_names               text CHECK (length(given_names) <= 200),
    -- As written on the documents, partial dates included: YYYY-MM-DD with 00 for unknown parts.
    date_of_birth             text CHECK (date_of_birth ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    mobile_number             text CHECK (mobile_number ~ '^\+[1-9][0-9]{6,14}$'),
    pickup_method             text NOT NULL CHECK (pickup_method IN ('box', 'counter')),
    needs_accessible          boolean NOT NULL DEFAULT false,
    sms_language              text NOT NULL DEFAULT 'de' CHECK (sms_language ~ '^[a-z]{2}$'),
    -- Keyed hash of the old card's CAN (renewal), never the CAN.
    old_can_hash              bytea,
    fee_cents                 integer NOT NULL CHECK (fee_cents >= 0),
    fee_exemption             text CHECK (fee_exemption IN ('sgb_ii', 'sgb_xii', 'asylblg', 'recognised_refugee')),
    fee_settled               boolean NOT NULL DEFAULT false,
    state                     text NOT NULL CHECK (state IN ('registered', 'in_production', 'delivered', 'assigned', 'ready_in_box', 'collected', 'retrieval_due', 'ready_at_counter', 'cancelled')),
    cancel_reason             text CHECK (length(cancel_reason) <= 500),
    household_group           uuid,
    assignment_id             uuid,
    pickup_deadline           date,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    collected_at              timestamptz,
    personal_data_erased_at   timestamptz,
    PRIMARY KEY (authority_id, id),
    UNIQUE (authority_id, vorgangsnummer),
    FOREIGN KEY (authority_id, site_id) REFERENCES site (authority_id, id),
    CHECK (pickup_method <> 'box' OR mobile_number IS NOT NULL OR personal_data_erased_at IS NOT NULL),
    CHECK ((state = 'cancelled') = (cancel_reason IS NOT NULL))
);
CREATE INDEX application_state_idx ON application (authority_id, state, created_at);
-- The public status check looks a number up without knowing the authority.
CREATE INDEX application_vorgangsnummer_idx ON application (vorgangsnummer);
CREATE INDEX application_family_name_idx ON application (authority_id, lower(family_name) text_pattern_ops);
CREATE INDEX application_household_idx ON application (authority_id, household_group) WHERE household_group IS NOT NULL;

CREATE TABLE delivery (
    authority_id          uuid NOT NULL,
    id                    uuid NOT NULL,
    delivery_note_number  text NOT NULL CHECK (length(delivery_note_number) BETWEEN 1 AND 64),
    received_at           timestamptz NOT NULL DEFAULT now(),
    received_by           uuid NOT NULL,
    PRIMARY KEY (authority_id, id),
    UNIQUE (authority_id, delivery_note_number),
    FOREIGN KEY (authority_id, received_by) REFERENCES app_user (authority_id, id)
);

-- Every item of a delivery note with its result: nothing is dropped silently.
CREATE TABLE delivery_item (
    authority_id     uuid NOT NULL,
    delivery_id      uuid NOT NULL,
    position         integer NOT NULL CHECK (position >= 1),
    document_number  text NOT NULL CHECK (length(document_number) BETWEEN 1 AND 64),
    vorgangsnummer   text CHECK (length(vorgangsnummer) <= 40),
    result           text NOT NULL CHECK (result IN ('matched', 'unknown', 'duplicate', 'already_delivered', 'cancelled', 'invalid')),
    application_id   uuid,
    PRIMARY KEY (authority_id, delivery_id, position),
    FOREIGN KEY (authority_id, delivery_id) REFERENCES delivery (authority_id, id) ON DELETE CASCADE,
    FOREIGN KEY (authority_id, application_id) REFERENCES application (authority_id, id)
);

CREATE TABLE document (
    authority_id     uuid NOT NULL,
    document_number  text NOT NULL,
    delivery_id      uuid NOT NULL,
    application_id   uuid NOT NULL,
    PRIMARY KEY (authority_id, document_number),
    FOREIGN KEY (authority_id, delivery_id) REFERENCES delivery (authority_id, id),
    FOREIGN KEY (authority_id, application_id) REFERENCES application (authority_id, id)
);
CREATE INDEX document_application_idx ON document (authority_id, application_id);

-- A compartment given to one application, or to several of one household (one PIN, one SMS).
CREATE TABLE assignment (
    authority_id      uuid NOT NULL,
    id                uuid NOT NULL,
    compartment_id    uuid NOT NULL,
    household_group   uuid,
    status            text NOT NULL CHECK (status IN ('assigned', 'loaded', 'retrieval_due', 'collected', 'retrieved', 'released')),
    -- HMAC-SHA256(server key, assignment id || PIN); never the PIN.
    pin_hmac          bytea,
    pin_expires_at    timestamptz,
    failed_attempts   integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked            boolean NOT NULL DEFAULT false,
    assigned_at       timestamptz NOT NULL DEFAULT now(),
    loaded_at         timestamptz,
    collected_at      timestamptz,
    retrieved_at      timestamptz,
    released_at       timestamptz,
    PRIMARY KEY (authority_id, id),
    FOREIGN KEY (authority_id, compartment_id) REFERENCES compartment (authority_id, id)
);
-- At most one live assignment per compartment: the database, not the application, guarantees it.
-- (Household members share one assignment row, so they share the compartment.)
CREATE UNIQUE INDEX assignment_one_live_per_compartment ON assignment (authority_id, compartment_id)
    WHERE status IN ('assigned', 'loaded', 'retrieval_due');

ALTER TABLE application ADD FOREIGN KEY (authority_id, assignment_id) REFERENCES assignment (authority_id, id);

-- Append-only: who did what to which entity, when, from where. Ids only, never personal data.
CREATE TABLE audit_event (
    authority_id   uuid NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_kind     text NOT NULL CHECK (actor_kind IN ('user', 'box', 'system')),
    actor_id       uuid,
    action         text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    entity_type    text NOT NULL CHECK (entity_type ~ '^[a-z_]{1,32}$'),
    entity_id      uuid,
    request_id     text CHECK (length(request_id) <= 64),
    client_address text CHECK (length(client_address) <= 64),
    detail         jsonb,
    PRIMARY KEY (authority_id, id)
);
CREATE INDEX audit_event_entity_idx ON audit_event (authority_id, entity_type, entity_id, at);
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();

-- Idempotency-Key on POST /applications and POST /deliveries: same key and body → the stored answer.
CREATE TABLE idempotency_key (
    authority_id     uuid NOT NULL,
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    route            text NOT NULL,
    request_hash     bytea NOT NULL,
    response_status  integer NOT NULL,
    response_body    bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, key, route)
);
CREATE INDEX idempotency_key_expiry_idx ON idempotency_key (authority_id, created_at);
