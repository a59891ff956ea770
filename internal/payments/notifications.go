package payments

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

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
	FlagPGMismatch            = "flagged_pg_mismatch" // currency, billing key or channel
	FlagProviderAccountGone   = "flagged_account_deleted"
	FlagProviderAccountChange = "flagged_provider_mismatch"
)

// ReceiveNotification stores a PG webhook (once per dedupe key) and queues
// its verification in the same transaction. It does no PG call, so the PG
// gets its 200 at once; a repeat delivery is counted and changes nothing.
// A "paid" notification about a charge billingd already recorded as paid
// from the PG's answer is stored finished, with no job: Iamport sends one
// for every charge. Any other is verified only within the account's
// NotificationLimits (notification_limits.go). It returns the account, whose settings decide
// the reply's form.
func (s *Service) ReceiveNotification(ctx context.Context, provider, accountID string, remote net.IP, n Notification) (billing.ProviderAccount, error) {
	if !billing.ValidID(billing.PrefixProviderAccount, accountID) {
		return billing.ProviderAccount{}, billing.NotFound("provider account", accountID)
	}
	// The account and the payment the notification names, in one read.
	t, err := s.store.FindNotificationTarget(ctx, accountID, notificationOrder(provider, n.Payload))
	account := t.Account
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
	record := store.Notification{
		ID: billing.NewID(billing.PrefixNotification), ProviderAccountID: account.ID, Provider: provider,
		DedupeKey: n.DedupeKey, Payload: n.Payload, RemoteAddr: remote.String(),
	}
	paidHint := paidHintOrder(provider, n.Payload) != ""
	switch p := t.Payment; {
	case paidHint && recordedPaid(p, n.ProviderID):
		// Iamport notifies every paid charge, and billingd recorded the
		// PG's own answer already: nothing to verify, no job.
		record.Outcome, record.Detail, record.PaymentID = ptr(NotificationNoChange), ptr(detailAlreadyPaid), &p.ID
		_, _, err := s.store.RecordNotification(ctx, nil, record)
		return account, err
	case paidHint && p.Status == billing.PaymentProcessing:
		// The charge has not recorded the PG's answer yet: Iamport sends
		// the notification as it answers, so that answer is most likely
		// milliseconds away and will make asking the PG unnecessary.
		// The notification sweep decides, after notificationGrace.
		// (When the answer is lost, this notification settles the
		// payment, a few seconds later.)
		after := time.Now().Add(notificationGrace) // River runs on real time
		record.VerifyAfter, record.PaymentID = &after, &p.ID
		_, _, err := s.store.RecordNotification(ctx, nil, record)
		return account, err
	}
	known := knownPayment(t.Payment, n.ProviderID)
	return account, s.withTx(ctx, func(tx pgx.Tx) error {
		stored, isNew, err := s.store.RecordNotification(ctx, tx, record)
		if err != nil || !isNew {
			return err
		}
		// Anyone can post here: a PG call is spent only within limits.
		verify, err := s.admitNotification(ctx, tx, account.ID, known)
		if err != nil {
			return err
		}
		if !verify {
			return s.store.FinishNotification(ctx, tx, stored.ID, FlagNotVerified, s.detailNotVerified(), "")
		}
		if s.queue == nil {
			return nil
		}
		return s.queueVerification(ctx, tx, stored.ID)
	})
}

func (s *Service) queueVerification(ctx context.Context, tx pgx.Tx, notificationID string) error {
	if _, err := s.queue.InsertTx(ctx, tx, ApplyNotificationArgs{NotificationID: notificationID}, nil); err != nil {
		return fmt.Errorf("queue verification of %s: %w", notificationID, err)
	}
	return nil
}

// SweepNotifications handles the deferred notifications that are due: a
// "paid" hint whose charge has since recorded the PG's answer as paid,
// under the same PG id, is finished as no_change with the others like it,
// in one statement; the rest are queued for verification within the
// account's NotificationLimits, and flagged FlagNotVerified beyond them
// (deferral at receipt did not count them). Batches of 500, each its own
// transaction, until one is not full.
func (s *Service) SweepNotifications(ctx context.Context) error {
	const batch = 500
	for {
		var n int
		err := s.withTx(ctx, func(tx pgx.Tx) error {
			due, err := s.store.DeferredNotifications(ctx, tx, time.Now(), batch)
			if err != nil {
				return err
			}
			n = len(due)
			var redundant, verify, unverified []string
			for _, d := range due {
				providerID := notificationProviderID(d.Provider, d.Payload)
				if recordedPaid(d.Payment, providerID) {
					redundant = append(redundant, d.ID)
					continue
				}
				if s.queue == nil {
					continue // without jobs they stay deferred (the test clock applies them)
				}
				// Deferral skipped the limits; a PG call is spent only
				// within them here.
				ok, err := s.admitNotification(ctx, tx, d.ProviderAccountID, knownPayment(d.Payment, providerID))
				switch {
				case billing.ErrorCode(err) == billing.ERateLimited: // stored already: flag it
					unverified = append(unverified, d.ID)
				case err != nil:
					return err
				case ok:
					verify = append(verify, d.ID)
				default:
					unverified = append(unverified, d.ID)
				}
			}
			if len(redundant) > 0 {
				if err := s.store.FinishNotifications(ctx, tx, redundant, NotificationNoChange, detailAlreadyPaid); err != nil {
					return err
				}
			}
			if len(unverified) > 0 {
				if err := s.store.FinishNotifications(ctx, tx, unverified, FlagNotVerified, s.detailNotVerified()); err != nil {
					return err
				}
			}
			if len(verify) == 0 {
				return nil
			}
			for _, id := range verify {
				if err := s.queueVerification(ctx, tx, id); err != nil {
					return err
				}
			}
			return s.store.UndeferNotifications(ctx, tx, verify)
		})
		if err != nil || n < batch || s.queue == nil {
			return err
		}
	}
}

// notificationGrace is how long a notification about a charge still in
// flight is deferred; the sweep that picks it up runs every few seconds
// (jobs.NotificationSweepInterval).
const notificationGrace = 2 * time.Second

const detailAlreadyPaid = "already paid per the PG"

func ptr[T any](v T) *T { return &v }

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
// order id is one of this account's payments and the answer matches it
// (checkPG: amount, currency, billing key, channel).
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
		return s.store.FinishNotification(ctx, nil, n.ID, outcome, detail, paymentID)
	}
	providerID := notificationProviderID(n.Provider, n.Payload)
	if order := paidHintOrder(n.Provider, n.Payload); order != "" {
		// A "paid" hint about a payment billingd already recorded as paid
		// from the PG's own answer, under the same PG id, cannot move it:
		// transitions only go forward. Asking the PG again would change
		// nothing. Every other hint is verified.
		t, err := s.store.FindNotificationTarget(ctx, n.ProviderAccountID, order)
		if err == nil && recordedPaid(t.Payment, providerID) {
			return finish(NotificationNoChange, detailAlreadyPaid, t.Payment.ID)
		}
	}
	account, err := s.store.GetProviderAccount(ctx, n.ProviderAccountID)
	if billing.ErrorCode(err) == billing.ENotFound {
		return finish(FlagProviderAccountGone, "the provider account was deleted", "")
	}
	if err != nil {
		return err
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return err
	}
	if key, _ := n.Payload["billing_key"].(string); n.Provider == providers.Portone && key != "" {
		return s.applyPortoneKeyDeleted(ctx, n.ID, key, account, pgClient, finish)
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
	before := p
	if p, err = s.applyPG(ctx, p, pg, pathNotification); err != nil {
		if fields := mismatchedFields(err); fields != nil {
			flag := FlagPGMismatch
			if slices.Contains(fields, "amount") {
				flag = FlagAmountMismatch
			}
			return finish(flag, fmt.Sprintf("the PG's %s differs from the payment in %s (PG amount %d, billingd's %d)",
				pg.ProviderID, strings.Join(fields, ", "), pg.Amount, before.Amount), p.ID)
		}
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
	switch provider {
	case providers.Bootpay:
		key = "receipt_id"
	case providers.Portone:
		key = "payment_id" // billingd's own payment id is PortOne's paymentId
		if _, ok := payload["billing_key"]; ok {
			key = "billing_key"
		}
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

// paidHintOrder is the payment an Iamport "paid" (or PortOne V2
// Transaction.Paid) notification names by its order id, or "" for any
// other notification.
func paidHintOrder(provider string, payload map[string]any) string {
	status, _ := payload["status"].(string)
	orderID, _ := payload["merchant_uid"].(string)
	if provider == providers.Portone {
		status, _ = payload["type"].(string)
		orderID, _ = payload["payment_id"].(string)
		if status == "Transaction.Paid" {
			status = "paid"
		}
	} else if provider != providers.Iamport {
		return ""
	}
	if status != "paid" || !billing.ValidID(billing.PrefixPayment, orderID) {
		return ""
	}
	return orderID
}

// recordedPaid reports whether billingd holds p as paid (or later) from
// the PG's own answer, under the PG payment id providerID.
func recordedPaid(p store.PaymentState, providerID string) bool {
	if providerID == "" || p.ProviderPaymentID == nil || *p.ProviderPaymentID != providerID {
		return false
	}
	switch p.Status {
	case billing.PaymentPaid, billing.PaymentPartiallyRefunded, billing.PaymentRefunded:
		return true
	}
	return false
}
