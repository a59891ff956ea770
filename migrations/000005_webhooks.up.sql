-- Merchant webhooks: endpoints (with sealed signing secrets), one delivery
-- per (event, endpoint) created in the transaction that wrote the event (the
-- outbox fan-out), and every attempt of every delivery. Plus the indexes the
-- public events API and the retention job need.

CREATE TABLE webhook_endpoints (
    id                         text COLLATE "C" PRIMARY KEY,
    merchant_id                text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                       text NOT NULL CHECK (mode IN ('test', 'live')),
    url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description                text CHECK (length(description) <= 500),
    -- event types, "<object>.*" wildcards, or {'*'} for every event
    enabled_events             text[] NOT NULL CHECK (cardinality(enabled_events) BETWEEN 1 AND 100),
    status                     text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason            text,
    -- The signing secret is a credential: AES-256-GCM sealed (bound to the
    -- row id) beside the id of the key that sealed it. Secrets replaced by a
    -- rotation stay valid for an overlap: a sealed JSON list of
    -- {secret, expires_at}; previous_secrets_expire_at is the latest expiry.
    secret_sealed              bytea NOT NULL,
    secret_key_id              text NOT NULL,
    previous_secrets_sealed    bytea,
    previous_secrets_key_id    text,
    previous_secrets_expire_at timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    deleted_at                 timestamptz
);
-- Lists, and the fan-out's lookup of a merchant's endpoints in one mode.
CREATE INDEX webhook_endpoints_list ON webhook_endpoints (merchant_id, mode, id DESC) WHERE deleted_at IS NULL;

-- One message per (event, endpoint). Its id is the webhook-id header: the
-- same on every retry and on a manual resend, so receivers can deduplicate.
CREATE TABLE webhook_deliveries (
    id               text COLLATE "C" PRIMARY KEY,
    event_id         text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id      text COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id),
    merchant_id      text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode             text NOT NULL CHECK (mode IN ('test', 'live')),
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'canceled')),
    attempt_count    integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    -- bumped by each resend: the delivery's River job is unique per
    -- (id, run), so a resend gets a job even while the previous run's job
    -- is still being marked complete
    run              integer NOT NULL DEFAULT 0 CHECK (run >= 0),
    next_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    -- set in the transaction that enqueued the delivery's River job; a
    -- pending row without it is picked up by the dispatch sweep
    enqueued_at      timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);
-- the dispatch sweep's work list: pending deliveries without a job, or
-- whose job should have run long ago
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

-- Every HTTP attempt, as the merchant needs it to debug a receiver. The
-- response body is cut to 1 KiB; error texts never carry secrets.
CREATE TABLE webhook_attempts (
    id            text COLLATE "C" PRIMARY KEY,
    delivery_id   text COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt       integer NOT NULL CHECK (attempt >= 1),
    url           text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'gone')),
    status_code   integer,
    error         text,
    response_body text CHECK (octet_length(response_body) <= 1024),
    duration_ms   integer NOT NULL CHECK (duration_ms >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- GET /v1/events?type= and the retention job.
CREATE INDEX events_type ON events (merchant_id, mode, type, id DESC);
CREATE INDEX events_created ON events (created_at);
