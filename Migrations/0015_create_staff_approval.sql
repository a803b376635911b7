-- Four-eyes approvals (issue 12 §1): once a document is delivered, one caseworker alone could change
-- the mobile number and have a new PIN sent there. A change of number after delivery, and a new PIN to
-- a number changed within 24 hours, become requests that a second staff member (a supervisor) approves
-- through its own call. Until then nothing changes; the database refuses a decision by the requester.
CREATE TABLE staff_approval (
    authority_id    uuid NOT NULL,
    id              uuid NOT NULL,
    application_id  uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('mobile_number_change', 'pin_reissue')),
    -- mobile_number_change: the number asked for; pin_reissue: the number the PIN is to go to.
    -- Personal data: erased (NULL) with the application's other personal data.
    mobile_number   text CHECK (mobile_number ~ '^\+[1-9][0-9]{6,14}$'),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'superseded')),
    requested_by    uuid NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    decided_by      uuid,
    decided_at      timestamptz,
    PRIMARY KEY (authority_id, id),
    FOREIGN KEY (authority_id, application_id) REFERENCES application (authority_id, id),
    FOREIGN KEY (authority_id, requested_by) REFERENCES app_user (authority_id, id),
    FOREIGN KEY (authority_id, decided_by) REFERENCES app_user (authority_id, id),
    CONSTRAINT staff_approval_four_eyes CHECK (decided_by IS DISTINCT FROM requested_by),
    CONSTRAINT staff_approval_decided CHECK ((state IN ('approved', 'rejected')) = (decided_by IS NOT NULL AND decided_at IS NOT NULL))
);
-- One open request per application and kind; a newer one supersedes it.
CREATE UNIQUE INDEX staff_approval_one_pending ON staff_approval (authority_id, application_id, kind) WHERE state = 'pending';
CREATE INDEX staff_approval_application_idx ON staff_approval (authority_id, application_id, requested_at);
CREATE INDEX staff_approval_pending_idx ON staff_approval (authority_id, requested_at) WHERE state = 'pending';

-- When the mobile number last changed: a new PIN to it within 24 hours needs a second staff member.
ALTER TABLE application ADD COLUMN mobile_number_changed_at timestamptz;

-- The old number is told that its number was changed (never the new one).
ALTER TABLE sms_template DROP CONSTRAINT sms_template_kind_check;
ALTER TABLE sms_template ADD CONSTRAINT sms_template_kind_check
    CHECK (kind IN ('ready_in_box', 'reminder', 'moved_to_counter', 'new_pin', 'ready_at_counter', 'mobile_number_changed'));
