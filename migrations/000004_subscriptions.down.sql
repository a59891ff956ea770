DROP INDEX IF EXISTS payments_scheduled;
DROP INDEX IF EXISTS payments_subscription;
DROP INDEX IF EXISTS payments_one_per_period;
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_period_complete;
ALTER TABLE payments DROP COLUMN IF EXISTS provider_schedule_id, DROP COLUMN IF EXISTS period_start,
    DROP COLUMN IF EXISTS period, DROP COLUMN IF EXISTS subscription_id;
DROP TABLE IF EXISTS subscriptions;
ALTER TABLE merchants DROP COLUMN IF EXISTS settings;
