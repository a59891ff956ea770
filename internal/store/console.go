package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// Reads and sessions for the operator console. Nothing here changes money
// or a merchant's objects: those go through the services.

// RecordAudit writes an audit row on its own, for what changes nothing
// else (a console login, a page view, an identity shown).
func (s *Store) RecordAudit(ctx context.Context, c audit.Change) error {
	return insertAuditQ(ctx, s.pool, c)
}

// ListMerchants returns a page of merchants, newest first.
func (s *Store) ListMerchants(ctx context.Context, p Page) ([]billing.Merchant, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, settings, created_at FROM merchants
		WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2`, p.StartingAfter, p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list merchants: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Merchant, error) {
		var m billing.Merchant
		err := row.Scan(&m.ID, &m.Name, &m.Settings, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list merchants: %w", err)
	}
	return trimPage(list, p)
}

// SearchPayments finds a merchant's payments by what a support person is
// handed: a payment id, the PG's id, a customer or billing key id (exact),
// or words of the order name. An empty query lists them all.
func (s *Store) SearchPayments(ctx context.Context, merchantID string, mode billing.Mode, q string, status billing.PaymentStatus, p Page) ([]billing.Payment, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE merchant_id = $1 AND mode = $2 AND ($3 = '' OR id < $3) AND ($6 = '' OR status = $6)
		  AND ($4 = '' OR id = $4 OR provider_payment_id = $4 OR customer_id = $4 OR billing_key_id = $4
		       OR order_name ILIKE '%' || $5 || '%')
		ORDER BY id DESC LIMIT $7`,
		merchantID, mode, p.StartingAfter, q, likeEscape(q), string(status), p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("search payments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Payment, error) { return scanPayment(row) })
	if err != nil {
		return nil, false, fmt.Errorf("search payments: %w", err)
	}
	return trimPage(list, p)
}

func likeEscape(q string) string {
	out := make([]rune, 0, len(q))
	for _, r := range q {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// Attention is what an operator should look at now, for one merchant and mode.
type Attention struct {
	Unknown           []billing.Payment      // outcome unknown for a while
	Flagged           []billing.Payment      // the PG answered something other than what was sent
	Dunning           []billing.Subscription // past_due or unpaid
	DisabledEndpoints []billing.WebhookEndpoint
	FailingDeliveries []DeliveryRow
	FailingAccounts   []FailingAccount
}

// FailingAccount is a provider account with recent unknown outcomes: PG
// calls that timed out or answered 5xx.
type FailingAccount struct {
	ID, Provider string
	Unknown      int
}

// ConsoleAttention gathers Attention: unknown payments last touched before
// unknownBefore, and the rest as they stand. Each list is capped at limit.
func (s *Store) ConsoleAttention(ctx context.Context, merchantID string, mode billing.Mode, unknownBefore time.Time, limit int) (Attention, error) {
	var a Attention
	var err error
	collect := func(sql string, args ...any) ([]billing.Payment, error) {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Payment, error) { return scanPayment(row) })
	}
	if a.Unknown, err = collect(`SELECT `+paymentColumns+` FROM payments WHERE merchant_id = $1 AND mode = $2
		AND status = 'unknown' AND updated_at < $3 ORDER BY id DESC LIMIT $4`, merchantID, mode, unknownBefore, limit); err != nil {
		return a, fmt.Errorf("attention: unknown payments: %w", err)
	}
	if a.Flagged, err = collect(`SELECT `+paymentColumns+` FROM payments WHERE merchant_id = $1 AND mode = $2 AND id IN (
			SELECT object_id FROM events WHERE merchant_id = $1 AND mode = $2 AND type = $3
			UNION SELECT payment_id FROM pg_notifications WHERE payment_id IS NOT NULL AND outcome LIKE 'flagged%')
		ORDER BY id DESC LIMIT $4`, merchantID, mode, billing.EventPaymentPGMismatch, limit); err != nil {
		return a, fmt.Errorf("attention: flagged payments: %w", err)
	}
	if a.Dunning, err = s.querySubscriptions(ctx, `WHERE s.merchant_id = $1 AND s.mode = $2 AND s.status IN ('past_due', 'unpaid')
		ORDER BY s.id DESC LIMIT $3`, merchantID, mode, limit); err != nil {
		return a, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE merchant_id = $1 AND mode = $2 AND deleted_at IS NULL AND status = 'disabled' ORDER BY id DESC LIMIT $3`, merchantID, mode, limit)
	if err == nil {
		a.DisabledEndpoints, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.WebhookEndpoint, error) { return s.scanWebhookEndpoint(row) })
	}
	if err != nil {
		return a, fmt.Errorf("attention: disabled endpoints: %w", err)
	}
	if a.FailingDeliveries, _, err = s.ListWebhookDeliveries(ctx, merchantID, mode, true, Page{Limit: limit}); err != nil {
		return a, err
	}
	rows, err = s.pool.Query(ctx, `SELECT provider_account_id, provider, count(*) FROM payments
		WHERE merchant_id = $1 AND mode = $2 AND status = 'unknown' AND created_at > now() - interval '1 hour'
		GROUP BY 1, 2 ORDER BY 3 DESC LIMIT $3`, merchantID, mode, limit)
	if err == nil {
		a.FailingAccounts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (FailingAccount, error) {
			var f FailingAccount
			err := row.Scan(&f.ID, &f.Provider, &f.Unknown)
			return f, err
		})
	}
	if err != nil {
		return a, fmt.Errorf("attention: failing accounts: %w", err)
	}
	return a, nil
}

// DeliveryRow is a webhook delivery with what its event is about.
type DeliveryRow struct {
	billing.WebhookDelivery
	EventType, ObjectID string
}

// ListWebhookDeliveries returns a page of deliveries, newest first; failing
// keeps those that failed or are being retried after a failed attempt.
func (s *Store) ListWebhookDeliveries(ctx context.Context, merchantID string, mode billing.Mode, failing bool, p Page) ([]DeliveryRow, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries
		WHERE merchant_id = $1 AND mode = $2 AND ($3 = '' OR id < $3)
		  AND (NOT $4 OR state = 'failed' OR (state = 'pending' AND attempt_count > 0))
		ORDER BY id DESC LIMIT $5`, merchantID, mode, p.StartingAfter, failing, p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list deliveries: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeliveryRow, error) {
		d, err := scanWebhookDelivery(row)
		return DeliveryRow{WebhookDelivery: d}, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list deliveries: %w", err)
	}
	ids := make([]string, len(list))
	for i, d := range list {
		ids[i] = d.EventID
	}
	rows, err = s.pool.Query(ctx, `SELECT id, type, object_id FROM events WHERE id = ANY ($1)`, ids)
	if err != nil {
		return nil, false, fmt.Errorf("events of deliveries: %w", err)
	}
	type ev struct{ id, typ, object string }
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ev, error) {
		var e ev
		return e, row.Scan(&e.id, &e.typ, &e.object)
	})
	if err != nil {
		return nil, false, fmt.Errorf("events of deliveries: %w", err)
	}
	for _, e := range evs {
		for i := range list {
			if list[i].EventID == e.id {
				list[i].EventType, list[i].ObjectID = e.typ, e.object
			}
		}
	}
	return trimPage(list, p)
}

// PGNotification is a PG webhook billingd received about a payment, and
// what verifying it against the PG's API concluded.
type PGNotification struct {
	ID, Provider, RemoteAddr string
	Outcome, Detail          *string
	ReceivedCount            int
	ReceivedAt               time.Time
	ProcessedAt              *time.Time
}

// PGNotificationsOf lists the PG notifications about a payment, oldest first.
func (s *Store) PGNotificationsOf(ctx context.Context, paymentID string) ([]PGNotification, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, provider, remote_addr, outcome, detail, received_count, received_at, processed_at
		FROM pg_notifications WHERE payment_id = $1 ORDER BY id`, paymentID)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", paymentID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PGNotification, error) {
		var n PGNotification
		err := row.Scan(&n.ID, &n.Provider, &n.RemoteAddr, &n.Outcome, &n.Detail, &n.ReceivedCount, &n.ReceivedAt, &n.ProcessedAt)
		return n, err
	})
}

// ConsoleSession is a signed-in operator.
type ConsoleSession struct {
	Operator  string
	CSRFToken string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

func sessionHash(token string) []byte {
	h := sha256.Sum256([]byte("console session\x00" + token))
	return h[:]
}

// CreateConsoleSession stores a session under the hash of its token.
func (s *Store) CreateConsoleSession(ctx context.Context, token string, sess ConsoleSession) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO console_sessions (token_hash, operator, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
		sessionHash(token), sess.Operator, sess.CSRFToken, sess.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ErrNoSession: the token names no live session.
var ErrNoSession = errors.New("no console session")

// TouchConsoleSession returns the session of token and marks it seen now,
// unless it expired (absolutely, or idle since before idleSince), in which
// case it is deleted and ErrNoSession returned.
func (s *Store) TouchConsoleSession(ctx context.Context, token string, idleSince time.Time) (ConsoleSession, error) {
	var sess ConsoleSession
	err := s.pool.QueryRow(ctx, `UPDATE console_sessions SET last_seen_at = now()
		WHERE token_hash = $1 AND expires_at > now() AND last_seen_at > $2
		RETURNING operator, csrf_token, created_at, last_seen_at, expires_at`, sessionHash(token), idleSince).
		Scan(&sess.Operator, &sess.CSRFToken, &sess.CreatedAt, &sess.LastSeen, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		_, _ = s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at < now()`, sessionHash(token))
		return sess, ErrNoSession
	}
	if err != nil {
		return sess, fmt.Errorf("console session: %w", err)
	}
	return sess, nil
}

// DeleteConsoleSession ends a session (logout).
func (s *Store) DeleteConsoleSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, sessionHash(token)); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// CertificationsOf lists a customer's certifications, newest first.
func (s *Store) CertificationsOf(ctx context.Context, merchantID string, mode billing.Mode, customerID string) ([]billing.Certification, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE merchant_id = $1 AND mode = $2 AND customer_id = $3 ORDER BY id DESC LIMIT 50`, merchantID, mode, customerID)
	if err != nil {
		return nil, fmt.Errorf("certifications of %s: %w", customerID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Certification, error) { return s.scanCertification(row) })
}
