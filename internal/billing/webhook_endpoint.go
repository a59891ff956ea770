package billing

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Id prefixes of the merchant-webhook objects. A delivery's id is the
// webhook-id header (Standard Webhooks' msg_ convention).
const (
	PrefixWebhookEndpoint = "we_"
	PrefixWebhookDelivery = "msg_"
	PrefixWebhookAttempt  = "wha_"
)

// WebhookEventTypes lists the event types an endpoint may subscribe to by
// name. A new event type must be added here to be subscribable by name
// ("*" and "<object>.*" cover it regardless).
var WebhookEventTypes = []string{
	EventBillingKeyActivated, EventBillingKeyFailed, EventBillingKeyDeleted,
	EventPaymentPaid, EventPaymentFailed, EventPaymentUnknown, EventPaymentRefunded, EventPaymentPGMismatch,
	EventRefundSucceeded, EventRefundFailed, EventRefundUnknown,
	EventPaymentScheduled, EventPaymentCanceled,
	EventSubscriptionCreated, EventSubscriptionRenewed, EventSubscriptionPastDue, EventSubscriptionUnpaid,
	EventSubscriptionCanceled, EventSubscriptionUpdated, EventSubscriptionPaused, EventSubscriptionResumed,
}

// Endpoint states: a disabled endpoint gets no deliveries. billingd
// disables an endpoint that answers 410 Gone; the merchant re-enables it.
const (
	EndpointEnabled  = "enabled"
	EndpointDisabled = "disabled"
)

// Limits on endpoints.
const (
	MaxWebhookEndpoints     = 16 // per merchant and mode, as Stripe
	maxEndpointURLLen       = 2048
	maxEndpointDescription  = 500
	maxEnabledEvents        = 100
	MaxPreviousSecrets      = 5 // secrets kept valid by rotations still in their overlap
	DefaultSecretOverlap    = 24 * time.Hour
	MaxSecretOverlap        = 7 * 24 * time.Hour
	webhookEventWildcardAll = "*"
)

// WebhookEndpoint is where a merchant's backend receives events.
type WebhookEndpoint struct {
	ID             string
	MerchantID     string
	Mode           Mode
	URL            string
	Description    *string
	EnabledEvents  []string
	Status         string
	DisabledReason *string
	// Secret is the current signing secret (whsec_…). It is shown to the
	// merchant once, at creation and rotation, and never logged.
	Secret string
	// PreviousSecrets are replaced secrets still inside their overlap;
	// deliveries are signed with them too.
	PreviousSecrets []PreviousSecret
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// PreviousSecret is a rotated-out secret and when it stops signing.
type PreviousSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SigningSecrets returns the secrets a delivery at now is signed with: the
// current one first, then every previous one not yet expired.
func (e WebhookEndpoint) SigningSecrets(now time.Time) []string {
	out := []string{e.Secret}
	for _, p := range e.PreviousSecrets {
		if now.Before(p.ExpiresAt) {
			out = append(out, p.Secret)
		}
	}
	return out
}

// PreviousSecretsExpireAt is when the last previous secret expires, if any
// is still valid at now.
func (e WebhookEndpoint) PreviousSecretsExpireAt(now time.Time) *time.Time {
	var last *time.Time
	for _, p := range e.PreviousSecrets {
		if now.Before(p.ExpiresAt) && (last == nil || p.ExpiresAt.After(*last)) {
			t := p.ExpiresAt
			last = &t
		}
	}
	return last
}

// Rotate makes next the current secret. The old one, and any previous one,
// stays valid until now+overlap at the latest (an overlap of 0 ends them
// all: the answer to a leaked secret).
func (e *WebhookEndpoint) Rotate(next string, now time.Time, overlap time.Duration) {
	until := now.Add(overlap)
	kept := []PreviousSecret{}
	if overlap > 0 {
		kept = append(kept, PreviousSecret{Secret: e.Secret, ExpiresAt: until})
		for _, p := range e.PreviousSecrets {
			if now.Before(p.ExpiresAt) {
				kept = append(kept, PreviousSecret{Secret: p.Secret, ExpiresAt: minTime(p.ExpiresAt, until)})
			}
		}
	}
	if len(kept) > MaxPreviousSecrets {
		kept = kept[:MaxPreviousSecrets] // newest first: the oldest go
	}
	e.Secret, e.PreviousSecrets = next, kept
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// WebhookEndpointInput is a create or an update of an endpoint. On update,
// absent fields are left alone and a null description clears it.
type WebhookEndpointInput struct {
	URL           Field[string]   `json:"url"`
	EnabledEvents Field[[]string] `json:"enabled_events"`
	Description   Field[string]   `json:"description"`
	Status        Field[string]   `json:"status"` // update only: enabled or disabled
}

// Apply validates in and writes it onto e (a new endpoint when create). It
// changes nothing when it fails. Whether the URL's host may be reached is
// the delivery guard's question, asked by the caller.
func (in WebhookEndpointInput) Apply(e *WebhookEndpoint, create bool) error {
	next := *e
	if create || in.URL.Present {
		if !in.URL.Present || in.URL.Null {
			return Invalid("url", "url is required: the https URL your backend receives events at")
		}
		u, err := ValidateWebhookURL(e.Mode, in.URL.Value)
		if err != nil {
			return err
		}
		next.URL = u
	}
	if create || in.EnabledEvents.Present {
		if !in.EnabledEvents.Present || in.EnabledEvents.Null {
			return Invalid("enabled_events", `enabled_events is required: event types such as ["payment.paid"], or ["*"] for every event`)
		}
		events, err := validateEnabledEvents(in.EnabledEvents.Value)
		if err != nil {
			return err
		}
		next.EnabledEvents = events
	}
	if in.Description.Present {
		if in.Description.Null || in.Description.Value == "" {
			next.Description = nil
		} else if !utf8.ValidString(in.Description.Value) || utf8.RuneCountInString(in.Description.Value) > maxEndpointDescription {
			return Invalid("description", "description must be at most %d characters", maxEndpointDescription)
		} else {
			d := in.Description.Value
			next.Description = &d
		}
	}
	if in.Status.Present {
		if create {
			return &Error{Code: EInvalid, Reason: "parameter_unknown", Param: "status", Message: "status can be set on update only; a new endpoint is enabled"}
		}
		switch {
		case !in.Status.Null && in.Status.Value == EndpointEnabled:
			next.Status, next.DisabledReason = EndpointEnabled, nil
		case !in.Status.Null && in.Status.Value == EndpointDisabled:
			if next.Status != EndpointDisabled {
				reason := "disabled by the merchant"
				next.Status, next.DisabledReason = EndpointDisabled, &reason
			}
		default:
			return Invalid("status", `status must be "enabled" or "disabled"`)
		}
	}
	if create {
		next.Status = EndpointEnabled
	}
	*e = next
	return nil
}

// ValidateWebhookURL checks an endpoint URL: absolute http(s), https in
// live mode, no credentials or fragment. It returns the URL as given.
func ValidateWebhookURL(mode Mode, raw string) (string, error) {
	if raw == "" || len(raw) > maxEndpointURLLen || !utf8.ValidString(raw) {
		return "", Invalid("url", "url must be an absolute URL of at most %d characters", maxEndpointURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", Invalid("url", "url must be an absolute http or https URL such as https://shop.example.com/billingd/webhooks")
	}
	if mode == ModeLive && u.Scheme != "https" {
		return "", Invalid("url", "live-mode endpoints must use https")
	}
	if u.User != nil {
		// Credentials in a URL end up in logs and in this API's responses.
		return "", Invalid("url", "url must not carry credentials (user:password@); authenticate deliveries by their signature")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return "", Invalid("url", "url must not have a #fragment")
	}
	return raw, nil
}

// validateEnabledEvents accepts known types, "<object>.*" for a known
// object and "*"; it deduplicates and keeps the order given.
func validateEnabledEvents(events []string) ([]string, error) {
	if len(events) == 0 || len(events) > maxEnabledEvents {
		return nil, Invalid("enabled_events", "enabled_events must list 1 to %d event types", maxEnabledEvents)
	}
	out := make([]string, 0, len(events))
	for _, ev := range events {
		if !knownEventPattern(ev) {
			return nil, Invalid("enabled_events", "unknown event type %q; use one of %s, \"<object>.*\" or \"*\"",
				ev, strings.Join(WebhookEventTypes, ", "))
		}
		if !slices.Contains(out, ev) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func knownEventPattern(ev string) bool {
	if ev == webhookEventWildcardAll || slices.Contains(WebhookEventTypes, ev) {
		return true
	}
	object, ok := strings.CutSuffix(ev, ".*")
	if !ok {
		return false
	}
	return slices.ContainsFunc(WebhookEventTypes, func(t string) bool { return strings.HasPrefix(t, object+".") })
}

// EventMatches reports whether an endpoint subscribed to enabled receives
// an event of type typ. internal/store's fan-out SQL implements the same
// rule; this is its reference.
func EventMatches(enabled []string, typ string) bool {
	object, _, _ := strings.Cut(typ, ".")
	for _, ev := range enabled {
		if ev == webhookEventWildcardAll || ev == typ || ev == object+".*" {
			return true
		}
	}
	return false
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // a 2xx answered
	DeliveryFailed    = "failed"    // the retry schedule ran out, or the endpoint answered 410
	DeliveryCanceled  = "canceled"  // the endpoint was disabled or deleted before delivery
)

// WebhookDelivery is one event's message to one endpoint.
type WebhookDelivery struct {
	ID             string
	EventID        string
	EndpointID     string
	MerchantID     string
	Mode           Mode
	State          string
	AttemptCount   int
	Run            int // bumped by each resend
	NextAttemptAt  *time.Time
	LastStatusCode *int
	LastError      *string
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Attempts       []WebhookAttempt // filled by listings that ask for them
}

// Attempt outcomes.
const (
	AttemptSucceeded = "succeeded"
	AttemptFailed    = "failed"
	AttemptGone      = "gone" // 410: the endpoint is disabled
)

// WebhookAttempt is one HTTP request of a delivery.
type WebhookAttempt struct {
	ID           string
	DeliveryID   string
	Attempt      int
	URL          string
	Outcome      string
	StatusCode   *int
	Error        *string
	ResponseBody *string
	Duration     time.Duration
	CreatedAt    time.Time
}

// String names an endpoint for logs without its URL's query (which may
// carry a merchant's token).
func (e WebhookEndpoint) String() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return e.ID
	}
	return fmt.Sprintf("%s (%s://%s%s)", e.ID, u.Scheme, u.Host, u.Path)
}
