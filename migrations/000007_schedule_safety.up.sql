-- Scheduled payments that must never be stranded or left live at the PG.
--
-- schedule_checks / next_schedule_check_at: the overdue-schedule sweep asks
-- the PG about a row, and when the PG still cannot say, backs that row off
-- (each row on its own), so rows stuck at the PG never starve newer ones.
-- schedule_registered_at: when the PG registration call returned (with an
-- answer or a lost reply); null while it may still be in flight, so a
-- "no such schedule" then is not taken as proof that nothing will run.
-- revoke_requested_at / revoke_reason: the payment must be revoked at the
-- PG (its subscription was canceled or paused); a River job keeps at it
-- until the PG confirms, or refunds the charge if the PG ran it first.
ALTER TABLE payments
    ADD COLUMN schedule_checks        integer NOT NULL DEFAULT 0,
    ADD COLUMN next_schedule_check_at timestamptz,
    ADD COLUMN schedule_registered_at timestamptz,
    ADD COLUMN revoke_requested_at    timestamptz,
    ADD COLUMN revoke_reason          text;
CREATE INDEX payments_schedule_check ON payments (mode, (coalesce(next_schedule_check_at, scheduled_at)))
    WHERE status = 'scheduled';
CREATE INDEX payments_revoking ON payments (subscription_id)
    WHERE revoke_requested_at IS NOT NULL;

-- Why a subscription stopped billing when its status alone does not say
-- (billing_key_inactive: no active key to charge; retries_exhausted).
ALTER TABLE subscriptions ADD COLUMN status_reason text;

-- Schedules registered before this migration: the PG confirmed those that
-- have what revoking them needs.
UPDATE payments SET schedule_registered_at = updated_at
    WHERE status = 'scheduled' AND (provider <> 'bootpay' OR provider_schedule_id IS NOT NULL);
