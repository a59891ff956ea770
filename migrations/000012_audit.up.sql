-- The audit log: one row per change made through the admin API, `billingd
-- admin`, the console or the merchant API, written in the transaction of the
-- change. Rows are never updated; only retention deletes them.
CREATE TABLE audit_events (
    id          text PRIMARY KEY,            -- aud_ + UUIDv7: sorts by time
    created_at  timestamptz NOT NULL DEFAULT now(),
    actor_type  text NOT NULL CHECK (actor_type IN ('admin_token', 'cli', 'console', 'api_key')),
    actor_id    text NOT NULL,               -- never a secret: a key id, an operator name
    source_ip   text NOT NULL DEFAULT '',
    request_id  text NOT NULL DEFAULT '',
    merchant_id text NOT NULL DEFAULT '',    -- no foreign key: the log outlives what it names
    mode        text NOT NULL DEFAULT '',
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_merchant ON audit_events (merchant_id, id);
CREATE INDEX audit_events_object ON audit_events (object_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_created ON audit_events (created_at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Console sessions: the cookie holds a random token, the table its hash, so
-- a database reader cannot sign in, and logout ends a session everywhere.
CREATE TABLE console_sessions (
    token_hash   bytea PRIMARY KEY,
    operator     text NOT NULL,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
