package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// The later life of a billing key: expiry of unconfirmed registrations,
// deletion (at the PG too) and the customer's default.

// ExpireRegistrations fails pending registrations past their deadline.
func (s *Service) ExpireRegistrations(ctx context.Context) (int, error) {
	var n int
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var keys []billing.BillingKey
		for _, mode := range []billing.Mode{billing.ModeTest, billing.ModeLive} {
			expired, err := s.store.ExpirePendingBillingKeys(ctx, tx, mode, s.clock.Now(mode), 500)
			if err != nil {
				return err
			}
			keys = append(keys, expired...)
		}
		n = len(keys)
		for _, k := range keys {
			if err := s.event(ctx, tx, k.MerchantID, k.Mode, billing.EventBillingKeyFailed, "billing_key", k.ID, k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// DeleteBillingKey removes a key at the PG and here. A key the PG no
// longer knows is deleted here all the same.
func (s *Service) DeleteBillingKey(ctx context.Context, c Caller, id string) (billing.BillingKey, error) {
	key, err := s.getKey(ctx, c, id)
	if err != nil {
		return key, err
	}
	if key.Status == billing.KeyDeleted {
		return key, nil
	}
	// Scheduled charges of the key go first: the PG would run them against
	// a key the merchant deleted.
	if err := s.unscheduleKey(ctx, key.ID); err != nil {
		return key, err
	}
	if key.Status == billing.KeyActive || key.Status == billing.KeyPending {
		account, err := s.store.GetProviderAccount(ctx, key.ProviderAccountID)
		if err != nil {
			return key, err
		}
		pgClient, err := s.gateways.For(account)
		if err != nil {
			return key, err
		}
		upstream := key.ProviderKey
		if upstream == "" {
			upstream = key.Alias
		}
		// A pending Bootpay or PortOne V2 key has no billing key string
		// yet (the PG mints it): nothing to delete.
		if (key.Provider != providers.Bootpay && key.Provider != providers.Portone) || key.ProviderKey != "" {
			pctx, cancel := s.pgContext(ctx)
			err = pgClient.DeleteBillingKey(pctx, upstream)
			cancel()
			if err != nil && !errors.Is(err, providers.ErrNotFound) {
				return key, providerError("delete billing key", err, "", nil)
			}
		}
	}
	// The PG deleted it: record that whether or not the client still waits.
	rctx, rcancel := recordContext(ctx)
	defer rcancel()
	err = s.withTx(rctx, func(tx pgx.Tx) error {
		if err := s.store.DeleteBillingKey(rctx, tx, key); err != nil {
			return err
		}
		deleted, err := s.store.LockBillingKey(rctx, tx, key.MerchantID, key.Mode, key.ID)
		if err != nil {
			return err
		}
		return s.event(rctx, tx, key.MerchantID, key.Mode, billing.EventBillingKeyDeleted, "billing_key", key.ID, deleted)
	})
	if err != nil {
		return key, err
	}
	return s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, id)
}

// SetDefaultBillingKey makes an active key its customer's default.
func (s *Service) SetDefaultBillingKey(ctx context.Context, c Caller, id string) (billing.BillingKey, error) {
	key, err := s.getKey(ctx, c, id)
	if err != nil {
		return key, err
	}
	if key.Status != billing.KeyActive {
		return key, &billing.Error{Code: billing.EConflict, Reason: "billing_key_not_active",
			Message: fmt.Sprintf("billing key %s is %s; only an active key can be the default", id, key.Status)}
	}
	if err := s.store.SetDefaultBillingKey(ctx, key); err != nil {
		return key, err
	}
	return s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, id)
}
