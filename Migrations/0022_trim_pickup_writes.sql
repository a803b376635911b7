-- Fewer writes per pickup (issue #15 §5). Every step of a pickup adds a row to pickup_attempt, but only
-- the failed ones are ever counted per box (pickup_count_failure, migration 0021): the index for that
-- count now holds the failures only, so a successful pickup no longer writes it twice. The erasure pass
-- keeps its own index on `at`.
CREATE INDEX pickup_attempt_failure_idx ON pickup_attempt (authority_id, box_id, at) WHERE outcome IN ('refused', 'factors_refused');
DROP INDEX pickup_attempt_box_idx;

-- A pickup session is updated once, seconds after it was written (verified_at): room on its page lets
-- that update stay on the page (HOT) instead of adding a new entry to each of the table's indexes.
ALTER TABLE pickup_session SET (fillfactor = 80);
