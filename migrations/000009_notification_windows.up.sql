-- PG webhook endpoints are unauthenticated, so anyone can post made-up
-- payment ids to them. Notifications about payments billingd does not know
-- are counted per account in fixed time windows: the first few of a window
-- are verified with the PG, the rest up to a cap are stored as flags
-- without a PG call, and beyond the cap they are refused
-- (payments.NotificationLimits). One small row per account and window;
-- an hourly job deletes those of past windows.
CREATE TABLE pg_notification_windows (
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id) ON DELETE CASCADE,
    window_start        timestamptz NOT NULL,
    unknown_count       integer NOT NULL,
    PRIMARY KEY (provider_account_id, window_start)
);
CREATE INDEX pg_notification_windows_start ON pg_notification_windows (window_start);
