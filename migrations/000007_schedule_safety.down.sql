ALTER TABLE subscriptions DROP COLUMN status_reason;
DROP INDEX payments_revoking;
DROP INDEX payments_schedule_check;
ALTER TABLE payments
    DROP COLUMN revoke_reason,
    DROP COLUMN revoke_requested_at,
    DROP COLUMN schedule_registered_at,
    DROP COLUMN next_schedule_check_at,
    DROP COLUMN schedule_checks;
