package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
)

// PG webhook routes take no credentials, so they are bounded where they
// are cheap to bound, before any database work: a rate per account and
// source address (in memory, per replica), then a few receipts at a time
// per replica, so a flood holds at most that many database connections
// and the merchant API keeps the rest of the pool. What a notification may
// cost beyond that (a stored row, a PG call) is bounded per account across
// replicas by payments.NotificationLimits.

// DefaultWebhookConcurrency is how many PG notifications one replica
// stores at once when Options.WebhookConcurrency is 0.
const DefaultWebhookConcurrency = 4

// DefaultWebhookSlotWait is how long a notification waits for a free slot
// before it is refused with 429. Iamport sends a notification once (a
// resend is opt-in, iamport.md §webhooks) and reads its answer for 30 s, so
// a burst of real ones — thousands of schedules run at midnight — waits its
// turn instead of being refused and left to the overdue sweep; a flood is
// still bounded by the rate limit and holds no more database connections.
const DefaultWebhookSlotWait = 20 * time.Second

// webhookRateLimit allows perMinute notifications per provider account and
// source address (per replica); 0 turns it off. The window is a minute so
// that a PG's burst — every schedule due at midnight notifies at once — is
// heard, while a flood from one address is still cut to that average.
func webhookRateLimit(perMinute int) func(http.Handler) http.Handler {
	if perMinute <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return httprate.Limit(perMinute, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			account := chi.URLParam(r, "account_id")
			if !billing.ValidID(billing.PrefixProviderAccount, account) {
				account = "" // made-up ids share one key, so they cannot grow the limiter's map
			}
			return account + "|" + clientIP(r).String(), nil
		}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			renderError(w, r, &billing.Error{Code: billing.ERateLimited, Reason: "rate_limited",
				Message: "too many notifications for this account from this address; slow down and retry"})
		}))
}

// receiveNotification hands a parsed notification to the payments service
// while holding one of the replica's webhook slots.
func (s *Server) receiveNotification(r *http.Request, provider string, n payments.Notification) (billing.ProviderAccount, error) {
	release, err := s.webhookSlot(r)
	if err != nil {
		return billing.ProviderAccount{}, err
	}
	defer release()
	return s.payments.ReceiveNotification(r.Context(), provider, chi.URLParam(r, "account_id"), clientIP(r), n)
}

// webhookSlot waits for one of the replica's webhook slots.
func (s *Server) webhookSlot(r *http.Request) (release func(), err error) {
	timer := time.NewTimer(s.webhookSlotWait)
	defer timer.Stop()
	select {
	case s.webhookSlots <- struct{}{}:
		return func() { <-s.webhookSlots }, nil
	case <-timer.C:
		return nil, &billing.Error{Code: billing.ERateLimited, Reason: "busy",
			Message: "too many notifications at once; retry shortly"}
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// invalidPaymentID refuses a notification whose payment id does not have
// the PG's shape, before it costs anything.
func invalidPaymentID(param string) error {
	return &billing.Error{Code: billing.EInvalid, Reason: "webhook_invalid", Param: param,
		Message: "the notification's " + param + " is not a payment id of this PG"}
}
