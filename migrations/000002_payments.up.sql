-- Billing keys, payments, refunds, the events outbox and inbound PG
-- notifications. State lives in CHECK-constrained text columns; the
-- transitions themselves are enforced by the UPDATEs in internal/store, which
-- name the states they may leave (monotonic: paid never becomes failed).

ALTER TABLE customers ADD COLUMN default_billing_key_id text COLLATE "C";

CREATE TABLE billing_keys (
    id                  text COLLATE "C" PRIMARY KEY,
    merchant_id         text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                text NOT NULL CHECK (mode IN ('test', 'live')),
    customer_id         text COLLATE "C" NOT NULL REFERENCES customers (id),
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id),
    provider            text NOT NULL CHECK (provider IN ('iamport', 'bootpay')),
    pg                  text NOT NULL,
    method              text NOT NULL CHECK (method IN ('window', 'rest')),
    status              text NOT NULL CHECK (status IN ('pending', 'active', 'failed', 'deleted')),
    -- the alias billingd allocates for the PG (Iamport customer_uid); random,
    -- so a frontend cannot guess another customer's
    alias               text NOT NULL UNIQUE,
    -- what a charge names at the PG: the alias for Iamport, the PG-issued
    -- billing_key for Bootpay (set on activation)
    provider_key        text,
    client_secret_hash  bytea NOT NULL,
    card_name           text,
    card_number         text, -- masked, as the PG returns it
    card_type           text,
    failure_code        text,
    failure_message     text,
    expires_at          timestamptz NOT NULL, -- a pending registration's deadline
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    activated_at        timestamptz,
    deleted_at          timestamptz
);
CREATE INDEX billing_keys_list ON billing_keys (merchant_id, mode, id DESC);
CREATE INDEX billing_keys_customer ON billing_keys (customer_id, id DESC);
CREATE INDEX billing_keys_pending ON billing_keys (expires_at) WHERE status = 'pending';

CREATE TABLE payments (
    -- the id is also the PG order id (Iamport merchant_uid, Bootpay
    -- order_id): fixed before the PG is called, so a retry can never mint a
    -- second upstream order
    id                  text COLLATE "C" PRIMARY KEY,
    merchant_id         text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                text NOT NULL CHECK (mode IN ('test', 'live')),
    customer_id         text COLLATE "C" NOT NULL REFERENCES customers (id),
    billing_key_id      text COLLATE "C" NOT NULL REFERENCES billing_keys (id),
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id),
    provider            text NOT NULL,
    amount              bigint NOT NULL CHECK (amount > 0),
    tax_free            bigint NOT NULL DEFAULT 0 CHECK (tax_free >= 0 AND tax_free <= amount),
    currency            text NOT NULL DEFAULT 'KRW',
    order_name          text NOT NULL,
    status              text NOT NULL CHECK (status IN ('processing', 'paid', 'failed', 'unknown',
                            'partially_refunded', 'refunded', 'scheduled', 'canceled')),
    refunded_amount     bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    provider_payment_id text, -- imp_uid / receipt_id
    pg                  text,
    card_name           text,
    card_number         text,
    receipt_url         text,
    failure_code        text,
    failure_message     text,
    metadata            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    paid_at             timestamptz,
    failed_at           timestamptz,
    scheduled_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_list ON payments (merchant_id, mode, id DESC);
CREATE INDEX payments_customer ON payments (customer_id, id DESC);
-- the reconciler's work list: payments whose outcome is not known
CREATE INDEX payments_unsettled ON payments (updated_at) WHERE status IN ('processing', 'unknown');
CREATE UNIQUE INDEX payments_provider_payment ON payments (provider_account_id, provider_payment_id)
    WHERE provider_payment_id IS NOT NULL;

CREATE TABLE refunds (
    id                  text COLLATE "C" PRIMARY KEY,
    payment_id          text COLLATE "C" NOT NULL REFERENCES payments (id),
    merchant_id         text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                text NOT NULL CHECK (mode IN ('test', 'live')),
    amount              bigint NOT NULL CHECK (amount > 0),
    tax_free            bigint NOT NULL DEFAULT 0 CHECK (tax_free >= 0),
    reason              text NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'unknown')),
    -- the refundable balance billingd believed in when it asked the PG
    -- (Iamport's checksum); reconciliation compares the PG's cancel total
    refundable_before   bigint NOT NULL,
    failure_code        text,
    failure_message     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment ON refunds (payment_id, id);
-- at most one refund in flight per payment: the checksum of the next one
-- depends on how this one ends
CREATE UNIQUE INDEX refunds_one_in_flight ON refunds (payment_id) WHERE status IN ('pending', 'unknown');

-- The outbox: every state change writes one row in the same transaction.
CREATE TABLE events (
    id          text COLLATE "C" PRIMARY KEY,
    merchant_id text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode        text NOT NULL CHECK (mode IN ('test', 'live')),
    type        text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_list ON events (merchant_id, mode, id DESC);
CREATE INDEX events_object ON events (object_id, id);

-- Inbound PG notifications: hints, stored as received (deduplicated), then
-- verified against the PG's API by a job. outcome records what they led to.
CREATE TABLE pg_notifications (
    id                  text COLLATE "C" PRIMARY KEY,
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id),
    provider            text NOT NULL,
    dedupe_key          text NOT NULL,
    payload             jsonb NOT NULL,
    remote_addr         text NOT NULL,
    received_count      integer NOT NULL DEFAULT 1,
    outcome             text, -- null until processed: applied, no_change, flagged_*, ...
    detail              text,
    payment_id          text COLLATE "C",
    received_at         timestamptz NOT NULL DEFAULT now(),
    processed_at        timestamptz,
    UNIQUE (provider_account_id, dedupe_key)
);
