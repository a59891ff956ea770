package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/store"
)

// Options wires a Deliverer.
type Options struct {
	Store *store.Store
	// Client sends deliveries; nil means NewClient(Guard, nil).
	Client   *http.Client
	Guard    Guard
	Schedule Schedule // nil means DefaultSchedule
	Metrics  *metrics.Metrics
	Now      func() time.Time
	Logger   zerolog.Logger
}

// Deliverer makes one attempt of one delivery at a time.
type Deliverer struct {
	store    *store.Store
	client   *http.Client
	schedule Schedule
	metrics  *metrics.Metrics
	now      func() time.Time
	log      zerolog.Logger
}

// New returns a Deliverer.
func New(o Options) *Deliverer {
	if o.Client == nil {
		o.Client = NewClient(o.Guard, nil)
	}
	if o.Schedule == nil {
		o.Schedule = DefaultSchedule
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Deliverer{store: o.Store, client: o.Client, schedule: o.Schedule, metrics: o.Metrics, now: o.Now, log: o.Logger}
}

// Schedule is the retry schedule in use.
func (d *Deliverer) Schedule() Schedule { return d.schedule }

// Outcome is where an attempt left its delivery.
type Outcome struct {
	State   string    // billing.Delivery*: pending means retry at RetryAt
	RetryAt time.Time // when pending
	Err     error     // why the attempt failed (safe to record: no secrets)
}

// maxSnippet is how much of a receiver's answer an attempt keeps.
const maxSnippet = 1024

// Deliver makes attempt n (from 1) of run `run` of a delivery, unless it is
// no longer pending or was resent since (another run): a job that runs
// twice never sends a delivered message again. final says no retry
// follows a failure. The error is billingd's own (database); a receiver's
// failure is in the Outcome.
func (d *Deliverer) Deliver(ctx context.Context, deliveryID string, run, n int, final bool) (Outcome, error) {
	del, err := d.store.GetWebhookDelivery(ctx, deliveryID)
	if billing.ErrorCode(err) == billing.ENotFound {
		return Outcome{State: billing.DeliveryCanceled}, nil // its event was pruned
	}
	if err != nil {
		return Outcome{}, err
	}
	if del.State != billing.DeliveryPending || del.Run != run {
		return Outcome{State: del.State}, nil
	}
	ep, deleted, err := d.store.WebhookEndpointForDelivery(ctx, del.EndpointID)
	if err != nil {
		return Outcome{}, err
	}
	if deleted || ep.Status != billing.EndpointEnabled {
		reason := "endpoint disabled"
		if deleted {
			reason = "endpoint deleted"
		}
		if err := d.store.CancelWebhookDelivery(ctx, del.ID, reason); err != nil {
			return Outcome{}, err
		}
		d.metrics.ObserveWebhookDelivery(billing.DeliveryCanceled)
		return Outcome{State: billing.DeliveryCanceled}, nil
	}
	ev, err := d.store.EventByID(ctx, del.EventID)
	if err != nil {
		return Outcome{}, err
	}
	body, err := Payload(ev)
	if err != nil {
		return Outcome{}, fmt.Errorf("payload of %s: %w", ev.ID, err)
	}

	sent := d.now()
	resp, elapsed, sendErr := d.send(ctx, ep, del.ID, sent, body)
	attempt := billing.WebhookAttempt{ID: billing.NewID(billing.PrefixWebhookAttempt), URL: ep.URL, Duration: elapsed}
	result := store.AttemptResult{}
	var retryAfter time.Duration
	switch {
	case sendErr != nil:
		msg := describeError(sendErr)
		attempt.Outcome, attempt.Error = billing.AttemptFailed, &msg
		if errors.Is(sendErr, ErrBlockedAddress) {
			d.metrics.ObserveWebhookAttempt("blocked")
		} else {
			d.metrics.ObserveWebhookAttempt("network_error")
		}
	default:
		code := resp.status
		attempt.StatusCode, attempt.ResponseBody = &code, &resp.snippet
		switch {
		case code >= 200 && code < 300:
			attempt.Outcome = billing.AttemptSucceeded
			d.metrics.ObserveWebhookAttempt("succeeded")
		case code == http.StatusGone:
			msg := "the endpoint answered 410 Gone: it is disabled until you enable it again"
			attempt.Outcome, attempt.Error = billing.AttemptGone, &msg
			result.DisableReason = fmt.Sprintf("answered 410 Gone at %s", sent.UTC().Format(time.RFC3339))
			d.metrics.ObserveWebhookAttempt("gone")
		default:
			msg := fmt.Sprintf("the endpoint answered %d; only 2xx counts as delivered", code)
			if code >= 300 && code < 400 {
				msg += " (redirects are not followed)"
			}
			attempt.Outcome, attempt.Error = billing.AttemptFailed, &msg
			retryAfter = RetryAfter(resp.retryAfter, sent)
			d.metrics.ObserveWebhookAttempt("http_error")
		}
	}

	out := Outcome{}
	switch {
	case attempt.Outcome == billing.AttemptSucceeded:
		out.State = billing.DeliveryDelivered
	case attempt.Outcome == billing.AttemptGone || final:
		out.State, out.Err = billing.DeliveryFailed, errors.New(*attempt.Error)
	default:
		out.State, out.Err = billing.DeliveryPending, errors.New(*attempt.Error)
		out.RetryAt = sent.Add(max(d.jittered(n), retryAfter))
		result.NextAttemptAt = &out.RetryAt
	}
	result.State, result.Attempt = out.State, attempt
	recorded, err := d.store.RecordWebhookAttempt(context.WithoutCancel(ctx), del.ID, result)
	if err != nil {
		return Outcome{}, err
	}
	if out.State != billing.DeliveryPending {
		d.metrics.ObserveWebhookDelivery(out.State)
	}
	ev2 := d.log.Info()
	if out.State != billing.DeliveryDelivered {
		ev2 = d.log.Warn()
	}
	ev2.Str("delivery_id", del.ID).Str("event_id", ev.ID).Str("endpoint_id", ep.ID).Int("attempt", recorded.Attempt).
		Str("outcome", attempt.Outcome).Str("state", out.State).Dur("duration", elapsed).Msg("webhook attempt")
	return out, nil
}

// jittered is the schedule's delay after attempt n, plus up to 10% so
// that a receiver's outage does not get every retry at the same instant.
func (d *Deliverer) jittered(n int) time.Duration {
	base := d.schedule.Delay(n)
	return base + time.Duration(rand.Int64N(int64(base)/10+1))
}

type answer struct {
	status     int
	retryAfter string
	snippet    string
}

// send makes the request. The signature covers every secret valid now, so
// a receiver that has not switched to a rotated secret yet still verifies.
func (d *Deliverer) send(ctx context.Context, ep billing.WebhookEndpoint, msgID string, ts time.Time, body []byte) (answer, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return answer{}, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "billingd-webhooks/1")
	if err := SetHeaders(req.Header, msgID, ts, body, ep.SigningSecrets(ts)...); err != nil {
		return answer{}, 0, fmt.Errorf("sign for %s: %w", ep.ID, err)
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return answer{}, time.Since(start), err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxSnippet))
	// Drain a little more so the connection can be reused; a receiver
	// that sends megabytes is cut off.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), snippet: snippet(head)}, time.Since(start), nil
}

// snippet makes a receiver's bytes storable as text: valid UTF-8, no NUL
// (Postgres refuses both), at most maxSnippet bytes.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(strings.ReplaceAll(string(b), "\x00", ""), "\uFFFD")
	for len(s) > maxSnippet {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
