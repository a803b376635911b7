-- Delivery reports are accepted once (issue 12 §4): the key of every applied report (a hash of its
-- provider's once-only key: the signed timestamp with the signature or nonce, or twilio's message SID
-- with its status) is kept until a replay could no longer pass the signature's time window, so a
-- replayed report changes nothing. The periodic pass deletes expired keys.
CREATE TABLE sms_report_receipt (
    key_hash     bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    received_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sms_report_receipt_expires_idx ON sms_report_receipt (expires_at);
