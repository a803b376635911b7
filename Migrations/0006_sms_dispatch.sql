-- SMS dispatch (issue #5, DESIGN §6): leases for the dispatcher, delivery reports, templates,
-- reminders once per assignment, and the "call or write instead" flag on applications.

-- 'expired': the provider's validity period ran out before delivery (delivery report).
ALTER TABLE sms_message DROP CONSTRAINT sms_message_status_check;
ALTER TABLE sms_message ADD CONSTRAINT sms_message_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'expired'));
-- The body carries the PIN: it is erased (NULL) as soon as the gateway has it or the message failed.
ALTER TABLE sms_message ALTER COLUMN body DROP NOT NULL;
ALTER TABLE sms_message
    ADD COLUMN encoding      text CHECK (encoding IN ('gsm7', 'ucs2')),
    ADD COLUMN segments      integer CHECK (segments BETWEEN 1 AND 20),
    -- A claimed message is 'sending' until claimed_until; after that another dispatcher takes it back.
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN provider      text,
    ADD COLUMN sent_at       timestamptz,
    ADD COLUMN final_at      timestamptz,
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now();

CREATE INDEX sms_message_claimed_idx ON sms_message (claimed_until) WHERE status = 'sending';
-- Delivery reports name our id (reference) or the provider's id.
CREATE INDEX sms_message_id_idx ON sms_message (id);
CREATE INDEX sms_message_provider_id_idx ON sms_message (provider, provider_id) WHERE provider_id IS NOT NULL;
-- The hourly cap counts what was handed to the gateway in the last hour.
CREATE INDEX sms_message_sent_at_idx ON sms_message (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX sms_message_application_idx ON sms_message (authority_id, application_id, created_at);
CREATE INDEX sms_message_status_idx ON sms_message (authority_id, status, created_at);
-- A reminder goes out once per assignment, however many processes run the reminder pass.
CREATE UNIQUE INDEX sms_message_one_reminder ON sms_message (authority_id, assignment_id) WHERE template = 'reminder';

-- A "ready" SMS that could not be delivered: staff call or write to the applicant instead.
ALTER TABLE application ADD COLUMN contact_required boolean NOT NULL DEFAULT false;
CREATE INDEX application_contact_required_idx ON application (authority_id) WHERE contact_required;

-- Texts edited by supervisors; without a row the built-in text of the kind and language applies.
CREATE TABLE sms_template (
    authority_id uuid NOT NULL REFERENCES authority (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('ready_in_box', 'reminder', 'moved_to_counter', 'new_pin', 'ready_at_counter')),
    language     text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    body         text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   uuid,
    PRIMARY KEY (authority_id, kind, language)
);
