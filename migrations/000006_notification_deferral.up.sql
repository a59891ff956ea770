-- A PG notification about a charge that has not recorded the PG's answer
-- yet is stored with verify_after set and no job: that answer, due any
-- moment, most likely makes verifying it unnecessary. The notification
-- sweep finishes those the charge made redundant and queues the
-- verification of the rest (payments.SweepNotifications).
ALTER TABLE pg_notifications ADD COLUMN verify_after timestamptz;
CREATE INDEX pg_notifications_deferred ON pg_notifications (verify_after) WHERE verify_after IS NOT NULL;
