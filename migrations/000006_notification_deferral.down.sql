DROP INDEX IF EXISTS pg_notifications_deferred;
ALTER TABLE pg_notifications DROP COLUMN IF EXISTS verify_after;
