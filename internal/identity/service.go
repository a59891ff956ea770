package identity

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// Options wires a Service.
type Options struct {
	Store    *store.Store
	Gateways *gateways.Gateways
	// Now is the clock of every time rule here (user token reuse, minimum
	// age, a certificate without a verification time), per mode: test mode
	// follows the test clock, as the sandbox PG does. Nil means real time.
	Now func(billing.Mode) time.Time
}

// Service runs the identity flows.
type Service struct {
	store    *store.Store
	gateways *gateways.Gateways
	now      func(billing.Mode) time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = func(billing.Mode) time.Time { return time.Now() }
	}
	return &Service{store: o.Store, gateways: o.Gateways, now: o.Now}
}

// Caller is who asks: a merchant in one mode, with a secret or a
// publishable key.
type Caller struct {
	MerchantID string
	Mode       billing.Mode
	Secret     bool
}

// pgFailure turns a failed Bootpay call into what the merchant sees
// (gateways.Error: a 502 provider_error with provider_code, never a 500)
// and records it once. The log line carries the kind, op and PG code only:
// the PG's message may echo what was sent, which here is identity.
func pgFailure(ctx context.Context, op string, err error) error {
	if pe, ok := providers.AsError(err); ok {
		zerolog.Ctx(ctx).Warn().Str("provider", pe.Provider).Str("op", pe.Op).Str("kind", pe.Kind.Error()).
			Str("provider_code", pe.PGCode).Msg("provider call failed")
	}
	return gateways.Error(op, err, "", nil)
}
