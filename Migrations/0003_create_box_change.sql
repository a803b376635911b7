-- The box controller's long poll (issue #4): every change to a box's work, numbered per box.
-- The number comes from box.change_seq, incremented under the box row's lock, so numbers are
-- committed in order: a poller that has seen N can never later find a change below N.
ALTER TABLE box ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE box_change (
    authority_id        uuid NOT NULL,
    box_id              uuid NOT NULL,
    seq                 bigint NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now(),
    kind                text NOT NULL CHECK (kind IN ('to_load', 'released', 'compartment', 'to_retrieve')),
    compartment_number  integer NOT NULL,
    assignment_id       uuid,
    PRIMARY KEY (authority_id, box_id, seq),
    FOREIGN KEY (authority_id, box_id) REFERENCES box (authority_id, id) ON DELETE CASCADE
);
