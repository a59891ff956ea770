package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/demo"
	"github.com/billingd/billingd/internal/pgcluster"
	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store"
)

// devMerchantName identifies the sandbox merchant across runs.
const devMerchantName = "Sandbox Merchant (billingd dev)"

// devState is what `billingd dev` keeps in its data dir so a second run
// finds the same database, encryption key and API keys. It is for a
// developer's machine only; production never writes secrets to disk.
type devState struct {
	EncryptionKey  string `json:"encryption_key"`
	AdminToken     string `json:"admin_token"`
	SecretKey      string `json:"secret_key"`
	PublishableKey string `json:"publishable_key"`
	// Credentials of the sandbox PG accounts (the sandbox accepts any).
	IamportKey    string `json:"iamport_key"`
	IamportSecret string `json:"iamport_secret"`
	BootpayAppID  string `json:"bootpay_application_id"`
	BootpayKey    string `json:"bootpay_private_key"`
	// PortOne V2: the API secret, the webhook secret (whsec_ base64, as
	// the console shows it) and the store id.
	PortoneSecret        string `json:"portone_api_secret"`
	PortoneWebhookSecret string `json:"portone_webhook_secret"`
	PortoneStoreID       string `json:"portone_store_id"`
}

// devPortoneChannel is the dev account's channel (any "channel-key-…" is
// a channel to the sandbox).
const devPortoneChannel = "channel-key-dev"

// dev runs billingd for a newcomer: a throwaway (or DATABASE_URL) Postgres,
// migrations, a sandbox merchant with test keys, and a walkthrough.
func dev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", ".billingd-dev", "where the local database and dev keys live (kept between runs)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}

	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if os.Getenv("BILLINGD_LOG_FORMAT") == "" {
		cfg.LogFormat = "console"
	}
	if os.Getenv("BILLINGD_TEST_CLOCK") == "" {
		cfg.TestClock = true // a newcomer wants to see renewals without waiting a month
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir %s: %w", *dataDir, err)
	}
	state, err := loadDevState(filepath.Join(*dataDir, "dev-state.json"))
	if err != nil {
		return err
	}
	if cfg.EncryptionKey == "" {
		cfg.EncryptionKey = state.EncryptionKey
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = state.AdminToken
	}

	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = os.Getenv("DATABASE_URL")
	}
	if cfg.DatabaseURL == "" {
		pgDir, err := devPostgresDir(*dataDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "starting a local Postgres in %s …\n", pgDir)
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: pgDir})
		if err != nil {
			return err
		}
		defer cluster.Stop()
		cfg.DatabaseURL = cluster.URL()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s (use --addr to pick another): %w", *addr, err)
	}
	baseURL := "http://" + ln.Addr().String()
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = baseURL
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		ln.Close()
		return err
	}
	merchant, err := ensureDevMerchant(ctx, st, admin.New(st, cfg.PublicBaseURL), state)
	if err != nil {
		ln.Close()
		return err
	}
	if err := state.save(filepath.Join(*dataDir, "dev-state.json")); err != nil {
		ln.Close()
		return err
	}
	printWalkthrough(stdout, baseURL, merchant, state)
	if !cfg.Sandbox {
		return runServer(ctx, ln, cfg, st, newLogger(stderr, cfg), nil)
	}
	// Test mode in a browser: the demo checkout, and the dev merchant's
	// sandbox accounts known from the start (as if signed up at the PGs), so
	// a browser window works before billingd has called the PG.
	checkout, err := demo.New(demo.Options{APIBase: loopbackURL(ln), SecretKey: state.SecretKey,
		PublishableKey: state.PublishableKey, BootpayApplicationID: state.BootpayAppID})
	if err != nil {
		ln.Close()
		return err
	}
	return runServer(ctx, ln, cfg, st, newLogger(stderr, cfg), func(r chi.Router) { demo.Mount(r, checkout) },
		func(sb *sandbox.Set) {
			sb.Register("iamport", map[string]string{"imp_key": state.IamportKey, "imp_secret": state.IamportSecret})
			sb.Register("bootpay", map[string]string{"application_id": state.BootpayAppID, "private_key": state.BootpayKey})
			sb.Register("portone", map[string]string{"api_secret": state.PortoneSecret, "webhook_secret": state.PortoneWebhookSecret,
				"store_id": state.PortoneStoreID})
		})
}

// devPostgresDir is where the dev cluster keeps its data: inside the data
// dir, unless billingd runs as root and the postgres user (which initdb and
// the server run as) cannot reach it — /root is private, for one. Then the
// cluster lives under /var/lib/billingd-dev, in a folder named after the
// data dir, so the same data dir still finds the same database.
func devPostgresDir(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return "", err
	}
	if os.Geteuid() != 0 || othersCanReach(filepath.Dir(abs)) {
		return abs, nil
	}
	sum := sha256.Sum256([]byte(abs))
	dir := filepath.Join("/var/lib/billingd-dev", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("create %s for the dev database: %w", filepath.Dir(dir), err)
	}
	return dir, nil
}

// othersCanReach reports whether every directory from / down to dir may be
// entered by any user.
func othersCanReach(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if parent := filepath.Dir(d); parent == d {
			return true
		}
	}
}

func loadDevState(path string) (*devState, error) {
	state := &devState{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, state); err != nil {
			return nil, fmt.Errorf("%s is damaged (delete the data dir to start over): %w", path, err)
		}
	}
	if state.EncryptionKey == "" {
		state.EncryptionKey = base64.StdEncoding.EncodeToString(randomBytes(32))
	}
	if state.AdminToken == "" {
		state.AdminToken = "dev_admin_" + hex.EncodeToString(randomBytes(24))
	}
	if state.IamportKey == "" {
		state.IamportKey = "dev_imp_" + hex.EncodeToString(randomBytes(6))
		state.IamportSecret = hex.EncodeToString(randomBytes(24))
	}
	if state.BootpayAppID == "" {
		state.BootpayAppID = "dev_bootpay_" + hex.EncodeToString(randomBytes(6))
		state.BootpayKey = hex.EncodeToString(randomBytes(24))
	}
	if state.PortoneSecret == "" {
		state.PortoneSecret = "dev_portone_" + hex.EncodeToString(randomBytes(24))
		state.PortoneWebhookSecret = "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(32))
		state.PortoneStoreID = "store-dev-" + hex.EncodeToString(randomBytes(8))
	}
	return state, nil
}

func (s *devState) save(path string) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(path, b, 0o600)
}

// ensureDevMerchant finds or creates the sandbox merchant and makes sure the
// keys in state still work, minting new ones when they do not.
func ensureDevMerchant(ctx context.Context, st *store.Store, svc *admin.Service, state *devState) (billing.Merchant, error) {
	m, err := st.FindMerchantByName(ctx, devMerchantName)
	if billing.ErrorCode(err) == billing.ENotFound {
		m, err = svc.CreateMerchant(ctx, devMerchantName)
	}
	if err != nil {
		return m, err
	}
	for _, k := range []struct {
		kind string
		key  *string
	}{{"secret", &state.SecretKey}, {"publishable", &state.PublishableKey}} {
		if *k.key != "" {
			if got, err := st.Authenticate(ctx, *k.key); err == nil && got.MerchantID == m.ID {
				continue
			}
		}
		_, secret, err := svc.CreateAPIKey(ctx, m.ID, k.kind, "test")
		if err != nil {
			return m, err
		}
		*k.key = secret
	}
	return m, ensureDevAccounts(ctx, svc, m, state)
}

// ensureDevAccounts gives the sandbox merchant a test account at each PG,
// served by this process's sandbox.
func ensureDevAccounts(ctx context.Context, svc *admin.Service, m billing.Merchant, state *devState) error {
	accounts, err := svc.ListProviderAccounts(ctx, m.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, a := range accounts {
		if a.Mode == billing.ModeTest {
			have[a.Provider] = true
		}
		if a.Mode == billing.ModeTest && a.Provider == "iamport" && a.Settings["imp_code"] == "imp00000000" {
			// Data dirs from before the browser windows: IMP.init needs the
			// sandbox's merchant code for this imp_key.
			settings := maps.Clone(a.Settings)
			settings["imp_code"] = iamportsandbox.MerchantCode(state.IamportKey)
			if _, err := svc.UpdateProviderAccount(ctx, a.ID, admin.ProviderAccountInput{Settings: settings}); err != nil {
				return fmt.Errorf("update the sandbox iamport account: %w", err)
			}
		}
	}
	wanted := []admin.ProviderAccountInput{
		{Provider: "iamport", Mode: "test",
			Credentials: map[string]string{"imp_key": state.IamportKey, "imp_secret": state.IamportSecret},
			Settings:    map[string]any{"imp_code": iamportsandbox.MerchantCode(state.IamportKey), "default_pg": "payco"}},
		{Provider: "bootpay", Mode: "test",
			Credentials: map[string]string{"application_id": state.BootpayAppID, "private_key": state.BootpayKey},
			Settings:    map[string]any{"client_application_id": state.BootpayAppID, "default_pg": "nicepay"}},
		{Provider: "portone", Mode: "test",
			Credentials: map[string]string{"api_secret": state.PortoneSecret, "webhook_secret": state.PortoneWebhookSecret},
			Settings:    map[string]any{"store_id": state.PortoneStoreID, "channel_key": devPortoneChannel}},
	}
	for _, in := range wanted {
		if have[in.Provider] {
			continue
		}
		if _, err := svc.CreateProviderAccount(ctx, m.ID, in); err != nil {
			return fmt.Errorf("create the sandbox %s account: %w", in.Provider, err)
		}
	}
	return nil
}

func printWalkthrough(w io.Writer, baseURL string, m billing.Merchant, s *devState) {
	r := strings.NewReplacer("$BASE", baseURL, "$SECRET", s.SecretKey, "$PUBLISHABLE", s.PublishableKey,
		"$ADMIN", s.AdminToken, "$MERCHANT", m.ID, "$IMPKEY", s.IamportKey,
		"$PORTONE_STORE", s.PortoneStoreID, "$PORTONE_CHANNEL", devPortoneChannel)
	fmt.Fprint(w, r.Replace(`
billingd dev is ready at $BASE   (API docs: $BASE/docs)

  merchant         $MERCHANT  (test mode, sandbox PGs at $BASE/sandbox)
  secret key       $SECRET
  publishable key  $PUBLISHABLE
  admin token      $ADMIN
  iamport imp_key  $IMPKEY  (sandbox)
  demo checkout    $BASE/sandbox/demo  (register a card and certify an identity in a browser)
  operator console $BASE/console  (sign in with the admin token; find the walkthrough's payment)

Walk through a customer, a PAYCO billing key, a charge, a refund and three months of a
subscription (paste into bash):

`+walkthroughStart+`
export BILLINGD=$BASE SK=$SECRET
json() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }
post() { curl -sS --fail-with-body "$BILLINGD$1" -H "Authorization: Bearer $SK" -H 'Content-Type: application/json' "${@:2}"; }

# 1. a customer
CUS=$(post /v1/customers -d '{"name":"홍길동","email":"hong@example.com","phone":"010-1234-5678"}' | json id)

# 2. start a PAYCO registration; client_params are what the frontend passes to IMP.request_pay
REG=$(post /v1/billing_keys -d "{\"customer_id\":\"$CUS\",\"provider\":\"iamport\",\"pg\":\"payco\"}")
BK=$(echo "$REG" | json id); CUID=$(echo "$REG" | json customer_uid)

# 3. the customer completes the payment window (the sandbox's; a browser can open
#    $BILLINGD/sandbox/iamport/sandbox/window?imp_key=$IMPKEY&customer_uid=$CUID&pg=payco&pay_method=card)
curl -sS --fail-with-body $BILLINGD/sandbox/iamport/sandbox/window/billing_keys -H 'Content-Type: application/json' \
  -d "{\"imp_key\":\"$IMPKEY\",\"customer_uid\":\"$CUID\",\"pg\":\"payco\",\"pay_method\":\"card\"}"; echo

# 4. confirm the key with the PG
post /v1/billing_keys/$BK/confirm -X POST; echo

# 5. charge it (amounts ending in 4 decline, 6 lose the reply: see the sandbox docs)
PAY=$(post /v1/payments -H "Idempotency-Key: charge-$BK" -d "{\"billing_key_id\":\"$BK\",\"amount\":9900,\"order_name\":\"월간 구독\"}" | json id)

# 6. refund part of it, then look at the payment
post /v1/payments/$PAY/cancel -H "Idempotency-Key: refund-$BK" -d '{"amount":4900,"reason":"partial refund"}'; echo
curl -sS --fail-with-body $BILLINGD/v1/payments/$PAY -H "Authorization: Bearer $SK"; echo

# 7. a monthly subscription on the key: the first month is charged now, the next is
#    registered at the PG, and each paid month (its webhook, verified) registers the next
SUB=$(post /v1/subscriptions -H "Idempotency-Key: sub-$BK" \
  -d "{\"customer_id\":\"$CUS\",\"billing_key_id\":\"$BK\",\"amount\":9900,\"order_name\":\"월간 구독\",\"interval\":\"month\"}" | json id)

# 8. three months in seconds: the test clock moves the sandbox PG and billingd's due times
post /v1/test_clock/advance -d '{"seconds":8035200}'; echo
curl -sS --fail-with-body $BILLINGD/v1/subscriptions/$SUB -H "Authorization: Bearer $SK"; echo

# 9. PortOne V2: a registration whose client_params go to PortOne.requestIssueBillingKey
#    (the sandbox window stands in for it), confirmed with the billingKey it returns, then charged
BK2=$(post /v1/billing_keys -d "{\"customer_id\":\"$CUS\",\"provider\":\"portone\"}" | json id)
PKEY=$(curl -sS --fail-with-body $BILLINGD/sandbox/portone/sandbox/window/billing_keys -H 'Content-Type: application/json' \
  -d "{\"storeId\":\"$PORTONE_STORE\",\"channelKey\":\"$PORTONE_CHANNEL\",\"billingKeyMethod\":\"CARD\",\"issueId\":\"$BK2\",\"customer\":{\"customerId\":\"$CUS\"}}" | json billingKey)
post /v1/billing_keys/$BK2/confirm -d "{\"billing_key\":\"$PKEY\"}"; echo
post /v1/payments -H "Idempotency-Key: charge-$BK2" -d "{\"billing_key_id\":\"$BK2\",\"amount\":12000,\"order_name\":\"PortOne 결제\"}"; echo
`+walkthroughEnd+`
Keys and data persist in the data dir; run again to get the same ones. Ctrl-C stops.
`))
}

// The walkthrough sits between these lines, so a test can run it.
const (
	walkthroughStart = "# --- walkthrough ---"
	walkthroughEnd   = "# --- end ---"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
