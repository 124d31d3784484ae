-- Consumers' records of handled events (shop_core::inbox): one row per (consumer, event).
-- A row with processed_at NULL is a claim, held by claimed_by until claim_until.
CREATE TABLE processed_events (
    consumer     VARCHAR(255) NOT NULL,
    event_id     BINARY(16)   NOT NULL,
    claimed_by   VARCHAR(128) NULL,
    claim_until  DATETIME(3)  NULL,
    processed_at DATETIME(3)  NULL,
    PRIMARY KEY (consumer, event_id),
    KEY ix_processed_events_processed (processed_at),
    KEY ix_processed_events_claim (claim_until)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Retention deletes by age; these keep its batches from scanning whole tables.
-- (The outbox's (published_at, seq) index already serves `published_at < ?`.)
CREATE INDEX ix_idempotency_created ON idempotency_keys (created_at);
CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX ix_refresh_tokens_revoked ON refresh_tokens (revoked_at);
