package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// MaxAmount bounds one charge (KRW), as a guard against a stray digit.
const MaxAmount = 1_000_000_000

// ChargeInput charges a billing key now.
type ChargeInput struct {
	CustomerID   string         `json:"customer_id"`
	BillingKeyID string         `json:"billing_key_id"`
	Amount       int64          `json:"amount"`
	TaxFree      int64          `json:"tax_free"`
	Currency     string         `json:"currency"`
	OrderName    string         `json:"order_name"`
	Metadata     map[string]any `json:"metadata"`
	// ScheduledAt, when set, has the PG run the charge then instead of now.
	ScheduledAt *time.Time `json:"scheduled_at"`
}

// Idempotency carries the request's idempotency record, so a retry after a
// crash resumes instead of charging again.
type Idempotency struct {
	Key           store.IdempotencyKey
	RecoveryPoint string
	// Claim, when set, means the key is not claimed yet: the statement that
	// creates the payment claims it (store.PendingClaim), or fails with
	// store.ErrIdempotencyKeyExists having done nothing.
	Claim *store.PendingClaim
	// Reply, when set, has the request's answer stored with the charge's
	// outcome (see Reply).
	Reply *Reply
}

// Reply lets a charge's answer to its request commit in the transaction
// that records the PG's answer, instead of in one of its own after it:
// a charge then takes two write transactions, not three. The caller
// renders; payments stores.
type Reply struct {
	// Render turns the settled payment and the charge's error (nil, or the
	// decline) into the answer to replay. ok false stores nothing: the
	// caller settles the key itself, as it would without a Reply.
	Render func(p billing.Payment, err error) (status int, body []byte, ok bool)
	// Status and Body are the rendered answer, set only once it has
	// committed: the caller must send exactly these.
	Status int
	Body   []byte
}

// answering is a Reply in the making: what rendering it needs.
type answering struct {
	key       store.IdempotencyKey
	reply     *Reply
	chargeErr error
}

func (idem Idempotency) answering(chargeErr error) *answering {
	if idem.Reply == nil || idem.Reply.Render == nil {
		return nil
	}
	return &answering{key: idem.Key, reply: idem.Reply, chargeErr: chargeErr}
}

// answer renders the answer to store with p, or nil.
func (a *answering) answer(p billing.Payment) *store.Answer {
	if a == nil {
		return nil
	}
	status, body, ok := a.reply.Render(p, chargeResult(p, a.chargeErr))
	if !ok {
		return nil
	}
	return &store.Answer{Key: a.key, Status: status, Body: body}
}

// committed hands the caller the answer that committed.
func (a *answering) committed(ans *store.Answer) {
	if a != nil && ans != nil {
		a.reply.Status, a.reply.Body = ans.Status, ans.Body
	}
}

const recoveryPaymentPrefix = "payment:"

// Charge charges a billing key now or, with ScheduledAt, registers the
// charge at the PG for later. The payment is stored before the PG is
// called; the PG's answer is recorded after. The returned payment's status
// says what happened: paid, failed (with an error), unknown (a job will
// find out) or scheduled.
func (s *Service) Charge(ctx context.Context, c Caller, in ChargeInput, idem Idempotency) (billing.Payment, error) {
	if id, ok := strings.CutPrefix(idem.RecoveryPoint, recoveryPaymentPrefix); ok {
		// An earlier run with this key created the payment and then died:
		// never charge again; find out what happened instead.
		return s.resume(ctx, c, id)
	}
	if err := validateCharge(in); err != nil {
		return billing.Payment{}, err
	}
	p, err := s.planCharge(ctx, c, in)
	if err != nil {
		return billing.Payment{}, err
	}
	p.Payment.Amount, p.Payment.TaxFree, p.Payment.Metadata = in.Amount, in.TaxFree, in.Metadata
	p.Payment.OrderName = strings.TrimSpace(in.OrderName)
	if in.ScheduledAt != nil {
		if !in.ScheduledAt.After(s.clock.Now(c.Mode).Add(MinScheduleLead)) {
			return billing.Payment{}, billing.Invalid("scheduled_at", "scheduled_at must be at least %s in the future", MinScheduleLead)
		}
		return s.scheduleAt(ctx, p, *in.ScheduledAt, idem)
	}
	return s.chargeNow(ctx, p, idem)
}

// planned is a payment about to be made, with what making it needs.
type planned struct {
	Payment  billing.Payment
	key      billing.BillingKey
	customer billing.Customer
	account  billing.ProviderAccount
	// inTx, when set, runs in the transaction that creates the payment.
	inTx func(context.Context, pgx.Tx) error
}

// plan prepares a payment of key: its id (the PG order id) and its account.
func (s *Service) plan(ctx context.Context, c Caller, key billing.BillingKey, customer billing.Customer) (planned, error) {
	account, err := s.store.GetProviderAccount(ctx, key.ProviderAccountID)
	if err != nil {
		return planned{}, err
	}
	return planOf(c, key, customer, account), nil
}

func planOf(c Caller, key billing.BillingKey, customer billing.Customer, account billing.ProviderAccount) planned {
	return planned{
		Payment: billing.Payment{
			ID: billing.NewID(billing.PrefixPayment), MerchantID: c.MerchantID, Mode: c.Mode,
			CustomerID: customer.ID, BillingKeyID: key.ID, ProviderAccountID: account.ID, Provider: account.Provider,
			Currency: "KRW", Status: billing.PaymentProcessing,
		},
		key: key, customer: customer, account: account,
	}
}

// planCharge finds the key to charge with its customer and account, as
// chargeableKey and plan do, but in one round trip when all three are
// there; when one is missing, they say which.
func (s *Service) planCharge(ctx context.Context, c Caller, in ChargeInput) (planned, error) {
	keyID, customerID := in.BillingKeyID, ""
	switch {
	case keyID != "" && !billing.ValidID(billing.PrefixBillingKey, keyID):
		return planned{}, billing.Invalid("billing_key_id", "no such billing key: %q", keyID)
	case keyID == "" && in.CustomerID != "" && !billing.ValidID(billing.PrefixCustomer, in.CustomerID):
		return planned{}, billing.Invalid("customer_id", "no such customer: %q", in.CustomerID)
	case keyID == "":
		customerID = in.CustomerID
	}
	if keyID != "" || customerID != "" {
		t, ok, err := s.store.FindChargeTarget(ctx, c.MerchantID, c.Mode, keyID, customerID)
		if err != nil {
			return planned{}, err
		}
		if ok {
			if err := checkChargeable(in, t.Key); err != nil {
				return planned{}, err
			}
			return planOf(c, t.Key, t.Customer, t.Account), nil
		}
	}
	key, customer, err := s.chargeableKey(ctx, c, in)
	if err != nil {
		return planned{}, err
	}
	return s.plan(ctx, c, key, customer)
}

// chargeNow makes a planned payment: stored first (processing), then the
// PG call outside any transaction, then the answer recorded.
func (s *Service) chargeNow(ctx context.Context, pl planned, idem Idempotency) (billing.Payment, error) {
	pgClient, err := s.gateways.For(pl.account)
	if err != nil {
		return billing.Payment{}, err
	}
	p := pl.Payment
	p.Status = billing.PaymentProcessing
	// Phase 1: the payment and its order id exist before the PG hears of it.
	if p, err = s.createPayment(ctx, pl, p, idem); err != nil {
		return p, err
	}

	pctx, cancel := s.pgContext(ctx)
	pgPayment, chargeErr := pgClient.Charge(pctx, providers.ChargeRequest{
		OrderID: p.ID, BillingKey: pl.key.ProviderKey, Amount: p.Amount, TaxFree: p.TaxFree,
		OrderName: p.OrderName, Buyer: buyer(pl.customer), NoticeURL: pl.account.WebhookURL(s.publicURL),
	})
	cancel()

	// Phase 2: record the answer — only when it is about what was sent.
	outcome := chargeOutcome(pgPayment, chargeErr)
	if answered := answeredPayment(pgPayment, chargeErr); answered != nil && outcome.Status != billing.PaymentUnknown {
		if err := s.checkPGWithKey(ctx, p, pl.key.ProviderKey, *answered, pathCharge); errors.Is(err, ErrPGMismatch) {
			outcome, chargeErr = billing.Outcome{Status: billing.PaymentUnknown}, nil
		} else if err != nil {
			return p, err // processing: the stale sweep reconciles it
		}
	}
	if outcome.At.IsZero() {
		outcome.At = s.clock.Now(p.Mode)
	}
	p, err = s.settle(ctx, p, outcome, idem.answering(chargeErr))
	if err != nil {
		// The PG answered but we could not record it: the payment stays
		// processing and the stale sweep reconciles it. Nothing is lost.
		return p, err
	}
	return p, chargeResult(p, chargeErr)
}

// createPayment stores a planned payment, with the request's recovery
// point and the plan's own step, in one transaction.
func (s *Service) createPayment(ctx context.Context, pl planned, p billing.Payment, idem Idempotency) (billing.Payment, error) {
	progress := store.Progress{Key: idem.Key, Point: recoveryPaymentPrefix + p.ID, Claim: idem.Claim}
	if pl.inTx == nil {
		// The payment, the recovery point and (for a new key) the claim in
		// one statement: its own transaction, one round trip.
		return s.store.CreatePaymentAt(ctx, nil, p, progress)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := pl.inTx(ctx, tx); err != nil {
			return err
		}
		var err error
		p, err = s.store.CreatePaymentAt(ctx, tx, p, progress)
		return err
	})
	return p, err
}

// chargeOutcome reads the adapter's answer. A rejection that carries a paid
// payment (a repeated order id) is paid: the money moved on the first try.
func chargeOutcome(pg providers.Payment, err error) billing.Outcome {
	switch {
	case err == nil:
		return outcomeOf(pg)
	case errors.Is(err, providers.ErrUnknown):
		return billing.Outcome{Status: billing.PaymentUnknown}
	}
	pe, _ := providers.AsError(err)
	if pe != nil && pe.Payment != nil && (pe.Payment.Status == providers.StatusPaid || pe.Payment.Status == providers.StatusCancelled) {
		return outcomeOf(*pe.Payment)
	}
	o := billing.Outcome{Status: billing.PaymentFailed}
	if pe != nil && pe.Payment != nil {
		o = outcomeOf(*pe.Payment)
		o.Status = billing.PaymentFailed
	}
	o.FailureCode, o.FailureMessage = failureOf(err)
	return o
}

// answeredPayment is the PG's payment a charge's answer carries, if any.
func answeredPayment(pg providers.Payment, err error) *providers.Payment {
	if err == nil {
		return &pg
	}
	if pe, _ := providers.AsError(err); pe != nil {
		return pe.Payment
	}
	return nil
}

// chargeResult is the error that goes with the recorded payment: nil when
// paid or unknown (the caller answers 201 or 202), the failure otherwise.
func chargeResult(p billing.Payment, chargeErr error) error {
	if p.Status != billing.PaymentFailed {
		return nil
	}
	if chargeErr == nil {
		chargeErr = &providers.Error{Kind: providers.ErrDeclined, Provider: p.Provider, Op: "charge"}
	}
	return providerError("charge", chargeErr, "payment", p)
}

// resume answers a retried request whose first run created payment id.
func (s *Service) resume(ctx context.Context, c Caller, id string) (billing.Payment, error) {
	p, err := s.store.GetPayment(ctx, c.MerchantID, c.Mode, id)
	if err != nil {
		return p, err
	}
	if p.Status.Unsettled() {
		if p, err = s.Reconcile(ctx, p.ID); err != nil && !errors.Is(err, ErrStillUnknown) {
			return p, err
		}
	}
	if p.Status == billing.PaymentFailed {
		msg := "charge failed"
		if p.FailureMessage != nil {
			msg = *p.FailureMessage
		}
		code := ""
		if p.FailureCode != nil {
			code = *p.FailureCode
		}
		return p, &billing.Error{Code: billing.EDeclined, Reason: "card_declined", Message: "charge: " + msg,
			ProviderCode: code, ObjectType: "payment", Object: p}
	}
	return p, nil
}

// settle records an outcome of payment p with its event (and a reconcile
// job when the outcome is unknown) in one transaction, and returns the
// payment as it now stands. With a, the request's answer commits with them.
func (s *Service) settle(ctx context.Context, p billing.Payment, o billing.Outcome, a *answering) (billing.Payment, error) {
	ctx, cancel := recordContext(ctx)
	defer cancel()
	var ans *store.Answer
	record := func(tx pgx.Tx, updated billing.Payment, changed bool) error {
		if !changed {
			// Someone else (a webhook, the reconciler) settled it first.
			var err error
			if p, err = s.store.LockPayment(ctx, tx, p.ID); err != nil {
				return err
			}
			ans = a.answer(p)
			return store.CompleteIdempotencyKeyTx(ctx, tx, ans)
		}
		p = updated
		ans = a.answer(p)
		return s.afterSettle(ctx, tx, p, ans)
	}
	var err error
	if p.SubscriptionID == nil {
		// The transaction begins with the update itself (one round trip).
		err = s.store.SettlePaymentTx(ctx, p.ID, o, record)
	} else {
		err = s.withTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockSubscriptionOf(ctx, tx, p); err != nil {
				return err
			}
			updated, changed, err := s.store.SettlePayment(ctx, tx, p.ID, o)
			if err != nil {
				return err
			}
			return record(tx, updated, changed)
		})
	}
	if err == nil {
		a.committed(ans)
	}
	return p, err
}

// afterSettle writes the event of a payment's new state (with the answer
// to the request that settled it, when there is one) and, while its
// outcome is unknown, makes sure a reconcile job is queued.
func (s *Service) afterSettle(ctx context.Context, tx pgx.Tx, p billing.Payment, ans *store.Answer) error {
	typ := map[billing.PaymentStatus]string{
		billing.PaymentPaid: billing.EventPaymentPaid, billing.PaymentFailed: billing.EventPaymentFailed,
		billing.PaymentUnknown: billing.EventPaymentUnknown,
	}[p.Status]
	var err error
	if typ != "" {
		err = s.store.InsertEventAnswering(ctx, tx, billing.NewEvent(p.MerchantID, p.Mode, typ, "payment", p.ID, p), ans)
	} else {
		err = store.CompleteIdempotencyKeyTx(ctx, tx, ans)
	}
	if err != nil {
		return err
	}
	if p.Status == billing.PaymentUnknown {
		return s.enqueueReconcile(ctx, tx, p.ID)
	}
	return s.afterSubscriptionSettle(ctx, tx, p)
}

func (s *Service) enqueueReconcile(ctx context.Context, tx pgx.Tx, paymentID string) error {
	if s.queue == nil {
		return nil
	}
	opts := ReconcileArgs{}.InsertOpts()
	opts.ScheduledAt = time.Now().Add(ReconcileBackoff(1)) // River runs on real time
	if _, err := s.queue.InsertTx(ctx, tx, ReconcileArgs{PaymentID: paymentID}, &opts); err != nil {
		return fmt.Errorf("queue reconcile of %s: %w", paymentID, err)
	}
	return nil
}

// chargeableKey finds the key to charge: the one named, or the customer's
// default; it must be active and, when both are named, the customer's.
func (s *Service) chargeableKey(ctx context.Context, c Caller, in ChargeInput) (billing.BillingKey, billing.Customer, error) {
	var (
		key billing.BillingKey
		err error
	)
	switch {
	case in.BillingKeyID != "":
		if !billing.ValidID(billing.PrefixBillingKey, in.BillingKeyID) {
			return key, billing.Customer{}, billing.Invalid("billing_key_id", "no such billing key: %q", in.BillingKeyID)
		}
		key, err = s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, in.BillingKeyID)
		if billing.ErrorCode(err) == billing.ENotFound {
			return key, billing.Customer{}, billing.Invalid("billing_key_id", "no such billing key: %q", in.BillingKeyID)
		}
	case in.CustomerID != "":
		if !billing.ValidID(billing.PrefixCustomer, in.CustomerID) {
			return key, billing.Customer{}, billing.Invalid("customer_id", "no such customer: %q", in.CustomerID)
		}
		key, err = s.store.DefaultBillingKey(ctx, c.MerchantID, c.Mode, in.CustomerID)
	default:
		return key, billing.Customer{}, billing.Invalid("billing_key_id", "billing_key_id or customer_id is required")
	}
	if err != nil {
		return key, billing.Customer{}, err
	}
	if err := checkChargeable(in, key); err != nil {
		return key, billing.Customer{}, err
	}
	customer, err := s.store.GetCustomer(ctx, c.MerchantID, c.Mode, key.CustomerID)
	if billing.ErrorCode(err) == billing.ENotFound {
		return key, customer, billing.Invalid("customer_id", "the billing key's customer was deleted")
	}
	return key, customer, err
}

// checkChargeable refuses a key that is not active, or that is not the
// named customer's.
func checkChargeable(in ChargeInput, key billing.BillingKey) error {
	if in.BillingKeyID != "" && in.CustomerID != "" && key.CustomerID != in.CustomerID {
		return billing.Invalid("billing_key_id", "billing key %s belongs to another customer", key.ID)
	}
	if key.Status != billing.KeyActive {
		return &billing.Error{Code: billing.EInvalid, Reason: "billing_key_not_active", Param: "billing_key_id",
			Message: fmt.Sprintf("billing key %s is %s; only active keys can be charged", key.ID, key.Status)}
	}
	return nil
}

func validateCharge(in ChargeInput) error {
	switch {
	case in.Amount <= 0 || in.Amount > MaxAmount:
		return billing.Invalid("amount", "amount must be a whole number of KRW from 1 to %d", MaxAmount)
	case in.TaxFree < 0 || in.TaxFree > in.Amount:
		return billing.Invalid("tax_free", "tax_free must be from 0 to amount")
	case in.Currency != "" && in.Currency != "KRW":
		return billing.Invalid("currency", "currency must be KRW")
	}
	name := strings.TrimSpace(in.OrderName)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return billing.Invalid("order_name", "order_name must be 1 to 100 characters")
	}
	if in.Metadata != nil {
		return billing.ValidateMetadata(in.Metadata)
	}
	return nil
}
