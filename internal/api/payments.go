package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
)

func idempotencyOf(r *http.Request) payments.Idempotency {
	key, point, pending, _ := idempotencyKeyFrom(r.Context())
	return payments.Idempotency{Key: key, RecoveryPoint: point, Claim: pending}
}

// createPayment charges a billing key: 201 paid, 202 unknown (the PG's
// answer was lost; a job will settle it and emit an event), 402 declined
// with the failed payment in the error.
//
// The answer is rendered inside the transaction that records the PG's
// answer and stored there for replay (payments.Reply), so a charge commits
// twice rather than three times; this handler then sends exactly what was
// stored.
func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) {
	var in payments.ChargeInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	idem := idempotencyOf(r)
	if idem.Key.Key != "" {
		idem.Reply = &payments.Reply{Render: func(p billing.Payment, err error) (int, []byte, bool) {
			return renderStored(r, func(w http.ResponseWriter) { answerCharge(w, r, p, err) }, err)
		}}
	}
	p, err := s.payments.Charge(r.Context(), caller(r), in, idem)
	if errors.Is(err, store.ErrIdempotencyKeyExists) {
		idempotencyKeyTaken(r) // nothing was done: the key decides (idempotentCharge)
		return
	}
	if idem.Reply != nil && idem.Reply.Body != nil {
		idempotencyKeyAnswered(r)
		writeRaw(w, idem.Reply.Status, idem.Reply.Body)
		return
	}
	answerCharge(w, r, p, err)
}

// answerCharge writes the answer to a charge: the payment, or the error.
func answerCharge(w http.ResponseWriter, r *http.Request, p billing.Payment, err error) {
	if err != nil {
		renderError(w, r, err)
		return
	}
	status := http.StatusCreated
	if p.Status.Unsettled() {
		status = http.StatusAccepted
	}
	writeJSON(w, status, toPaymentJSON(p))
}

func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixPayment, id) {
		renderError(w, r, billing.NotFound("payment", id))
		return
	}
	pr := principalFrom(r.Context())
	p, err := s.store.GetPayment(r.Context(), pr.MerchantID, pr.Mode, id)
	if err != nil {
		renderError(w, r, err)
		return
	}
	refunds, err := s.store.RefundsOf(r.Context(), p.ID)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := toPaymentJSON(p)
	out.Refunds = make([]refundJSON, len(refunds))
	for i, rf := range refunds {
		out.Refunds[i] = toRefundJSON(rf)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listPayments(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, billing.PrefixPayment, "customer_id", "status", "created_after", "created_before")
	if err != nil {
		renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.PaymentFilter{Page: page, CustomerID: q.Get("customer_id"), Status: billing.PaymentStatus(q.Get("status"))}
	if f.Status != "" && !slices.Contains(billing.PaymentStatuses, f.Status) {
		renderError(w, r, billing.Invalid("status", "status must be one of %v", billing.PaymentStatuses))
		return
	}
	for param, dst := range map[string]**time.Time{"created_after": &f.CreatedAfter, "created_before": &f.CreatedBefore} {
		if raw := q.Get(param); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				renderError(w, r, billing.Invalid(param, "%s must be an RFC 3339 time", param))
				return
			}
			*dst = &t
		}
	}
	pr := principalFrom(r.Context())
	list, more, err := s.store.ListPayments(r.Context(), pr.MerchantID, pr.Mode, f)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]paymentJSON, len(list))
	for i, p := range list {
		out[i] = toPaymentJSON(p)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
}

// refundPayment returns money: 201 with the refund (and the payment as it
// now stands), 202 when the PG's answer was lost.
func (s *Server) refundPayment(w http.ResponseWriter, r *http.Request) {
	var in payments.RefundInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	rf, p, err := s.payments.Refund(r.Context(), caller(r), chi.URLParam(r, "id"), in, idempotencyOf(r))
	if err != nil {
		renderError(w, r, err)
		return
	}
	status := http.StatusCreated
	if rf.Status != billing.RefundSucceeded {
		status = http.StatusAccepted
	}
	writeJSON(w, status, struct {
		refundJSON
		Payment paymentJSON `json:"payment"`
	}{toRefundJSON(rf), toPaymentJSON(p)})
}
