-- Look-ups that read their whole table, which only grows (documents, a delivery note's items and the
-- assignments stay after their application is erased):
--  * a delivery's items by the application they matched: the Art. 15 export;
--  * the numbers not yet erased of documents and items: the erasure pass's steps for documents delivered
--    after their application was erased while still open (their numbers go the period after it closes)
--    and its dry run (`pickupbox erase --dry-run`, and `/metrics` on every scrape), which start from them
--    instead of from every erased application; the pass's item batches too. Erased numbers (`erased-…`,
--    most rows in time) are not in them;
--  * the deadline pass's assignments still loaded whose pickup deadline passed, which every process looks
--    for every `DEADLINE_CHECK_SECONDS`. A pickup's updates of an assignment keep its status and deadline
--    (a failed attempt, a lock) or leave the index's condition (collected), so they add no entry to it.
-- Built in the migration's transaction: every writer of the three tables (deliveries, loading and pickups
-- at the boxes, door events, cancellations, the passes) waits for the builds, once (OPERATIONS.md#3-upgrade).
CREATE INDEX delivery_item_application_idx ON delivery_item (authority_id, application_id) WHERE application_id IS NOT NULL;
CREATE INDEX delivery_item_unerased_idx ON delivery_item (authority_id, application_id)
    WHERE application_id IS NOT NULL AND document_number NOT LIKE 'erased-%';
CREATE INDEX document_unerased_idx ON document (authority_id, application_id) WHERE document_number NOT LIKE 'erased-%';
CREATE INDEX assignment_deadline_due_idx ON assignment (pin_expires_at) WHERE status = 'loaded';
