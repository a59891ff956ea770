-- Foundation: merchants, their API keys, PG provider accounts, customers and
-- idempotency records. Every merchant-owned row carries (merchant_id, mode) and
-- every query is scoped by both: test and live objects never meet.
--
-- Ids are text with a type prefix and a time-ordered base32 body, compared
-- bytewise (COLLATE "C") so that "newest first" is ORDER BY id DESC whatever
-- the database's default collation.

CREATE TABLE merchants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          text COLLATE "C" PRIMARY KEY,
    merchant_id text COLLATE "C" NOT NULL REFERENCES merchants (id),
    kind        text NOT NULL CHECK (kind IN ('secret', 'publishable')),
    mode        text NOT NULL CHECK (mode IN ('test', 'live')),
    -- SHA-256 of the whole key; the key itself is shown once and never stored.
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- the last four characters, so an operator can tell keys apart
    key_hint    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, created_at DESC);

CREATE TABLE provider_accounts (
    id                 text COLLATE "C" PRIMARY KEY,
    merchant_id        text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode               text NOT NULL CHECK (mode IN ('test', 'live')),
    provider           text NOT NULL CHECK (provider IN ('iamport', 'bootpay')),
    -- AES-256-GCM ciphertext of the credentials JSON, and the id of the key
    -- that sealed it (keys rotate; old ones stay able to open old rows).
    credentials_sealed bytea NOT NULL,
    credentials_key_id text NOT NULL,
    base_url           text,
    settings           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz
);
-- One live account per provider per merchant and mode: charges pick the
-- account by provider, so two would be ambiguous.
CREATE UNIQUE INDEX provider_accounts_one_per_provider
    ON provider_accounts (merchant_id, mode, provider) WHERE deleted_at IS NULL;

CREATE TABLE customers (
    id          text COLLATE "C" PRIMARY KEY,
    merchant_id text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode        text NOT NULL CHECK (mode IN ('test', 'live')),
    external_id text,
    name        text,
    email       text,
    phone       text,
    birth       date,
    gender      text CHECK (gender IN ('male', 'female')),
    metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX customers_external_id
    ON customers (merchant_id, mode, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX customers_list ON customers (merchant_id, mode, id DESC) WHERE deleted_at IS NULL;

-- Idempotency records (Stripe semantics, Brandur's storage): one row per
-- (merchant, mode, key). locked_at is set while a request runs; the stored
-- response is replayed for the same fingerprint; recovery_point records how
-- far a multi-phase request got, so a retry after a crash resumes there.
CREATE TABLE idempotency_keys (
    merchant_id     text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode            text NOT NULL CHECK (mode IN ('test', 'live')),
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint     bytea NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    recovery_point  text NOT NULL DEFAULT 'started',
    locked_at       timestamptz,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, mode, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
