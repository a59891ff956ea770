-- PG webhook endpoints are unauthenticated, so anyone can post made-up
-- notifications to them, and each one verified costs a PG call. What may
-- be verified is counted in fixed time windows (payments.NotificationLimits):
-- per payment billingd knows (subject = the payment id), and per account
-- for the rest (subject = ''): the first few of a window are verified
-- with the PG, the rest up to a cap are stored as flags without a PG
-- call, and beyond the cap they are refused. One small row per account,
-- subject and window; an hourly job deletes those of past windows.
CREATE TABLE pg_notification_windows (
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id) ON DELETE CASCADE,
    subject             text COLLATE "C" NOT NULL,
    window_start        timestamptz NOT NULL,
    count               integer NOT NULL,
    PRIMARY KEY (provider_account_id, subject, window_start)
);
CREATE INDEX pg_notification_windows_start ON pg_notification_windows (window_start);
