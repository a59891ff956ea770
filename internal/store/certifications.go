package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

const certificationColumns = `id, merchant_id, mode, provider_account_id, provider, receipt_id, customer_id, status,
	identity_sealed, identity_key_id, person_id, requirements, verified_at, created_at`

// sealedIdentity is the plaintext of identity_sealed. It is this package's
// own type: billing.Identity refuses to marshal itself (it redacts), and
// the CI and DI are deliberately not in it.
type sealedIdentity struct {
	Name      string  `json:"name"`
	Phone     string  `json:"phone"`
	Birth     *string `json:"birth"` // YYYY-MM-DD
	Gender    *string `json:"gender"`
	Carrier   string  `json:"carrier"`
	Foreigner bool    `json:"foreigner"`
}

func toSealedIdentity(id billing.Identity) sealedIdentity {
	out := sealedIdentity{Name: id.Name, Phone: id.Phone, Carrier: id.Carrier, Foreigner: id.Foreigner}
	if id.Birth != nil {
		b := id.Birth.String()
		out.Birth = &b
	}
	if id.Gender != nil {
		g := string(*id.Gender)
		out.Gender = &g
	}
	return out
}

func (s sealedIdentity) identity() (billing.Identity, error) {
	id := billing.Identity{Name: s.Name, Phone: s.Phone, Carrier: s.Carrier, Foreigner: s.Foreigner}
	if s.Birth != nil {
		d, err := billing.ParseDate(*s.Birth)
		if err != nil {
			return id, errors.New("sealed birth date unreadable")
		}
		id.Birth = &d
	}
	if s.Gender != nil {
		g := billing.Gender(*s.Gender)
		id.Gender = &g
	}
	return id, nil
}

// Domain labels keep the keyed hashes of different identifiers apart.
const (
	lookupCI       = "ci\x00"
	lookupDI       = "di\x00"
	lookupPersonID = "person_id v1\x00"
)

// personID derives the merchant-facing person id from the CI's keyed hash:
// hex of the first 16 bytes of a second keyed hash over (merchant, mode,
// ci_hmac). Stable for one person at one merchant and mode; different at
// every other merchant, so merchants cannot join their users on it.
func (s *Store) personID(merchantID string, mode billing.Mode, ciHMAC []byte) string {
	msg := append([]byte(lookupPersonID+merchantID+"\x00"+string(mode)+"\x00"), ciHMAC...)
	return hex.EncodeToString(s.keys.Lookup(msg)[:16])
}

func (s *Store) scanCertification(row pgx.Row) (billing.Certification, error) {
	var (
		c      billing.Certification
		sealed []byte
		keyID  string
	)
	if err := row.Scan(&c.ID, &c.MerchantID, &c.Mode, &c.ProviderAccountID, &c.Provider, &c.ReceiptID, &c.CustomerID,
		&c.Status, &sealed, &keyID, &c.PersonID, &c.Requirements, &c.VerifiedAt, &c.CreatedAt); err != nil {
		return c, err
	}
	plain, err := s.keys.Open(keyID, sealed, []byte(c.ID))
	if err != nil {
		return c, fmt.Errorf("open identity of %s: %w", c.ID, err)
	}
	var si sealedIdentity
	if err := json.Unmarshal(plain, &si); err != nil {
		return c, fmt.Errorf("decode identity of %s: unreadable", c.ID)
	}
	if c.Identity, err = si.identity(); err != nil {
		return c, fmt.Errorf("decode identity of %s: %w", c.ID, err)
	}
	return c, nil
}

// CreateCertification stores a verified certification in one transaction:
// the identity sealed (bound to the certification id), keyed hashes of the
// CI and DI, and — when the certification names a customer — the link and
// the customer's verified_at. The customer must be a live customer of the
// same merchant and mode (an EInvalid error on customer_id otherwise). A
// receipt already stored for the merchant and mode is an EConflict naming
// the certification that holds it. Nothing is written when it fails.
func (s *Store) CreateCertification(ctx context.Context, c billing.Certification) (billing.Certification, error) {
	if c.Identity.CI == "" {
		return c, errors.New("create certification: the identity has no CI")
	}
	plain, err := json.Marshal(toSealedIdentity(c.Identity))
	if err != nil {
		return c, fmt.Errorf("create certification: encode identity: %w", err)
	}
	keyID, sealed := s.keys.Seal(plain, []byte(c.ID))
	ciHMAC := s.keys.Lookup([]byte(lookupCI + c.Identity.CI))
	var diHMAC []byte
	if c.Identity.DI != "" {
		diHMAC = s.keys.Lookup([]byte(lookupDI + c.Identity.DI))
	}
	personID := s.personID(c.MerchantID, c.Mode, ciHMAC)
	var created billing.Certification
	err = s.WithTx(ctx, func(tx pgx.Tx) error {
		if c.CustomerID != nil {
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM customers
				WHERE id = $1 AND merchant_id = $2 AND mode = $3 AND deleted_at IS NULL FOR UPDATE`,
				*c.CustomerID, c.MerchantID, c.Mode).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return billing.UnknownCustomer("customer_id", *c.CustomerID)
			}
			if err != nil {
				return fmt.Errorf("lock customer %s: %w", *c.CustomerID, err)
			}
		}
		row := tx.QueryRow(ctx, `
			INSERT INTO certifications (id, merchant_id, mode, provider_account_id, provider, receipt_id, customer_id,
				status, identity_sealed, identity_key_id, ci_hmac, di_hmac, person_id, requirements, verified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			RETURNING `+certificationColumns,
			c.ID, c.MerchantID, c.Mode, c.ProviderAccountID, c.Provider, c.ReceiptID, c.CustomerID,
			c.Status, sealed, keyID, ciHMAC, diHMAC, personID, c.Requirements, c.VerifiedAt)
		var err error
		if created, err = s.scanCertification(row); err != nil {
			return err
		}
		if c.CustomerID != nil {
			// verified_at only moves forward: linking an older receipt
			// later does not make the customer look less recently verified.
			if _, err := tx.Exec(ctx, `UPDATE customers
				SET verified_at = GREATEST(coalesce(verified_at, $2), $2), updated_at = now()
				WHERE id = $1`, *c.CustomerID, c.VerifiedAt); err != nil {
				return fmt.Errorf("mark customer %s verified: %w", *c.CustomerID, err)
			}
		}
		// Status only: the identity is what the log must never hold.
		return insertAuditQ(ctx, tx, audit.Change{MerchantID: c.MerchantID, Mode: string(c.Mode), Action: "certification.created",
			ObjectType: "certification", ObjectID: c.ID, Summary: map[string]any{"status": string(c.Status), "provider": c.Provider}})
	})
	if constraint, ok := uniqueViolation(err); ok && constraint == "certifications_receipt" {
		existing, found, ferr := s.FindCertificationByReceipt(ctx, c.MerchantID, c.Mode, c.ReceiptID)
		if ferr != nil || !found {
			return c, fmt.Errorf("create certification: receipt clash, holder unreadable: %w", errors.Join(err, ferr))
		}
		return c, billing.ReceiptUsed(existing)
	}
	var be *billing.Error
	if err != nil && !errors.As(err, &be) {
		return c, fmt.Errorf("create certification %s: %w", c.ID, err)
	}
	return created, err
}

// FindCertificationByReceipt returns the id of the merchant's certification
// proven by a receipt, if there is one.
func (s *Store) FindCertificationByReceipt(ctx context.Context, merchantID string, mode billing.Mode, receiptID string) (string, bool, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT id FROM certifications WHERE merchant_id = $1 AND mode = $2 AND receipt_id = $3`,
		merchantID, mode, receiptID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("find certification by receipt: %w", err)
	}
	return id, true, nil
}

// GetCertification reads one certification of a merchant and mode, its
// identity opened.
func (s *Store) GetCertification(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.Certification, error) {
	c, err := s.scanCertification(s.pool.QueryRow(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE id = $1 AND merchant_id = $2 AND mode = $3`, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, billing.NotFound("certification", id)
	}
	if err != nil {
		return c, fmt.Errorf("get certification %s: %w", id, err)
	}
	return c, nil
}
