package payments

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/store"
)

// Queue enqueues jobs inside a transaction, so a job exists exactly when
// the change that needs it committed. *river.Client satisfies it.
type Queue interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options wires a Service.
type Options struct {
	Store    *store.Store
	Gateways *gateways.Gateways
	Queue    Queue
	// PublicBaseURL makes the PG webhook URL (notice_url) of each account.
	PublicBaseURL string
	// Clock tells each mode's time (test mode follows the test clock); nil
	// means real time. Business due times use it; technical timeouts
	// (staleness, grace periods against database timestamps) use real time.
	Clock  Clock
	Logger zerolog.Logger
	// PGTimeout bounds one PG call; the adapters' own timeout applies too.
	PGTimeout time.Duration
	// Metrics counts PG answers that were not applied and failures the
	// operator must act on; may be nil.
	Metrics *metrics.Metrics
	// NotificationLimits bound notifications about unknown payments
	// (notification_limits.go); zero fields take the defaults.
	NotificationLimits NotificationLimits
}

// Service performs the money operations.
type Service struct {
	store     *store.Store
	gateways  *gateways.Gateways
	queue     Queue
	publicURL string
	clock     Clock
	log       zerolog.Logger
	pgTimeout time.Duration
	metrics   *metrics.Metrics

	notificationLimits NotificationLimits
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.PGTimeout == 0 {
		o.PGTimeout = DefaultPGTimeout
	}
	return &Service{store: o.Store, gateways: o.Gateways, queue: o.Queue, publicURL: o.PublicBaseURL,
		clock: o.Clock, log: o.Logger, pgTimeout: o.PGTimeout, metrics: o.Metrics, notificationLimits: o.NotificationLimits.withDefaults()}
}

// Clock tells the time per mode.
type Clock interface {
	Now(mode billing.Mode) time.Time
}

type realClock struct{}

func (realClock) Now(billing.Mode) time.Time { return time.Now() }

// Concurrency is how many independent items batch work (notifications,
// renewals, retries) handles at once: enough to overlap PG round trips,
// few enough to leave the pool to API requests.
const Concurrency = 8

// Caller is who asks: a merchant in one mode, with a secret or a
// publishable key.
type Caller struct {
	MerchantID string
	Mode       billing.Mode
	Secret     bool
}

// pgContext detaches a PG call from the client's request: a client that
// hangs up must not cut a charge off half-way, which would only turn a
// known outcome into an unknown one.
func (s *Service) pgContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
}

// recordTimeout bounds the writes that record a PG's answer.
const recordTimeout = 15 * time.Second

// recordContext detaches the recording of a PG's answer from the request
// that asked, as pgContext does for the call itself: once the PG has
// answered, a client that hangs up must not leave the answer unrecorded
// (the payment processing until a sweep). It keeps the request's values
// (trace, logger) and has its own deadline.
func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// withTx runs fn in one transaction.
func (s *Service) withTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.store.WithTx(ctx, fn)
}

// event writes an event about obj in tx.
func (s *Service) event(ctx context.Context, tx pgx.Tx, merchantID string, mode billing.Mode, typ, objectType, objectID string, obj any) error {
	return s.store.InsertEvent(ctx, tx, billing.NewEvent(merchantID, mode, typ, objectType, objectID, obj))
}
