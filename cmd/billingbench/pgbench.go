package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// chargeWrites is one charge's writes as billingd makes them, in the same
// transactions, for pgbench: the Postgres ceiling on this machine for the
// work a charge cannot avoid. Reads (the API key, the billing key with its
// customer and account, the webhook endpoints an event fans out to) are
// left out: they are billingd's overhead against this ceiling, not part
// of it.
//
// Keep it in step with internal/store: phase 1 claims the idempotency key
// and creates the payment in one statement (CreatePaymentAt), phase 2
// settles it, writes its event and stores the response (SettlePaymentTx,
// InsertEventAnswering) in one transaction.
//
// pgbench reads any colon followed by a name as a variable, string
// literals included: no literal here may contain one.
const chargeWrites = `\set n random(1, 999999999999999)
WITH claim AS (
	INSERT INTO idempotency_keys (merchant_id, mode, key, fingerprint, method, path, locked_at, recovery_point)
	VALUES (:merchant, 'test', 'pgbench-' || :n::text, '\x0102030405060708', 'POST', '/v1/payments', now(),
		'payment' || chr(58) || 'pay_pgbench' || :n::text)
	ON CONFLICT (merchant_id, mode, key) DO NOTHING
	RETURNING 1)
INSERT INTO payments (id, merchant_id, mode, customer_id, billing_key_id, provider_account_id, provider,
	amount, tax_free, currency, order_name, status, metadata)
	SELECT 'pay_pgbench' || :n::text, :merchant, 'test', :customer, :key, :account, 'iamport',
	1000, 0, 'KRW', 'bench', 'processing', '{}' WHERE EXISTS (SELECT FROM claim);
BEGIN;
UPDATE payments SET status = 'paid', provider_payment_id = 'imp_pgbench' || :n::text, pg = 'nice',
	card_name = '신한카드', card_number = '411111******1111', receipt_url = 'https://example.com/r',
	paid_at = now(), updated_at = now()
	WHERE id = 'pay_pgbench' || :n::text AND status = ANY ('{processing,unknown}');
INSERT INTO events (id, merchant_id, mode, type, object_type, object_id, data)
	VALUES ('evt_pgbench' || :n::text, :merchant, 'test', 'payment.paid', 'payment', 'pay_pgbench' || :n::text, :eventdata::jsonb);
UPDATE idempotency_keys SET response_status = 201, response_body = convert_to(:body, 'UTF8'),
	recovery_point = 'finished', locked_at = NULL
	WHERE merchant_id = :merchant AND mode = 'test' AND key = 'pgbench-' || :n::text;
COMMIT;
`

// pgbenchResult is the ceiling run's outcome.
type pgbenchResult struct {
	clients       int
	rate          float64 // the -R throttle; 0: as fast as it goes
	tps           float64
	failed        int
	p50, p90, p99 float64 // ms per charge's writes
	cpu           cpuUse
}

// runPgbench runs chargeWrites against billingd's database with rows of
// merchant m (foreign keys hold), using a real event's data and a real
// stored response as payloads; rate > 0 throttles it to that many per
// second (pgbench -R), to compare Postgres's CPU with billingd's at the
// same rate.
func (s *stack) runPgbench(ctx context.Context, m *merchant, clients int, rate float64, d time.Duration) (pgbenchResult, error) {
	res := pgbenchResult{clients: clients, rate: rate}
	bin, err := findPgbench(s.binDir)
	if err != nil {
		return res, err
	}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return res, err
	}
	var eventData, body string
	err = conn.QueryRow(ctx, `SELECT e.data::text, convert_from(k.response_body, 'UTF8') FROM events e, idempotency_keys k
		WHERE e.merchant_id = $1 AND e.type = 'payment.paid' AND k.merchant_id = $1 AND k.response_status = 201 LIMIT 1`, m.id).
		Scan(&eventData, &body)
	conn.Close(ctx)
	if err != nil {
		return res, fmt.Errorf("pgbench payloads (run a billingd arm first): %w", err)
	}

	dir := filepath.Join(s.tmp, "pgbench-"+randomHex(3))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	script := filepath.Join(dir, "charge.sql")
	if err := os.WriteFile(script, []byte(chargeWrites), 0o644); err != nil {
		return res, err
	}
	u, err := url.Parse(s.dbURL)
	if err != nil {
		return res, err
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(max(int(d.Seconds()), 1)), "-f", script,
		"-l", "--log-prefix", filepath.Join(dir, "log"),
		"-D", "merchant=" + m.id, "-D", "customer=" + m.customerID, "-D", "key=" + m.keys[0],
		"-D", "account=" + m.accountID, "-D", "eventdata=" + eventData, "-D", "body=" + body,
		strings.TrimPrefix(u.Path, "/")}
	if rate > 0 {
		args = append([]string{"-R", strconv.FormatFloat(rate, 'f', 0, 64)}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), pgEnv(u)...)
	cpuA := s.cpu()
	out, err := cmd.CombinedOutput()
	cpuB := s.cpu()
	if err != nil {
		return res, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	res.cpu = cpuBetween(cpuA, cpuB)
	// pgbench's own CPU is in neither snapshot's groups: count it as the
	// load generator's, like the HTTP arms' client.
	if ps := cmd.ProcessState; ps != nil {
		res.cpu.bench += (ps.UserTime() + ps.SystemTime()).Seconds() / cpuB.at.Sub(cpuA.at).Seconds()
	}
	text := string(out)
	m1 := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindStringSubmatch(text)
	if m1 == nil {
		return res, fmt.Errorf("pgbench: no tps in its output:\n%s", text)
	}
	res.tps, _ = strconv.ParseFloat(m1[1], 64)
	if m2 := regexp.MustCompile(`number of failed transactions: ([0-9]+)`).FindStringSubmatch(text); m2 != nil {
		res.failed, _ = strconv.Atoi(m2[1])
	}
	lat, err := pgbenchLatencies(dir)
	if err != nil {
		return res, err
	}
	res.p50, res.p90, res.p99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
	return res, nil
}

// pgbenchLatencies reads the per-transaction logs (-l): the third field is
// the latency in microseconds.
func pgbenchLatencies(dir string) ([]float64, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "log.*"))
	var lat []float64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			if us, err := strconv.ParseFloat(fields[2], 64); err == nil {
				lat = append(lat, us/1000)
			}
		}
		f.Close()
	}
	if len(lat) == 0 {
		return []float64{math.NaN()}, nil
	}
	return lat, nil
}

// findPgbench looks beside the server binaries pgcluster found, then on
// PATH.
func findPgbench(binDir string) (string, error) {
	if binDir != "" {
		p := filepath.Join(binDir, "pgbench")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	return "", errors.New("pgbench not found beside initdb or on PATH: install postgresql-contrib (Debian ships it with the server, in /usr/lib/postgresql/*/bin)")
}

// pgEnv turns a Postgres URL into libpq's environment.
func pgEnv(u *url.URL) []string {
	env := []string{"PGHOST=" + u.Hostname(), "PGDATABASE=" + strings.TrimPrefix(u.Path, "/")}
	if p := u.Port(); p != "" {
		env = append(env, "PGPORT="+p)
	}
	if u.User != nil {
		env = append(env, "PGUSER="+u.User.Username())
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
		}
	}
	if mode := u.Query().Get("sslmode"); mode != "" {
		env = append(env, "PGSSLMODE="+mode)
	}
	return env
}
