package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

// mustBootpayAccount gives a merchant a Bootpay account in test mode.
func mustBootpayAccount(t *testing.T, s *store.Store, m billing.Merchant) billing.ProviderAccount {
	t.Helper()
	a, err := s.CreateProviderAccount(context.Background(), billing.ProviderAccount{ID: billing.NewID(billing.PrefixProviderAccount),
		MerchantID: m.ID, Mode: billing.ModeTest, Provider: "bootpay",
		Credentials: map[string]string{"application_id": "app", "private_key": "key"}})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a
}

func newCertification(m billing.Merchant, a billing.ProviderAccount, receipt, ci string, customer *string) billing.Certification {
	birth, _ := billing.ParseDate("1992-03-17")
	male := billing.GenderMale
	age := 19
	return billing.Certification{ID: billing.NewID(billing.PrefixCertification), MerchantID: m.ID, Mode: billing.ModeTest,
		ProviderAccountID: a.ID, Provider: "bootpay", ReceiptID: receipt, CustomerID: customer, Status: billing.CertificationVerified,
		Identity:     billing.Identity{Name: "김민준", Phone: "01098765432", Birth: &birth, Gender: &male, Carrier: "SKT", CI: ci, DI: "di-" + ci},
		Requirements: billing.CheckedRequirements{MinAge: &age}, VerifiedAt: time.Now().Truncate(time.Second)}
}

func TestCertificationsStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SealedLinkedAndReadBack", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s)
		a := mustBootpayAccount(t, s, m)
		cus := mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{})
		created, err := s.CreateCertification(ctx, newCertification(m, a, "rcpt-1", "CI-ONE", &cus.ID))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetCertification(ctx, m.ID, billing.ModeTest, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Identity.Name != "김민준" || got.Identity.Phone != "01098765432" || got.Identity.Birth.String() != "1992-03-17" ||
			*got.Identity.Gender != billing.GenderMale || got.Identity.CI != "" || got.PersonID == "" ||
			*got.Requirements.MinAge != 19 || *got.CustomerID != cus.ID {
			t.Fatalf("read back %+v / %+v", got, got.Requirements)
		}
		c, _ := s.GetCustomer(ctx, m.ID, billing.ModeTest, cus.ID)
		if c.VerifiedAt == nil || !c.VerifiedAt.Equal(got.VerifiedAt) {
			t.Fatalf("customer verified_at %v, want %v", c.VerifiedAt, got.VerifiedAt)
		}
		var sealed []byte
		if err := s.Pool().QueryRow(ctx, `SELECT identity_sealed FROM certifications WHERE id = $1`, created.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("김민준")) || bytes.Contains(sealed, []byte("01098765432")) {
			t.Fatal("identity stored in clear")
		}
		// The ciphertext is bound to its row: moved to another, it does not open.
		other, err := s.CreateCertification(ctx, newCertification(m, a, "rcpt-2", "CI-TWO", nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pool().Exec(ctx, `UPDATE certifications SET identity_sealed = $1 WHERE id = $2`, sealed, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetCertification(ctx, m.ID, billing.ModeTest, other.ID); err == nil {
			t.Fatal("a ciphertext copied to another row opened")
		}
	})

	t.Run("ReceiptOncePerMerchantAndMode", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m, n := mustMerchant(t, s), mustMerchant(t, s)
		a, b := mustBootpayAccount(t, s, m), mustBootpayAccount(t, s, n)
		first, err := s.CreateCertification(ctx, newCertification(m, a, "rcpt", "CI", nil))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateCertification(ctx, newCertification(m, a, "rcpt", "CI", nil))
		requireCode(t, err, billing.EConflict)
		if !strings.Contains(err.Error(), first.ID) {
			t.Fatalf("conflict %q does not name %s", err, first.ID)
		}
		// The same receipt id at another merchant is another receipt.
		if _, err := s.CreateCertification(ctx, newCertification(n, b, "rcpt", "CI", nil)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("UnknownCustomerWritesNothing", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m, n := mustMerchant(t, s), mustMerchant(t, s)
		a := mustBootpayAccount(t, s, m)
		theirs := mustCustomer(t, s, n, billing.ModeTest, billing.CustomerInput{})
		live := mustCustomer(t, s, m, billing.ModeLive, billing.CustomerInput{})
		deleted := mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{})
		if err := s.DeleteCustomer(ctx, m.ID, billing.ModeTest, deleted.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{theirs.ID, live.ID, deleted.ID, "cus_00000000000000000000000000"} {
			_, err := s.CreateCertification(ctx, newCertification(m, a, "rcpt-"+id, "CI", &id))
			requireCode(t, err, billing.EInvalid)
		}
		var count int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM certifications`).Scan(&count); err != nil || count != 0 {
			t.Fatalf("%d rows after refusals (%v)", count, err)
		}
	})

	t.Run("PersonIDPerPersonAndMerchant", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m, n := mustMerchant(t, s), mustMerchant(t, s)
		a, b := mustBootpayAccount(t, s, m), mustBootpayAccount(t, s, n)
		person := func(m billing.Merchant, a billing.ProviderAccount, receipt, ci string) string {
			t.Helper()
			c, err := s.CreateCertification(ctx, newCertification(m, a, receipt, ci, nil))
			if err != nil {
				t.Fatal(err)
			}
			return c.PersonID
		}
		one, again, two, elsewhere := person(m, a, "r1", "CI-A"), person(m, a, "r2", "CI-A"), person(m, a, "r3", "CI-B"), person(n, b, "r1", "CI-A")
		if one != again || one == two || one == elsewhere || len(one) != 32 {
			t.Fatalf("person ids %s %s %s %s", one, again, two, elsewhere)
		}
	})

	t.Run("ScopedByMerchantAndMode", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m, n := mustMerchant(t, s), mustMerchant(t, s)
		a := mustBootpayAccount(t, s, m)
		c, err := s.CreateCertification(ctx, newCertification(m, a, "rcpt", "CI", nil))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GetCertification(ctx, n.ID, billing.ModeTest, c.ID)
		requireCode(t, err, billing.ENotFound)
		_, err = s.GetCertification(ctx, m.ID, billing.ModeLive, c.ID)
		requireCode(t, err, billing.ENotFound)
		if _, found, _ := s.FindCertificationByReceipt(ctx, n.ID, billing.ModeTest, "rcpt"); found {
			t.Fatal("another merchant finds the receipt")
		}
	})
}

func TestBootpayUserTokensStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.NewStore(t)
	m, n := mustMerchant(t, s), mustMerchant(t, s)
	a := mustBootpayAccount(t, s, m)
	cus := mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{ExternalID: billing.Set("u-1")})
	tok := billing.BootpayUserToken{MerchantID: m.ID, Mode: billing.ModeTest, CustomerID: cus.ID, ProviderAccountID: a.ID,
		Token: "user-token-secret", ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second)}
	issuedFor := []byte(`{"user_id":"u-1"}`)
	if err := s.SaveBootpayUserToken(ctx, tok, issuedFor); err != nil {
		t.Fatal(err)
	}

	got, found, err := s.CachedBootpayUserToken(ctx, m.ID, billing.ModeTest, cus.ID, a.ID, issuedFor)
	if err != nil || !found || got.Token != tok.Token || !got.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("cached %v %v %v", got, found, err)
	}
	if _, found, _ := s.CachedBootpayUserToken(ctx, m.ID, billing.ModeTest, cus.ID, a.ID, []byte(`{"user_id":"u-2"}`)); found {
		t.Fatal("a token issued for other data was handed out")
	}
	if _, found, _ := s.CachedBootpayUserToken(ctx, n.ID, billing.ModeTest, cus.ID, a.ID, issuedFor); found {
		t.Fatal("another merchant reads the token")
	}
	// Replaced, not added.
	tok.Token = "second-token"
	if err := s.SaveBootpayUserToken(ctx, tok, issuedFor); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.CachedBootpayUserToken(ctx, m.ID, billing.ModeTest, cus.ID, a.ID, issuedFor); got.Token != "second-token" {
		t.Fatalf("token %q after replacement", got.Token)
	}
	// Only for a live customer of the merchant.
	tok.MerchantID = n.ID
	requireCode(t, s.SaveBootpayUserToken(ctx, tok, issuedFor), billing.ENotFound)
}
