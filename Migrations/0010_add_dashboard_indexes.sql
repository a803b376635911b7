-- The dashboard's "today" figures and its 30-day chart read by time; without these they scan whole tables.
CREATE INDEX application_collected_at_idx ON application (authority_id, collected_at) WHERE collected_at IS NOT NULL;
CREATE INDEX assignment_loaded_at_idx ON assignment (authority_id, loaded_at) WHERE loaded_at IS NOT NULL;
CREATE INDEX delivery_received_at_idx ON delivery (authority_id, received_at);
