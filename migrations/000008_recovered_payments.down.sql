-- Fails while a recovered payment shares its period with another live
-- payment: refund or resolve those first.
DROP INDEX payments_one_per_period;
CREATE UNIQUE INDEX payments_one_per_period ON payments (subscription_id, period_start)
    WHERE subscription_id IS NOT NULL AND status NOT IN ('failed', 'canceled');
ALTER TABLE payments DROP COLUMN recovered_at;
