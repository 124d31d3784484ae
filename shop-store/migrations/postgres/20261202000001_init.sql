-- shop schema for PostgreSQL 13+, the same tables, keys and rules as the MySQL schema's
-- latest state (see migrations/mysql).
-- Money is BIGINT minor units + CHAR(3) currency; never a floating or numeric type.
-- IDs are `uuid`, which compares byte by byte: for UUIDv7 that is time order, as BINARY(16).
-- Text compares and sorts by code point (COLLATE "C"), exactly like the in-memory adapter and
-- MySQL's utf8mb4_bin; SKUs, slugs and emails are normalised before they get here.
-- Times are timestamptz(3): milliseconds, as every other adapter keeps them.

CREATE TABLE products (
    id           uuid          NOT NULL,
    sku          varchar(64)   COLLATE "C" NOT NULL,
    slug         varchar(128)  COLLATE "C" NOT NULL,
    name         varchar(200)  COLLATE "C" NOT NULL,
    description  text          COLLATE "C" NOT NULL,
    image_url    varchar(2048) COLLATE "C" NULL,
    price_minor  bigint        NOT NULL,
    currency     char(3)       COLLATE "C" NOT NULL,
    stock        integer       NOT NULL,
    active       boolean       NOT NULL,
    created_at   timestamptz(3) NOT NULL,
    updated_at   timestamptz(3) NOT NULL,
    CONSTRAINT pk_products PRIMARY KEY (id),
    CONSTRAINT uq_products_sku UNIQUE (sku),
    CONSTRAINT uq_products_slug UNIQUE (slug),
    CONSTRAINT ck_products_price CHECK (price_minor >= 0),
    CONSTRAINT ck_products_stock CHECK (stock BETWEEN 0 AND 1000000000)
);
CREATE INDEX ix_products_name ON products (name, id);
CREATE INDEX ix_products_price ON products (price_minor, id);
CREATE INDEX ix_products_created ON products (created_at, id);

CREATE TABLE carts (
    user_id    uuid           NOT NULL,
    id         uuid           NOT NULL,
    version    bigint         NOT NULL,
    updated_at timestamptz(3) NOT NULL,
    CONSTRAINT pk_carts PRIMARY KEY (user_id),
    CONSTRAINT uq_carts_id UNIQUE (id),
    CONSTRAINT ck_carts_version CHECK (version >= 0)
);

-- No foreign key to products: a cart may name a product the catalog no longer has (it is
-- reported as unavailable); deleting a product deletes its cart lines explicitly.
CREATE TABLE cart_lines (
    user_id    uuid     NOT NULL,
    product_id uuid     NOT NULL,
    position   smallint NOT NULL,
    quantity   smallint NOT NULL,
    CONSTRAINT pk_cart_lines PRIMARY KEY (user_id, product_id),
    CONSTRAINT fk_cart_lines_cart FOREIGN KEY (user_id) REFERENCES carts (user_id) ON DELETE CASCADE,
    CONSTRAINT ck_cart_lines_quantity CHECK (quantity BETWEEN 1 AND 999)
);
CREATE INDEX ix_cart_lines_product ON cart_lines (product_id);

CREATE TABLE orders (
    id          uuid           NOT NULL,
    user_id     uuid           NOT NULL,
    status      varchar(16)    COLLATE "C" NOT NULL,
    total_minor bigint         NOT NULL,
    currency    char(3)        COLLATE "C" NOT NULL,
    created_at  timestamptz(3) NOT NULL,
    updated_at  timestamptz(3) NOT NULL,
    CONSTRAINT pk_orders PRIMARY KEY (id)
);
CREATE INDEX ix_orders_created ON orders (created_at, id);
CREATE INDEX ix_orders_user_created ON orders (user_id, created_at, id);
CREATE INDEX ix_orders_status_created ON orders (status, created_at, id);

-- Order lines are snapshots: no foreign key to products, which may later change or go.
CREATE TABLE order_lines (
    order_id         uuid         NOT NULL,
    position         smallint     NOT NULL,
    product_id       uuid         NOT NULL,
    sku              varchar(64)  COLLATE "C" NOT NULL,
    name             varchar(200) COLLATE "C" NOT NULL,
    unit_price_minor bigint       NOT NULL,
    currency         char(3)      COLLATE "C" NOT NULL,
    quantity         smallint     NOT NULL,
    line_total_minor bigint       NOT NULL,
    CONSTRAINT pk_order_lines PRIMARY KEY (order_id, position),
    CONSTRAINT fk_order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
);

-- Checkout records its idempotency key as the first statement of its transaction, before the
-- order exists: racing requests with one key then queue on that row and nothing else. Key and
-- order are written in one transaction, so the reference holds without a foreign key.
CREATE TABLE idempotency_keys (
    user_id     uuid           NOT NULL,
    idem_key    varchar(255)   COLLATE "C" NOT NULL,
    order_id    uuid           NOT NULL,
    fingerprint varchar(128)   COLLATE "C" NOT NULL,
    created_at  timestamptz(3) NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX ix_idempotency_created ON idempotency_keys (created_at);

-- The transactional outbox. seq follows insertion; rows stay after publishing (published_at
-- set) as an audit trail and are purged by age.
CREATE TABLE outbox (
    seq          bigint         GENERATED ALWAYS AS IDENTITY,
    event_id     uuid           NOT NULL,
    event_type   varchar(64)    COLLATE "C" NOT NULL,
    aggregate_id uuid           NOT NULL,
    occurred_at  timestamptz(3) NOT NULL,
    payload      text           NOT NULL,
    traceparent  varchar(55)    COLLATE "C" NULL,
    published_at timestamptz(3) NULL,
    claimed_by   varchar(128)   COLLATE "C" NULL,
    claim_until  timestamptz(3) NULL,
    CONSTRAINT pk_outbox PRIMARY KEY (seq),
    CONSTRAINT uq_outbox_event UNIQUE (event_id)
);
-- The relay reads pending events in order; published ones are purged by age.
CREATE INDEX ix_outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Reviews may live in another backend than the catalog, so no foreign key to products.
CREATE TABLE reviews (
    id          uuid           NOT NULL,
    product_id  uuid           NOT NULL,
    author_id   uuid           NOT NULL,
    author_name varchar(100)   COLLATE "C" NOT NULL,
    rating      smallint       NOT NULL,
    title       varchar(200)   COLLATE "C" NOT NULL,
    body        text           COLLATE "C" NOT NULL,
    created_at  timestamptz(3) NOT NULL,
    CONSTRAINT pk_reviews PRIMARY KEY (id),
    CONSTRAINT uq_reviews_product_author UNIQUE (product_id, author_id),
    CONSTRAINT ck_reviews_rating CHECK (rating BETWEEN 1 AND 5)
);
CREATE INDEX ix_reviews_product_created ON reviews (product_id, created_at, id);

CREATE TABLE users (
    id            uuid           NOT NULL,
    email         varchar(254)   COLLATE "C" NOT NULL,
    display_name  varchar(100)   COLLATE "C" NOT NULL,
    password_hash varchar(512)   COLLATE "C" NOT NULL,
    roles         varchar(64)    COLLATE "C" NOT NULL,
    created_at    timestamptz(3) NOT NULL,
    updated_at    timestamptz(3) NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT uq_users_email UNIQUE (email)
);

-- Only digests of refresh tokens are stored.
CREATE TABLE refresh_tokens (
    token_hash bytea          NOT NULL,
    family_id  uuid           NOT NULL,
    user_id    uuid           NOT NULL,
    issued_at  timestamptz(3) NOT NULL,
    expires_at timestamptz(3) NOT NULL,
    used_at    timestamptz(3) NULL,
    revoked_at timestamptz(3) NULL,
    CONSTRAINT pk_refresh_tokens PRIMARY KEY (token_hash),
    CONSTRAINT ck_refresh_tokens_hash CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX ix_refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX ix_refresh_tokens_revoked ON refresh_tokens (revoked_at);

-- Consumers' records of handled events (shop_core::inbox): one row per (consumer, event).
-- A row with processed_at NULL is a claim, held by claimed_by until claim_until.
CREATE TABLE processed_events (
    consumer     varchar(255)   COLLATE "C" NOT NULL,
    event_id     uuid           NOT NULL,
    claimed_by   varchar(128)   COLLATE "C" NULL,
    claim_until  timestamptz(3) NULL,
    processed_at timestamptz(3) NULL,
    CONSTRAINT pk_processed_events PRIMARY KEY (consumer, event_id)
);
CREATE INDEX ix_processed_events_processed ON processed_events (processed_at);
CREATE INDEX ix_processed_events_claim ON processed_events (claim_until);
