-- One row per running billingd process (its River client id), refreshed
-- every few seconds: a River job still marked running by a client whose
-- row went stale belongs to a dead replica and is handed back to the
-- queue at once, instead of after River's stuck-job timeout.
CREATE TABLE replicas (
    client_id    text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
