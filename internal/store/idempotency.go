package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// IdempotencyRetention is how long idempotency records are kept before
// the prune job deletes them.
const IdempotencyRetention = 24 * time.Hour

// IdempotencyKey names one idempotency record: a client's key, scoped to the
// merchant and mode that sent it.
type IdempotencyKey struct {
	MerchantID string
	Mode       billing.Mode
	Key        string
}

// IdempotentRequest is what identifies a request under a key.
type IdempotentRequest struct {
	Method      string
	Path        string
	Fingerprint []byte // Fingerprint of method, path and canonical body
	// Legacy is the request's unkeyed fingerprint, to recognise a key
	// stored before fingerprints were keyed; it is never stored.
	Legacy []byte
}

// Fingerprint is the keyed hash (HMAC-SHA-256 under the encryption key) of
// a request, stored with its idempotency key for 24 h to tell a retry from
// a different request. Keyed because the request may carry card data
// (POST /v1/billing_keys: number, expiry, birth date, password digits): a
// plain hash of it could be matched against guessed card numbers by
// whoever reads the table (PCI DSS 3.5.1.1). Rotating the primary key
// makes keys in flight answer 422 to their retries until they expire.
//
// legacy is the plain SHA-256 that releases before this one stored. A key
// they stored holds it for up to IdempotencyRetention after the upgrade,
// and its retry must still replay rather than be refused as a different
// request: a client refused would retry under a new key and pay twice.
// ClaimIdempotencyKey replaces a legacy fingerprint it matches with the
// keyed one. Drop legacy once a release with keyed fingerprints has run
// for IdempotencyRetention.
func (s *Store) Fingerprint(request []byte) (keyed, legacy []byte) {
	h := sha256.Sum256(request)
	return s.keys.Lookup(append([]byte("idempotency fingerprint v1\x00"), request...)), h[:]
}

// ClaimOutcome says what a request may do under its key.
type ClaimOutcome int

const (
	// ClaimAcquired: this request owns the key and runs. RecoveryPoint says
	// how far an earlier, interrupted run got ("started" when new).
	ClaimAcquired ClaimOutcome = iota + 1
	// ClaimCompleted: an earlier run finished; replay its response.
	ClaimCompleted
	// ClaimInFlight: another request holds the key right now.
	ClaimInFlight
	// ClaimMismatch: the key was used with a different request.
	ClaimMismatch
)

// Claim is the result of ClaimIdempotencyKey.
type Claim struct {
	Outcome        ClaimOutcome
	RecoveryPoint  string
	ResponseStatus int
	ResponseBody   []byte
}

// ClaimIdempotencyKey takes the key for a request, or reports why it cannot.
// locked_at is the last time the run holding the key said it is alive
// (RenewIdempotencyKey): a lock not renewed for lease belongs to a run that
// died (its process was killed); the new request takes it over and resumes
// from the recovery point.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey, r IdempotentRequest, lease time.Duration) (Claim, error) {
	// Insert-or-nothing first, as one statement (its own transaction, one
	// round trip): a new key — nearly every request — is claimed by it. Of
	// many concurrent first requests exactly one inserts; the others wait
	// on its row until it commits, then insert nothing and read it below.
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO idempotency_keys (merchant_id, mode, key, fingerprint, method, path, locked_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (merchant_id, mode, key) DO NOTHING`,
		k.MerchantID, k.Mode, k.Key, r.Fingerprint, r.Method, r.Path)
	if err != nil {
		return Claim{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return Claim{Outcome: ClaimAcquired, RecoveryPoint: "started"}, nil
	}

	// The key exists: decide under its row lock.
	var claim Claim
	err = s.WithTx(ctx, func(tx pgx.Tx) error {
		var (
			fingerprint []byte
			status      *int
			stale       bool
			locked      bool
		)
		err := tx.QueryRow(ctx, `
			SELECT fingerprint, recovery_point, response_status, response_body,
				locked_at IS NOT NULL, coalesce(locked_at < now() - $4::interval, false)
			FROM idempotency_keys WHERE merchant_id = $1 AND mode = $2 AND key = $3
			FOR UPDATE`, k.MerchantID, k.Mode, k.Key, lease).
			Scan(&fingerprint, &claim.RecoveryPoint, &status, &claim.ResponseBody, &locked, &stale)
		if errors.Is(err, pgx.ErrNoRows) {
			// Deleted between our insert and this select (a cleanup, or a
			// validation failure forgetting it): the client may retry.
			claim.Outcome = ClaimInFlight
			return nil
		}
		if err != nil {
			return fmt.Errorf("read idempotency key: %w", err)
		}
		if len(r.Legacy) > 0 && bytes.Equal(fingerprint, r.Legacy) {
			// Stored before fingerprints were keyed: the same request.
			// Keep the keyed fingerprint instead of the plain hash.
			if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET fingerprint = $4
				WHERE merchant_id = $1 AND mode = $2 AND key = $3`, k.MerchantID, k.Mode, k.Key, r.Fingerprint); err != nil {
				return fmt.Errorf("rekey idempotency fingerprint: %w", err)
			}
			fingerprint = r.Fingerprint
		}
		switch {
		case !bytes.Equal(fingerprint, r.Fingerprint):
			claim.Outcome = ClaimMismatch
		case status != nil:
			claim.Outcome, claim.ResponseStatus = ClaimCompleted, *status
		case locked && !stale:
			claim.Outcome = ClaimInFlight
		default:
			// Unlocked (an earlier run failed and released it) or stale.
			_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET locked_at = now()
				WHERE merchant_id = $1 AND mode = $2 AND key = $3`, k.MerchantID, k.Mode, k.Key)
			claim.Outcome = ClaimAcquired
		}
		return err
	})
	return claim, err
}

// RenewIdempotencyKey extends the lease of the run holding the key, while
// it holds it: a settled or released key stays as it is.
func (s *Store) RenewIdempotencyKey(ctx context.Context, k IdempotencyKey) error {
	_, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET locked_at = now()
		WHERE merchant_id = $1 AND mode = $2 AND key = $3 AND locked_at IS NOT NULL AND response_status IS NULL`,
		k.MerchantID, k.Mode, k.Key)
	if err != nil {
		return fmt.Errorf("renew idempotency key: %w", err)
	}
	return nil
}

// PendingClaim is a request whose key is claimed by the statement that
// starts its work instead of by ClaimIdempotencyKey beforehand: a charge
// claims its key in the statement that creates its payment (see
// CreatePaymentAt), a round trip and a transaction less. When the key
// exists already, that statement writes nothing and fails with
// ErrIdempotencyKeyExists: the request must then go through
// ClaimIdempotencyKey (replay, 409, 422, or a resumed run).
type PendingClaim struct {
	Request IdempotentRequest
	claimed atomic.Bool
}

// Claimed reports whether the key was claimed for the request: until it
// is, the request owns nothing to settle.
func (c *PendingClaim) Claimed() bool { return c != nil && c.claimed.Load() }

// ErrIdempotencyKeyExists: a PendingClaim found its key taken.
var ErrIdempotencyKeyExists = errors.New("store: the idempotency key exists")

// SetRecoveryPoint records progress of the request holding the key, inside
// the caller's transaction so it commits with the work it describes.
func SetRecoveryPoint(ctx context.Context, tx pgx.Tx, k IdempotencyKey, point string) error {
	_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET recovery_point = $4
		WHERE merchant_id = $1 AND mode = $2 AND key = $3`, k.MerchantID, k.Mode, k.Key, point)
	if err != nil {
		return fmt.Errorf("set recovery point %s: %w", point, err)
	}
	return nil
}

// Answer is the response to a request made under an idempotency key, to
// be replayed to its retries.
type Answer struct {
	Key    IdempotencyKey
	Status int
	Body   []byte
}

const completeIdempotencyKey = `UPDATE idempotency_keys
	SET response_status = $4, response_body = $5, recovery_point = 'finished', locked_at = NULL
	WHERE merchant_id = $1 AND mode = $2 AND key = $3`

func (a *Answer) args() []any {
	return []any{a.Key.MerchantID, a.Key.Mode, a.Key.Key, a.Status, a.Body}
}

func (a *Answer) queue(b *pgx.Batch) { b.Queue(completeIdempotencyKey, a.args()...) }

// CompleteIdempotencyKey stores the response to replay and unlocks the key.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, k IdempotencyKey, status int, body []byte) error {
	a := Answer{Key: k, Status: status, Body: body}
	if _, err := s.pool.Exec(ctx, completeIdempotencyKey, a.args()...); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// CompleteIdempotencyKeyTx is CompleteIdempotencyKey inside the transaction
// that records the work the answer describes, so that both commit together
// (one commit less per request). A nil answer stores nothing.
func CompleteIdempotencyKeyTx(ctx context.Context, tx pgx.Tx, a *Answer) error {
	if a == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, completeIdempotencyKey, a.args()...); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey unlocks the key without a response, keeping its
// recovery point, so that a retry with the same key runs again from there.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, k IdempotencyKey) error {
	_, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET locked_at = NULL
		WHERE merchant_id = $1 AND mode = $2 AND key = $3`, k.MerchantID, k.Mode, k.Key)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// ForgetIdempotencyKey deletes a key whose request never started work (it
// failed validation), so the client may reuse the key with a corrected body.
func (s *Store) ForgetIdempotencyKey(ctx context.Context, k IdempotencyKey) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys
		WHERE merchant_id = $1 AND mode = $2 AND key = $3 AND recovery_point = 'started'`, k.MerchantID, k.Mode, k.Key)
	if err != nil {
		return fmt.Errorf("forget idempotency key: %w", err)
	}
	return nil
}

// DeleteIdempotencyKeysBefore removes records created before t that no
// request holds, and reports how many went.
func (s *Store) DeleteIdempotencyKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1 AND locked_at IS NULL`, t)
	if err != nil {
		return 0, fmt.Errorf("delete old idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
