package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// PG webhook endpoints take no credentials, so anyone can post made-up
// notifications to them, and each one verified costs a PG call with the
// merchant's credentials and a job. What may be verified is counted in
// fixed windows, in Postgres so the bounds hold across replicas:
//
//   - A notification about a payment billingd knows is verified as ever,
//     PerPayment times per payment and window: a real payment does not get
//     more notifications than that, and varying the cancellation_id (or the
//     imp_uid, for a payment without one yet) buys no more. Beyond that it
//     counts as unknown.
//   - The others count per account: the first Lookups of a window are
//     verified with the PG, the rest up to Stored are recorded as
//     FlagNotVerified without a PG call, and beyond that they are refused
//     (429) and not stored.

// NotificationLimits bound what notifications can cost one provider
// account.
type NotificationLimits struct {
	Window     time.Duration // the counting window (default 1 minute)
	PerPayment int           // verified per known payment per window (default 5)
	Lookups    int           // others verified with the PG per window (default 10)
	Stored     int           // others stored per window, verified or not (default 100)
}

// Default notification limits.
const (
	DefaultNotificationWindow     = time.Minute
	DefaultNotificationPerPayment = 5
	DefaultNotificationLookups    = 10
	DefaultNotificationStored     = 100
)

func (l NotificationLimits) withDefaults() NotificationLimits {
	if l.Window <= 0 {
		l.Window = DefaultNotificationWindow
	}
	if l.PerPayment <= 0 {
		l.PerPayment = DefaultNotificationPerPayment
	}
	if l.Lookups <= 0 {
		l.Lookups = DefaultNotificationLookups
	}
	if l.Stored <= 0 {
		l.Stored = DefaultNotificationStored
	}
	if l.Stored < l.Lookups {
		l.Stored = l.Lookups
	}
	return l
}

// FlagNotVerified marks a notification about a payment billingd does not
// know that arrived after its account's PG look-ups for the window were
// spent: stored for an operator, never sent to the PG.
const FlagNotVerified = "flagged_not_verified"

// NotificationQueue is the River queue of notification verifications. It
// has few workers of its own (jobs.NotificationWorkers), so a flood of
// notifications never holds up reconciliation, renewals or webhooks.
const NotificationQueue = "pg_notifications"

// notificationOrder is the billingd payment a notification names by the
// PG's order id (Iamport merchant_uid, Bootpay order_id, both the payment
// id), or "" when it names none that could be billingd's.
func notificationOrder(provider string, payload map[string]any) string {
	key := "merchant_uid"
	switch provider {
	case providers.Bootpay:
		key = "order_id"
	case providers.Portone:
		key = "payment_id"
	}
	orderID, _ := payload[key].(string)
	if !billing.ValidID(billing.PrefixPayment, orderID) {
		return ""
	}
	return orderID
}

// knownPayment is the id of p, the payment a notification names by order
// id, when it is one of the account's payments under the PG id the
// notification names (or one still waiting to learn its PG id), and ""
// otherwise. A real order id with another PG id is not known: knowing one
// order id must not buy unbounded PG calls.
func knownPayment(p store.PaymentState, providerID string) string {
	if p.ID == "" || (p.ProviderPaymentID != nil && *p.ProviderPaymentID != providerID) {
		return ""
	}
	return p.ID
}

// admitNotification counts a new notification against its windows, in
// tx: paymentID's when it names a payment billingd knows ("" otherwise),
// then the account's. It reports whether the notification may be verified
// with the PG; over the account's cap it returns a rate-limit error, so
// rolling tx back stores nothing.
func (s *Service) admitNotification(ctx context.Context, tx pgx.Tx, accountID, paymentID string) (bool, error) {
	l := s.notificationLimits
	window := time.Now().Truncate(l.Window)
	if paymentID != "" {
		n, err := s.store.CountNotification(ctx, tx, accountID, paymentID, window)
		if err != nil || n <= l.PerPayment {
			return err == nil, err
		}
	}
	n, err := s.store.CountNotification(ctx, tx, accountID, "", window)
	if err != nil {
		return false, err
	}
	if n > l.Stored {
		return false, &billing.Error{Code: billing.ERateLimited, Reason: "too_many_notifications",
			Message: "too many notifications about payments billingd does not know for this account; retry later"}
	}
	return n <= l.Lookups, nil
}

// detailNotVerified explains FlagNotVerified on the notification.
func (s *Service) detailNotVerified() string {
	l := s.notificationLimits
	return fmt.Sprintf("not verified: the account's %d PG look-ups per %s for notifications about payments billingd does not know were spent", l.Lookups, l.Window)
}

// PruneNotificationWindows deletes the counts of windows that are over.
func (s *Service) PruneNotificationWindows(ctx context.Context) error {
	_, err := s.store.DeleteNotificationWindowsBefore(ctx, time.Now().Truncate(s.notificationLimits.Window).Add(-s.notificationLimits.Window))
	return err
}
