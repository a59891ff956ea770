package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
)

// FlagKeyStillIssued marks a BillingKey.Deleted hint about a key PortOne
// still reports as issued; FlagUnknownKey one about a key billingd never
// attached to this account.
const (
	FlagKeyStillIssued = "flagged_key_still_issued"
	FlagUnknownKey     = "flagged_unknown_billing_key"
)

// VerifyPortoneWebhook checks a PortOne V2 webhook's Standard Webhooks
// signature with the account's webhook secrets (the previous one too,
// during a rotation) on the mode's clock — the sandbox signs on the test
// clock — and returns what it hints at. An unsigned or badly signed body
// is refused (401) before anything is stored; a signed one is still only
// a hint.
func (s *Service) VerifyPortoneWebhook(ctx context.Context, accountID string, h http.Header, body []byte) (portone.Webhook, error) {
	if !billing.ValidID(billing.PrefixProviderAccount, accountID) {
		return portone.Webhook{}, billing.NotFound("provider account", accountID)
	}
	account, err := s.store.GetProviderAccount(ctx, accountID)
	if err != nil {
		return portone.Webhook{}, err
	}
	if account.Provider != providers.Portone {
		return portone.Webhook{}, billing.NotFound("provider account", accountID)
	}
	secrets := []string{account.Credentials["webhook_secret"], account.Credentials["webhook_secret_previous"]}
	hook, err := portone.VerifyWebhook(h, body, secrets, s.clock.Now(account.Mode))
	switch {
	case errors.Is(err, portone.ErrWebhookBody):
		return hook, &billing.Error{Code: billing.EInvalid, Reason: "webhook_invalid", Message: "the notification could not be read", Err: err}
	case err != nil:
		s.log.Warn().Str("provider_account", accountID).Err(err).Msg("PortOne webhook refused: signature")
		return hook, &billing.Error{Code: billing.EUnauthorized, Reason: "webhook_signature_invalid",
			Message: "the notification is not signed with this account's webhook secret", Err: err}
	}
	return hook, nil
}

// portonePaymentID is the shape of the paymentIds billingd sends PortOne:
// its own payment ids. Any other names no payment of billingd's.
func validPortonePaymentID(id string) bool { return billing.ValidID(billing.PrefixPayment, id) }

var portoneKeyShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// PortoneNotification turns a verified webhook into the hint billingd
// stores, or reports false when there is nothing to verify (an unknown
// type, or a billing key event other than a deletion: billingd learns of
// issuance from the merchant's confirm). webhookID is the delivery's
// webhook-id, the same on PortOne's retries: a key event carries no other
// identity, and a deletion must not be taken for an earlier hint about
// the same key.
func PortoneNotification(hook portone.Webhook, webhookID string) (Notification, bool, error) {
	if hook.Ignorable {
		return Notification{}, false, nil
	}
	if len(webhookID) > 100 {
		webhookID = webhookID[:100]
	}
	switch {
	case strings.HasPrefix(hook.Type, "Transaction."):
		if !validPortonePaymentID(hook.PaymentID) {
			return Notification{}, false, &billing.Error{Code: billing.EInvalid, Reason: "webhook_invalid", Param: "paymentId",
				Message: "the notification's paymentId is not a payment id of billingd"}
		}
		return Notification{ProviderID: hook.PaymentID,
			DedupeKey: strings.Join([]string{hook.PaymentID, hook.Type, hook.TransactionID, hook.CancellationID}, "|"),
			Payload: map[string]any{"payment_id": hook.PaymentID, "type": hook.Type, "transaction_id": hook.TransactionID,
				"cancellation_id": hook.CancellationID, "version": hook.Version}}, true, nil
	case hook.Type == "BillingKey.Deleted":
		if !portoneKeyShape.MatchString(hook.BillingKey) {
			return Notification{}, false, &billing.Error{Code: billing.EInvalid, Reason: "webhook_invalid", Param: "billingKey",
				Message: "the notification's billingKey is not a billing key"}
		}
		return Notification{ProviderID: hook.BillingKey, DedupeKey: hook.BillingKey + "|" + hook.Type + "|" + webhookID,
			Payload: map[string]any{"billing_key": hook.BillingKey, "type": hook.Type}}, true, nil
	}
	return Notification{}, false, nil
}

// applyPortoneKeyDeleted verifies a BillingKey.Deleted hint: only when
// PortOne itself no longer has the key issued is billingd's key, with its
// scheduled charges, marked deleted.
func (s *Service) applyPortoneKeyDeleted(ctx context.Context, id, providerKey string, account billing.ProviderAccount, pgClient providers.Provider,
	finish func(outcome, detail, paymentID string) error) error {
	key, err := s.store.BillingKeyByProviderKey(ctx, account.ID, providerKey)
	if billing.ErrorCode(err) == billing.ENotFound {
		return finish(FlagUnknownKey, "no billing key of this account has that PG key", "")
	}
	if err != nil {
		return err
	}
	if key.Status == billing.KeyDeleted {
		return finish(NotificationNoChange, "", "")
	}
	pctx, cancel := s.pgContext(ctx)
	_, err = pgClient.VerifyBillingKey(pctx, providers.VerifyBillingKeyRequest{Key: providerKey})
	cancel()
	pe, _ := providers.AsError(err)
	switch {
	case err == nil:
		return finish(FlagKeyStillIssued, fmt.Sprintf("the PG still has billing key %s issued", key.ID), "")
	case errors.Is(err, providers.ErrNotFound), pe != nil && pe.PGCode == "BILLING_KEY_NOT_ISSUED":
	default:
		return fmt.Errorf("verify notification %s: %w", id, err) // retried
	}
	if err := s.unscheduleKey(ctx, key.ID); err != nil {
		return err
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if err := s.store.DeleteBillingKey(ctx, tx, key); err != nil {
			return err
		}
		deleted, err := s.store.LockBillingKey(ctx, tx, key.MerchantID, key.Mode, key.ID)
		if err != nil {
			return err
		}
		return s.event(ctx, tx, key.MerchantID, key.Mode, billing.EventBillingKeyDeleted, "billing_key", key.ID, deleted)
	})
	if err != nil {
		return err
	}
	return finish(NotificationApplied, "billing key "+key.ID+" deleted at the PG", "")
}
