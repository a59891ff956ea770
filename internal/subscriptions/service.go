package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
)

// Options wires a Service.
type Options struct {
	Store    *store.Store
	Payments *payments.Service
	Clock    payments.Clock
	Logger   zerolog.Logger
}

// Service manages subscriptions.
type Service struct {
	store    *store.Store
	payments *payments.Service
	clock    payments.Clock
	log      zerolog.Logger
}

// New returns a Service.
func New(o Options) *Service {
	return &Service{store: o.Store, payments: o.Payments, clock: o.Clock, log: o.Logger}
}

const recoverySubscriptionPrefix = "subscription:"

// Created is a new subscription and the payment of its first period.
type Created struct {
	Subscription billing.Subscription
	Payment      *billing.Payment
}

// Create starts a subscription and bills its first period: charged now
// when it starts now, registered at the PG when it starts later. A first
// charge that is declined leaves the subscription past_due, retrying.
func (s *Service) Create(ctx context.Context, c payments.Caller, in billing.SubscriptionInput, idem payments.Idempotency) (Created, error) {
	if id, ok := strings.CutPrefix(idem.RecoveryPoint, recoverySubscriptionPrefix); ok {
		return s.resumeCreate(ctx, c, id)
	}
	now := s.clock.Now(c.Mode)
	anchor, err := in.Validate(now)
	if err != nil {
		return Created{}, err
	}
	if err := s.checkChargeable(ctx, c, in.CustomerID, in.BillingKeyID); err != nil {
		return Created{}, err
	}
	sub := billing.Subscription{
		ID: billing.NewID(billing.PrefixSubscription), MerchantID: c.MerchantID, Mode: c.Mode, CustomerID: in.CustomerID,
		Amount: in.Amount, TaxFree: in.TaxFree, OrderName: in.OrderName, Interval: in.Interval,
		IntervalCount: in.IntervalCount, Anchor: anchor, Timezone: in.Timezone, Status: billing.SubscriptionActive,
		CurrentPeriod: -1, Metadata: in.Metadata,
	}
	if in.BillingKeyID != "" {
		sub.BillingKeyID = &in.BillingKeyID
	}
	err = s.store.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		if sub, err = s.store.CreateSubscription(ctx, tx, sub); err != nil {
			return err
		}
		if idem.Key.Key != "" {
			if err := store.SetRecoveryPoint(ctx, tx, idem.Key, recoverySubscriptionPrefix+sub.ID); err != nil {
				return err
			}
		}
		return s.store.InsertEvent(ctx, tx, billing.NewEvent(sub.MerchantID, sub.Mode, billing.EventSubscriptionCreated, "subscription", sub.ID, sub))
	})
	if err != nil {
		return Created{}, err
	}
	return s.billFirst(ctx, sub)
}

// billFirst bills period 0 and reports the subscription as it then stands.
// A PG decline is not the caller's error here: the subscription exists
// and dunning has started; the payment says what happened.
func (s *Service) billFirst(ctx context.Context, sub billing.Subscription) (Created, error) {
	p, err := s.payments.BillPeriod(ctx, sub, 0)
	if err != nil && p.ID == "" {
		return Created{}, err
	}
	out := Created{Payment: &p}
	out.Subscription, err = s.store.SubscriptionByID(ctx, sub.ID)
	return out, err
}

func (s *Service) resumeCreate(ctx context.Context, c payments.Caller, id string) (Created, error) {
	sub, err := s.store.GetSubscription(ctx, c.MerchantID, c.Mode, id)
	if err != nil {
		return Created{}, err
	}
	if p, ok, err := s.store.LivePaymentOfPeriod(ctx, sub.ID, 0); err != nil {
		return Created{}, err
	} else if ok {
		return Created{Subscription: sub, Payment: &p}, nil
	}
	if sub.CurrentPeriod >= 0 {
		return Created{Subscription: sub}, nil // the first attempt failed; dunning has it
	}
	return s.billFirst(ctx, sub)
}

// checkChargeable refuses a subscription that could never be charged.
func (s *Service) checkChargeable(ctx context.Context, c payments.Caller, customerID, keyID string) error {
	if !billing.ValidID(billing.PrefixCustomer, customerID) {
		return billing.Invalid("customer_id", "customer_id must name one of your customers")
	}
	if _, err := s.store.GetCustomer(ctx, c.MerchantID, c.Mode, customerID); err != nil {
		if billing.ErrorCode(err) == billing.ENotFound {
			return billing.Invalid("customer_id", "no such customer: %q", customerID)
		}
		return err
	}
	var (
		key billing.BillingKey
		err error
	)
	if keyID != "" {
		if !billing.ValidID(billing.PrefixBillingKey, keyID) {
			return billing.Invalid("billing_key_id", "no such billing key: %q", keyID)
		}
		key, err = s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, keyID)
		if billing.ErrorCode(err) == billing.ENotFound {
			return billing.Invalid("billing_key_id", "no such billing key: %q", keyID)
		}
		if err == nil && key.CustomerID != customerID {
			return billing.Invalid("billing_key_id", "billing key %s belongs to another customer", keyID)
		}
	} else {
		key, err = s.store.DefaultBillingKey(ctx, c.MerchantID, c.Mode, customerID)
	}
	if err != nil {
		return err
	}
	if key.Status != billing.KeyActive {
		return billing.Invalid("billing_key_id", "billing key %s is %s; only active keys can be charged", key.ID, key.Status)
	}
	account, err := s.store.GetProviderAccount(ctx, key.ProviderAccountID)
	if err != nil {
		return err
	}
	if !gateways.SchedulesVerifiable(account) {
		return gateways.ErrSchedulesUnverifiable("billing_key_id")
	}
	return nil
}

// Get reads a subscription.
func (s *Service) Get(ctx context.Context, c payments.Caller, id string) (billing.Subscription, error) {
	if !billing.ValidID(billing.PrefixSubscription, id) {
		return billing.Subscription{}, billing.NotFound("subscription", id)
	}
	return s.store.GetSubscription(ctx, c.MerchantID, c.Mode, id)
}

// change locks a subscription of the caller, lets fn change it, saves it
// and writes the event fn names, all in one transaction.
func (s *Service) change(ctx context.Context, c payments.Caller, id string, fn func(pgx.Tx, *billing.Subscription) (string, error)) (billing.Subscription, error) {
	sub, err := s.Get(ctx, c, id)
	if err != nil {
		return sub, err
	}
	err = s.store.WithTx(ctx, func(tx pgx.Tx) error {
		locked, err := s.store.LockSubscription(ctx, tx, sub.ID)
		if err != nil {
			return err
		}
		typ, err := fn(tx, &locked)
		if err != nil {
			return err
		}
		if sub, err = s.store.SaveSubscription(ctx, tx, locked); err != nil {
			return err
		}
		if typ == "" {
			return nil
		}
		return s.store.InsertEvent(ctx, tx, billing.NewEvent(sub.MerchantID, sub.Mode, typ, "subscription", sub.ID, sub))
	})
	return sub, err
}

// revokeScheduled marks the subscription's payments waiting at the PG for
// revocation and queues the job that revokes them, in tx (the one that
// cancels or pauses it). A payment the PG has not confirmed yet, whose
// PG needs its own id to revoke it (Bootpay), refuses the change with a
// retryable conflict instead: committing it would promise what billingd
// cannot do yet.
func (s *Service) revokeScheduled(ctx context.Context, tx pgx.Tx, subID, reason string) error {
	if err := s.payments.UnconfirmedSchedule(ctx, tx, subID); err != nil {
		return err
	}
	return s.payments.RequestRevokeTx(ctx, tx, subID, reason)
}

// tryRevoke makes one attempt, after the commit, at what revokeScheduled
// queued, so the answer usually shows it done; the job finishes the rest.
func (s *Service) tryRevoke(ctx context.Context, sub billing.Subscription) (billing.Subscription, error) {
	if sub.PGSchedule.Status == billing.PGScheduleRevoking && sub.PGSchedule.PaymentID != nil {
		s.payments.TryRevoke(ctx, *sub.PGSchedule.PaymentID)
	}
	return s.store.SubscriptionByID(ctx, sub.ID)
}

func conflict(reason, format string, args ...any) error {
	return &billing.Error{Code: billing.EConflict, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

var errNotDue = errors.New("not due")

// leaseRetry is how long a started retry holds the subscription's retry
// slot; the payment's outcome replaces it long before.
const leaseRetry = time.Hour
