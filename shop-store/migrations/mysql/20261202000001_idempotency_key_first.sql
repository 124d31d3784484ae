-- Checkout records its idempotency key as the first statement of its transaction, before the
-- order exists: racing requests with one key then queue on that row and nothing else. The
-- key and its order are still written in one transaction, so the reference holds without a
-- foreign key (and orders are never deleted).
ALTER TABLE idempotency_keys DROP FOREIGN KEY fk_idempotency_order;
