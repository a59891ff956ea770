-- A payment recorded as failed that the PG's own API later reports paid is
-- corrected to paid (money moved; it must not be lost) and stamped with
-- recovered_at. Its period may meanwhile have been billed again by a
-- dunning retry: the truth is then two paid attempts for one period, which
-- the recovery event surfaces for a refund. So a recovered payment does
-- not count toward "one live payment per period"; every other payment
-- still does.
ALTER TABLE payments ADD COLUMN recovered_at timestamptz;
DROP INDEX payments_one_per_period;
CREATE UNIQUE INDEX payments_one_per_period ON payments (subscription_id, period_start)
    WHERE subscription_id IS NOT NULL AND status NOT IN ('failed', 'canceled') AND recovered_at IS NULL;
