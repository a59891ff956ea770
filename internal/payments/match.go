package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// ErrPGMismatch means the PG's answer is about something other than what
// billingd sent: another order, amount, currency or billing key, a
// browser's attempt at the same order id, or a test-channel payment on a
// live account. Such an answer is never applied; the payment stays as it
// was (processing becomes unknown) and an operator is told.
var ErrPGMismatch = errors.New("the PG's answer does not match the payment")

// Paths that apply PG answers, as counted in the mismatch metric.
const (
	pathCharge       = "charge"
	pathReconcile    = "reconcile"
	pathNotification = "notification"
	pathSchedule     = "schedule"
)

// pgMismatch lists the fields in which the PG's answer pg differs from
// payment p, made with the PG billing key providerKey; none means it
// matches. A field the PG does not report (a billing key, a channel) is
// not held against it. This is the one check every path that applies a
// PG answer goes through.
func pgMismatch(p billing.Payment, providerKey string, pg providers.Payment) []string {
	var diff []string
	if pg.OrderID != p.ID {
		diff = append(diff, "order_id")
	}
	if pg.Amount != p.Amount {
		diff = append(diff, "amount")
	}
	if !strings.EqualFold(pg.Currency, p.Currency) {
		diff = append(diff, "currency")
	}
	if pg.BillingKey != "" && pg.BillingKey != providerKey {
		diff = append(diff, "billing_key")
	}
	if pg.Channel != "" && pg.Channel != providers.ChannelAPI {
		diff = append(diff, "channel") // billingd charges server to server only
	}
	if pg.TestChannel && p.Mode == billing.ModeLive {
		diff = append(diff, "test_channel")
	}
	return diff
}

// PGMismatch is what a payment.pg_mismatch event records beside the
// payment: what the PG answered, without the PG's billing key.
type PGMismatch struct {
	Path              string   `json:"path"`
	Fields            []string `json:"fields"`
	ProviderPaymentID string   `json:"provider_payment_id"`
	PGOrderID         string   `json:"pg_order_id"`
	PGStatus          string   `json:"pg_status"`
	PGAmount          int64    `json:"pg_amount"`
	PGCurrency        string   `json:"pg_currency"`
	PGChannel         string   `json:"pg_channel,omitempty"`
	PGTestChannel     bool     `json:"pg_test_channel"`
}

// mismatchEvent is the data of a payment.pg_mismatch event.
type mismatchEvent struct {
	billing.Payment
	PGMismatch PGMismatch `json:"pg_mismatch"`
}

// checkPG applies pgMismatch to an answer about p, reading the key p was
// made with. On a mismatch it counts and logs it, records the event (once
// per PG payment) and returns an error that is both ErrPGMismatch and
// ErrStillUnknown.
func (s *Service) checkPG(ctx context.Context, p billing.Payment, pg providers.Payment, path string) error {
	providerKey, err := s.providerKeyOf(ctx, p)
	if err != nil {
		return err
	}
	return s.checkPGWithKey(ctx, p, providerKey, pg, path)
}

func (s *Service) checkPGWithKey(ctx context.Context, p billing.Payment, providerKey string, pg providers.Payment, path string) error {
	diff := pgMismatch(p, providerKey, pg)
	if len(diff) == 0 {
		return nil
	}
	s.metrics.ObservePGMismatch(p.Provider, path)
	s.log.Warn().Str("payment", p.ID).Str("provider", p.Provider).Str("path", path).Strs("fields", diff).
		Str("provider_payment_id", pg.ProviderID).Msg("PG answer does not match the payment; not applied")
	data := mismatchEvent{Payment: p, PGMismatch: PGMismatch{
		Path: path, Fields: diff, ProviderPaymentID: pg.ProviderID, PGOrderID: pg.OrderID, PGStatus: string(pg.Status),
		PGAmount: pg.Amount, PGCurrency: pg.Currency, PGChannel: pg.Channel, PGTestChannel: pg.TestChannel,
	}}
	rctx, cancel := recordContext(ctx)
	defer cancel()
	if err := s.withTx(rctx, func(tx pgx.Tx) error {
		if seen, err := s.store.MismatchRecorded(rctx, tx, p.ID, pg.ProviderID); err != nil || seen {
			return err // one event per foreign answer, however often it is seen
		}
		return s.event(rctx, tx, p.MerchantID, p.Mode, billing.EventPaymentPGMismatch, "payment", p.ID, data)
	}); err != nil {
		return err
	}
	return &mismatchError{paymentID: p.ID, providerPaymentID: pg.ProviderID, fields: diff}
}

// mismatchError is checkPG's refusal: ErrPGMismatch, and ErrStillUnknown
// to callers that only ask whether the outcome is settled.
type mismatchError struct {
	paymentID, providerPaymentID string
	fields                       []string
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("%v: payment %s and the PG's %s differ in %s", ErrPGMismatch, e.paymentID, e.providerPaymentID,
		strings.Join(e.fields, ", "))
}

func (e *mismatchError) Is(target error) bool {
	return target == ErrPGMismatch || target == ErrStillUnknown
}

// mismatchedFields lists the fields of a mismatch error, or nil.
func mismatchedFields(err error) []string {
	var me *mismatchError
	if errors.As(err, &me) {
		return me.fields
	}
	return nil
}

// providerKeyOf is the PG billing key a payment was made with (deleted
// keys keep theirs).
func (s *Service) providerKeyOf(ctx context.Context, p billing.Payment) (string, error) {
	k, err := s.store.GetBillingKey(ctx, p.MerchantID, p.Mode, p.BillingKeyID)
	if err != nil {
		return "", fmt.Errorf("billing key of payment %s: %w", p.ID, err)
	}
	return k.ProviderKey, nil
}
