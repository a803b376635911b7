-- PINs never in clear (issue #11 §2): the text of a queued SMS (it carries the PIN) is stored encrypted,
-- AES-256-GCM with a key derived from PICKUPBOX_SECRET_KEY; body_key_id names the key, so that after a
-- rotation PICKUPBOX_SECRET_KEY_PREVIOUS still opens it. Like the clear text before, it is erased once
-- the gateway has the message or the message failed.
ALTER TABLE sms_message
    ADD COLUMN body_sealed bytea CHECK (length(body_sealed) BETWEEN 29 AND 8000),
    ADD COLUMN body_key_id text CHECK (body_key_id ~ '^[0-9a-f]{16}$'),
    ADD CONSTRAINT sms_message_body_sealed_with_key CHECK ((body_sealed IS NULL) = (body_key_id IS NULL));
-- `body` is no longer written. Texts an older server left in it are sealed by every server at start and
-- by the erasure pass; this index finds them.
CREATE INDEX sms_message_clear_body_idx ON sms_message (created_at) WHERE body IS NOT NULL;
