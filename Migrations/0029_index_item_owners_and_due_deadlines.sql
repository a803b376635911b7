-- Two look-ups that read their whole table, which only grows (a delivery note's items and the assignments
-- stay after their application is erased):
--  * a delivery's items by the application they matched: the erasure pass's batches (documents and items go
--    with the application), its dry run (`pickupbox erase --dry-run`, `/metrics`) and the Art. 15 export;
--  * the deadline pass's assignments still loaded whose pickup deadline passed, which every process looks
--    for every `DEADLINE_CHECK_SECONDS`.
-- Both partial: an item that matched nothing has no owner, and only a loaded assignment has a deadline
-- that moves it. A pickup's updates of an assignment keep its status and deadline (a failed attempt, a
-- lock) or leave the index's condition (collected), so they add no entry to it.
-- Built in the migration's transaction: deliveries and the pass wait for the two builds, once.
CREATE INDEX delivery_item_application_idx ON delivery_item (authority_id, application_id) WHERE application_id IS NOT NULL;
CREATE INDEX assignment_deadline_due_idx ON assignment (pin_expires_at) WHERE status = 'loaded';
