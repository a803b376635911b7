-- Loading at the box is throttled like pickups (issue 12 §4): a stolen box token must not guess staff
-- badges or probe document numbers at leisure. Refused badges and documents this box cannot load are
-- counted per box (never the badge or number itself); more than the pickup limit within its window
-- block loading at that box for the pickup block time.
ALTER TABLE box ADD COLUMN loading_blocked_until timestamptz;

CREATE TABLE box_loading_attempt (
    authority_id  uuid NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    box_id        uuid NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    outcome       text NOT NULL CHECK (outcome IN ('badge_refused', 'unknown_document', 'throttled')),
    PRIMARY KEY (authority_id, id)
);
CREATE INDEX box_loading_attempt_box_idx ON box_loading_attempt (authority_id, box_id, at);
