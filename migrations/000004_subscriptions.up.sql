-- Scheduled payments and subscriptions. A subscription bills one payment
-- per period; periods are computed from the anchor (so month ends clamp and
-- never drift), and at most one live payment exists per period — failed and
-- canceled attempts do not count, so a dunning retry is a new attempt (a new
-- PG order id) for the same period, and nothing can ever pay a period twice.

ALTER TABLE merchants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object');

CREATE TABLE subscriptions (
    id                   text COLLATE "C" PRIMARY KEY,
    merchant_id          text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                 text NOT NULL CHECK (mode IN ('test', 'live')),
    customer_id          text COLLATE "C" NOT NULL REFERENCES customers (id),
    billing_key_id       text COLLATE "C" REFERENCES billing_keys (id), -- null: the customer's default at each charge
    amount               bigint NOT NULL CHECK (amount > 0),
    tax_free             bigint NOT NULL DEFAULT 0 CHECK (tax_free >= 0 AND tax_free <= amount),
    order_name           text NOT NULL,
    interval_unit        text NOT NULL CHECK (interval_unit IN ('day', 'week', 'month', 'year')),
    interval_count       integer NOT NULL CHECK (interval_count BETWEEN 1 AND 365),
    anchor               timestamptz NOT NULL, -- start of period 0
    timezone             text NOT NULL,
    status               text NOT NULL CHECK (status IN ('active', 'past_due', 'unpaid', 'canceled', 'paused')),
    -- the period most recently billed (or being billed); -1 before the first
    current_period       integer NOT NULL DEFAULT -1,
    -- that period's bounds, kept beside it so due work can be found in SQL
    current_period_start timestamptz,
    current_period_end   timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    retry_count          integer NOT NULL DEFAULT 0,
    next_retry_at        timestamptz,
    metadata             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    canceled_at          timestamptz,
    paused_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_list ON subscriptions (merchant_id, mode, id DESC);
CREATE INDEX subscriptions_retry ON subscriptions (next_retry_at) WHERE status = 'past_due';
CREATE INDEX subscriptions_period_end ON subscriptions (current_period_end) WHERE cancel_at_period_end;

ALTER TABLE payments
    ADD COLUMN subscription_id      text COLLATE "C" REFERENCES subscriptions (id),
    ADD COLUMN period               integer,
    ADD COLUMN period_start         timestamptz,
    -- the PG's id for a scheduled payment when it has one (Bootpay reserve_id)
    ADD COLUMN provider_schedule_id text;
ALTER TABLE payments ADD CONSTRAINT payments_period_complete
    CHECK ((subscription_id IS NULL) = (period IS NULL) AND (period IS NULL) = (period_start IS NULL));
-- One live payment per subscription period.
CREATE UNIQUE INDEX payments_one_per_period ON payments (subscription_id, period_start)
    WHERE subscription_id IS NOT NULL AND status NOT IN ('failed', 'canceled');
CREATE INDEX payments_subscription ON payments (subscription_id, period) WHERE subscription_id IS NOT NULL;
CREATE INDEX payments_scheduled ON payments (scheduled_at) WHERE status = 'scheduled';
