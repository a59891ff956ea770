package store

import "fmt"

// pgScheduleOf is the SQL of a subscription's pg_schedule (see
// billing.PGSchedule) for the subscription whose id is idExpr: a payment
// being revoked comes first, since that is what may still charge.
func pgScheduleOf(idExpr string) string {
	return fmt.Sprintf(`coalesce((SELECT jsonb_build_object('payment_id', p.id, 'scheduled_at', p.scheduled_at, 'status',
		CASE WHEN p.revoke_requested_at IS NOT NULL THEN 'revoking'
		     WHEN p.schedule_registered_at IS NULL THEN 'unconfirmed' ELSE 'scheduled' END)
		FROM payments p WHERE p.subscription_id = %s AND p.status = 'scheduled'
		ORDER BY p.revoke_requested_at IS NULL, p.period DESC LIMIT 1), '{"status": "none"}'::jsonb)`, idExpr)
}
