-- Four-eyes loading (issue #4 §3): a site may require two staff badges at the box before a
-- compartment opens for loading. A badge is stored only as a keyed hash (the key is not in the database).
ALTER TABLE site ADD COLUMN loading_requires_two_staff boolean NOT NULL DEFAULT false;
ALTER TABLE app_user ADD COLUMN badge_hash bytea;
CREATE UNIQUE INDEX app_user_badge_idx ON app_user (authority_id, badge_hash) WHERE badge_hash IS NOT NULL;
-- Who authorised the loading of a compartment (four-eyes sites): two users of the authority.
ALTER TABLE assignment ADD COLUMN loading_authorised_by uuid[];
