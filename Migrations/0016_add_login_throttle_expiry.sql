-- Failed-login counters expire (issue 12 §3): every row says until when it matters, and a periodic pass
-- deletes the rest, so the table holds at most the addresses with failures in the last 15 minutes and
-- the accounts with failures in the last 24 hours (attempts at unknown accounts create no row).
ALTER TABLE login_throttle ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours';
CREATE INDEX login_throttle_expires_idx ON login_throttle (expires_at);
