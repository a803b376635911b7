-- Pickup at the box (issue #4 §4–5): per-site factors, pickup sessions and attempts.
-- Which factors a site asks for is a per-site setting: sites differ, and reading the old card's
-- chip by CAN at an unattended box is legally contested (DESIGN §4.5).
ALTER TABLE site
    ADD COLUMN pickup_requires_pin_letter boolean NOT NULL DEFAULT true,
    ADD COLUMN pickup_second_factor text NOT NULL DEFAULT 'date_of_birth_or_can'
        CHECK (pickup_second_factor IN ('date_of_birth_or_can', 'date_of_birth', 'none')),
    ADD COLUMN pickup_requires_old_document boolean NOT NULL DEFAULT true;

-- A box that sees too many failed attempts refuses pickups for a while.
ALTER TABLE box ADD COLUMN pickups_blocked_until timestamptz;

-- Mobile number and PIN matched: the factors still to give, valid for 2 minutes.
CREATE TABLE pickup_session (
    authority_id    uuid NOT NULL,
    id              uuid NOT NULL,
    box_id          uuid NOT NULL,
    assignment_id   uuid NOT NULL,
    application_id  uuid NOT NULL,
    factors         text[] NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    verified_at     timestamptz,
    PRIMARY KEY (authority_id, id),
    FOREIGN KEY (authority_id, assignment_id) REFERENCES assignment (authority_id, id)
);

-- Every attempt at a box, with its outcome only: never the PIN or the number entered.
CREATE TABLE pickup_attempt (
    authority_id  uuid NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    box_id        uuid NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    outcome       text NOT NULL CHECK (outcome IN ('pin_accepted', 'refused', 'factors_accepted', 'factors_refused', 'throttled', 'outside_hours', 'deadline_passed')),
    PRIMARY KEY (authority_id, id)
);
CREATE INDEX pickup_attempt_box_idx ON pickup_attempt (authority_id, box_id, at);

-- What the box reported during a pickup; `collected` needs the site's required events.
ALTER TABLE assignment
    ADD COLUMN opened_at timestamptz,
    ADD COLUMN document_removed_at timestamptz,
    ADD COLUMN old_document_destroyed_at timestamptz;
