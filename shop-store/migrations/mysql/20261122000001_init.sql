-- shop schema, portable between MySQL 8.0.16+ and MariaDB 10.11.
-- Money is BIGINT minor units + CHAR(3) currency; never FLOAT/DOUBLE/DECIMAL.
-- IDs are UUIDs as BINARY(16) (byte order = time order for UUIDv7).
-- utf8mb4_bin everywhere: comparisons and ORDER BY follow code points, exactly like the
-- in-memory adapter; SKUs, slugs and emails are normalised before they get here.

CREATE TABLE products (
    id           BINARY(16)    NOT NULL,
    sku          VARCHAR(64)   NOT NULL,
    slug         VARCHAR(128)  NOT NULL,
    name         VARCHAR(200)  NOT NULL,
    description  TEXT          NOT NULL,
    image_url    VARCHAR(2048) NULL,
    price_minor  BIGINT        NOT NULL,
    currency     CHAR(3)       NOT NULL,
    stock        INT UNSIGNED  NOT NULL,
    active       BOOLEAN       NOT NULL,
    created_at   DATETIME(3)   NOT NULL,
    updated_at   DATETIME(3)   NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_products_sku (sku),
    UNIQUE KEY uq_products_slug (slug),
    KEY ix_products_name (name, id),
    KEY ix_products_price (price_minor, id),
    KEY ix_products_created (created_at, id),
    CONSTRAINT ck_products_price CHECK (price_minor >= 0),
    CONSTRAINT ck_products_stock CHECK (stock <= 1000000000)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE carts (
    user_id    BINARY(16)      NOT NULL,
    id         BINARY(16)      NOT NULL,
    version    BIGINT UNSIGNED NOT NULL,
    updated_at DATETIME(3)     NOT NULL,
    PRIMARY KEY (user_id),
    UNIQUE KEY uq_carts_id (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- No foreign key to products: a cart may name a product the catalog no longer has (it is
-- reported as unavailable); deleting a product deletes its cart lines explicitly.
CREATE TABLE cart_lines (
    user_id    BINARY(16)        NOT NULL,
    product_id BINARY(16)        NOT NULL,
    position   SMALLINT UNSIGNED NOT NULL,
    quantity   SMALLINT UNSIGNED NOT NULL,
    PRIMARY KEY (user_id, product_id),
    KEY ix_cart_lines_product (product_id),
    CONSTRAINT fk_cart_lines_cart FOREIGN KEY (user_id) REFERENCES carts (user_id) ON DELETE CASCADE,
    CONSTRAINT ck_cart_lines_quantity CHECK (quantity BETWEEN 1 AND 999)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE orders (
    id          BINARY(16)  NOT NULL,
    user_id     BINARY(16)  NOT NULL,
    status      VARCHAR(16) NOT NULL,
    total_minor BIGINT      NOT NULL,
    currency    CHAR(3)     NOT NULL,
    created_at  DATETIME(3) NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (id),
    KEY ix_orders_created (created_at, id),
    KEY ix_orders_user_created (user_id, created_at, id),
    KEY ix_orders_status_created (status, created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Order lines are snapshots: no foreign key to products, which may later change or go.
CREATE TABLE order_lines (
    order_id         BINARY(16)        NOT NULL,
    position         SMALLINT UNSIGNED NOT NULL,
    product_id       BINARY(16)        NOT NULL,
    sku              VARCHAR(64)       NOT NULL,
    name             VARCHAR(200)      NOT NULL,
    unit_price_minor BIGINT            NOT NULL,
    currency         CHAR(3)           NOT NULL,
    quantity         SMALLINT UNSIGNED NOT NULL,
    line_total_minor BIGINT            NOT NULL,
    PRIMARY KEY (order_id, position),
    CONSTRAINT fk_order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE idempotency_keys (
    user_id     BINARY(16)   NOT NULL,
    idem_key    VARCHAR(255) NOT NULL,
    order_id    BINARY(16)   NOT NULL,
    fingerprint VARCHAR(128) NOT NULL,
    created_at  DATETIME(3)  NOT NULL,
    PRIMARY KEY (user_id, idem_key),
    CONSTRAINT fk_idempotency_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The transactional outbox. seq follows insertion; rows stay after publishing (published_at
-- set) as an audit trail and can be purged by age.
CREATE TABLE outbox (
    seq          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id     BINARY(16)      NOT NULL,
    event_type   VARCHAR(64)     NOT NULL,
    aggregate_id BINARY(16)      NOT NULL,
    occurred_at  DATETIME(3)     NOT NULL,
    payload      LONGTEXT        NOT NULL,
    published_at DATETIME(3)     NULL,
    claimed_by   VARCHAR(128)    NULL,
    claim_until  DATETIME(3)     NULL,
    PRIMARY KEY (seq),
    UNIQUE KEY uq_outbox_event (event_id),
    KEY ix_outbox_pending (published_at, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Reviews may live in another backend than the catalog, so no foreign key to products.
CREATE TABLE reviews (
    id          BINARY(16)       NOT NULL,
    product_id  BINARY(16)       NOT NULL,
    author_id   BINARY(16)       NOT NULL,
    author_name VARCHAR(100)     NOT NULL,
    rating      TINYINT UNSIGNED NOT NULL,
    title       VARCHAR(200)     NOT NULL,
    body        TEXT             NOT NULL,
    created_at  DATETIME(3)      NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_reviews_product_author (product_id, author_id),
    KEY ix_reviews_product_created (product_id, created_at, id),
    CONSTRAINT ck_reviews_rating CHECK (rating BETWEEN 1 AND 5)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE users (
    id            BINARY(16)   NOT NULL,
    email         VARCHAR(254) NOT NULL,
    display_name  VARCHAR(100) NOT NULL,
    password_hash VARCHAR(512) NOT NULL,
    roles         VARCHAR(64)  NOT NULL,
    created_at    DATETIME(3)  NOT NULL,
    updated_at    DATETIME(3)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_email (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Only digests of refresh tokens are stored.
CREATE TABLE refresh_tokens (
    token_hash BINARY(32)  NOT NULL,
    family_id  BINARY(16)  NOT NULL,
    user_id    BINARY(16)  NOT NULL,
    issued_at  DATETIME(3) NOT NULL,
    expires_at DATETIME(3) NOT NULL,
    used_at    DATETIME(3) NULL,
    revoked_at DATETIME(3) NULL,
    PRIMARY KEY (token_hash),
    KEY ix_refresh_tokens_family (family_id),
    KEY ix_refresh_tokens_user (user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
