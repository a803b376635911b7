-- Box work looks applications up by their assignment (loading, events, the long poll's to_load
-- documents, retrieval) and pickups by (authority, mobile number). Without these, each of those is a
-- scan of the whole table: measured 15–80 ms per pickup at 100,000 applications (bench/pickups.py).
CREATE INDEX application_assignment_idx ON application (authority_id, assignment_id) WHERE assignment_id IS NOT NULL;
CREATE INDEX application_mobile_idx ON application (authority_id, mobile_number) WHERE mobile_number IS NOT NULL;
