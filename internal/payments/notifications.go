package payments

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// Notification is a PG webhook, read but not believed.
type Notification struct {
	// ProviderID is the PG's payment id (imp_uid, receipt_id): what billingd
	// asks the PG about.
	ProviderID string
	// DedupeKey identifies a repeat delivery of the same notification.
	DedupeKey string
	Payload   map[string]any
}

// Notification outcomes, recorded on each stored notification.
const (
	NotificationApplied       = "applied"
	NotificationNoChange      = "no_change"
	FlagUnknownToPG           = "flagged_unknown_to_pg"
	FlagUnknownOrder          = "flagged_unknown_order"
	FlagAmountMismatch        = "flagged_amount_mismatch"
	FlagProviderAccountGone   = "flagged_account_deleted"
	FlagProviderAccountChange = "flagged_provider_mismatch"
)

// ReceiveNotification stores a PG webhook (once per dedupe key) and queues
// its verification in the same transaction. It does no PG call, so the PG
// gets its 200 at once; a repeat delivery is counted and changes nothing.
// It returns the account, whose settings decide the reply's form.
func (s *Service) ReceiveNotification(ctx context.Context, provider, accountID string, remote net.IP, n Notification) (billing.ProviderAccount, error) {
	if !billing.ValidID(billing.PrefixProviderAccount, accountID) {
		return billing.ProviderAccount{}, billing.NotFound("provider account", accountID)
	}
	account, err := s.store.GetProviderAccount(ctx, accountID)
	if err != nil {
		return account, err
	}
	if account.Provider != provider {
		return account, billing.NotFound("provider account", accountID)
	}
	if !sourceAllowed(account, remote) {
		return account, &billing.Error{Code: billing.EForbidden, Reason: "source_not_allowed",
			Message: "notifications for this account are not accepted from this address"}
	}
	if n.ProviderID == "" {
		return account, billing.Invalid("", "the notification names no payment")
	}
	return account, s.withTx(ctx, func(tx pgx.Tx) error {
		stored, isNew, err := s.store.RecordNotification(ctx, tx, store.Notification{
			ID: billing.NewID(billing.PrefixNotification), ProviderAccountID: account.ID, Provider: provider,
			DedupeKey: n.DedupeKey, Payload: n.Payload, RemoteAddr: remote.String(),
		})
		if err != nil || !isNew || s.queue == nil {
			return err
		}
		_, err = s.queue.InsertTx(ctx, tx, ApplyNotificationArgs{NotificationID: stored.ID}, nil)
		return err
	})
}

// sourceAllowed applies the account's optional allow list of PG addresses.
func sourceAllowed(a billing.ProviderAccount, ip net.IP) bool {
	list, ok := a.Settings["webhook_allowed_ips"].([]any)
	if !ok || len(list) == 0 {
		return true
	}
	for _, item := range list {
		s, _ := item.(string)
		if allowed := net.ParseIP(s); allowed != nil && allowed.Equal(ip) {
			return true
		}
		if _, cidr, err := net.ParseCIDR(s); err == nil && ip != nil && cidr.Contains(ip) {
			return true
		}
	}
	return false
}

// ApplyNotification verifies a stored notification by asking the PG about
// the payment it names, and applies the PG's answer — only when the PG's
// order id is one of this account's payments and the amounts agree.
// Anything else is recorded as a flag and changes nothing.
func (s *Service) ApplyNotification(ctx context.Context, notificationID string) error {
	n, err := s.store.GetNotification(ctx, notificationID)
	if err != nil {
		return err
	}
	if n.Outcome != nil {
		return nil // already done: jobs may run twice
	}
	finish := func(outcome, detail, paymentID string) error {
		return s.withTx(ctx, func(tx pgx.Tx) error {
			return s.store.FinishNotification(ctx, tx, n.ID, outcome, detail, paymentID)
		})
	}
	account, err := s.store.GetProviderAccount(ctx, n.ProviderAccountID)
	if billing.ErrorCode(err) == billing.ENotFound {
		return finish(FlagProviderAccountGone, "the provider account was deleted", "")
	}
	if err != nil {
		return err
	}
	providerID := notificationProviderID(n.Provider, n.Payload)
	if known, ok := s.alreadyPaid(ctx, n, providerID); ok {
		// A "paid" hint about a payment billingd already recorded as paid
		// from the PG's own answer, under the same PG id, cannot move it:
		// transitions only go forward. Asking the PG again would change
		// nothing. Every other hint is verified.
		return finish(NotificationNoChange, "already paid per the PG", known)
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return err
	}
	pctx, cancel := s.pgContext(ctx)
	pg, err := pgClient.GetPayment(pctx, providerID)
	cancel()
	switch {
	case errors.Is(err, providers.ErrNotFound):
		return finish(FlagUnknownToPG, fmt.Sprintf("the PG knows no payment %q", providerID), "")
	case err != nil:
		return fmt.Errorf("verify notification %s: %w", n.ID, err) // retried
	}
	p, err := s.store.PaymentByID(ctx, pg.OrderID)
	if billing.ErrorCode(err) == billing.ENotFound || (err == nil && p.ProviderAccountID != account.ID) {
		return finish(FlagUnknownOrder, fmt.Sprintf("the PG's order id %q is not a payment of this account", pg.OrderID), "")
	}
	if err != nil {
		return err
	}
	if pg.Amount != p.Amount {
		return finish(FlagAmountMismatch, fmt.Sprintf("the PG says %d, billingd charged %d", pg.Amount, p.Amount), p.ID)
	}
	before := p
	if p, err = s.applyPG(ctx, p, pg); err != nil {
		return err
	}
	outcome := NotificationNoChange
	if p.Status != before.Status || p.RefundedAmount != before.RefundedAmount {
		outcome = NotificationApplied
	}
	return finish(outcome, "", p.ID)
}

// notificationProviderID is the PG payment id a stored payload names.
func notificationProviderID(provider string, payload map[string]any) string {
	key := "imp_uid"
	if provider == providers.Bootpay {
		key = "receipt_id"
	}
	id, _ := payload[key].(string)
	return strings.TrimSpace(id)
}

// ApplyPendingNotifications verifies every stored, unprocessed notification
// of a mode now, instead of waiting for their jobs (which then find them
// done). The test clock uses it so a step's webhooks take effect before
// the next step.
func (s *Service) ApplyPendingNotifications(ctx context.Context, mode billing.Mode) (int, error) {
	ids, err := s.store.PendingNotifications(ctx, mode, 1000)
	if err != nil {
		return 0, err
	}
	// Each notification is its own PG lookup and transactions; a few at a
	// time overlap the waits. Two about one payment are safe together: its
	// updates only move forward.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	for _, id := range ids {
		g.Go(func() error { return s.ApplyNotification(gctx, id) })
	}
	return len(ids), g.Wait()
}

// alreadyPaid reports whether an Iamport "paid" notification names a
// payment of its account that billingd already holds as paid (or later)
// under the same imp_uid, and returns that payment's id.
func (s *Service) alreadyPaid(ctx context.Context, n store.Notification, providerID string) (string, bool) {
	status, _ := n.Payload["status"].(string)
	orderID, _ := n.Payload["merchant_uid"].(string)
	if n.Provider != providers.Iamport || status != "paid" || orderID == "" || providerID == "" {
		return "", false
	}
	p, err := s.store.PaymentByID(ctx, orderID)
	if err != nil || p.ProviderAccountID != n.ProviderAccountID || p.ProviderPaymentID == nil || *p.ProviderPaymentID != providerID {
		return "", false
	}
	switch p.Status {
	case billing.PaymentPaid, billing.PaymentPartiallyRefunded, billing.PaymentRefunded:
		return p.ID, true
	}
	return "", false
}
