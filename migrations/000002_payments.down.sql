DROP TABLE IF EXISTS pg_notifications;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS refunds;
DROP TABLE IF EXISTS payments;
DROP TABLE IF EXISTS billing_keys;
ALTER TABLE customers DROP COLUMN IF EXISTS default_billing_key_id;
