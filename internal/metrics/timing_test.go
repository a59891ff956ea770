package metrics

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

var timingHeader = regexp.MustCompile(`^app;dur=(\d+\.\d\d), pg;dur=(\d+\.\d\d)$`)

func parseTiming(t *testing.T, h string) (app, pg float64) {
	t.Helper()
	m := timingHeader.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("Server-Timing %q", h)
	}
	app, _ = strconv.ParseFloat(m[1], 64)
	pg, _ = strconv.ParseFloat(m[2], 64)
	return app, pg
}

// buffered mimics the idempotency recorder: the handler writes into a
// buffer, which is copied to the real writer afterwards.
func buffered(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func TestServerTiming(t *testing.T) {
	t.Parallel()
	pg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond)
		_, _ = io.WriteString(w, `{"code":0}`)
	}))
	t.Cleanup(pg.Close)
	client := &http.Client{Transport: PGTransport(nil)}
	callPG := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, pg.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		w.WriteHeader(http.StatusCreated)
	})

	for _, tc := range []struct {
		name    string
		handler http.Handler
		minPG   float64
	}{
		{"WriteOnly", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }), 0},
		{"PGCall", callPG, 30},
		{"BufferedResponse", buffered(callPG), 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			ServerTiming(tc.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			app, pgMS := parseTiming(t, rec.Header().Get("Server-Timing"))
			if pgMS < tc.minPG || (tc.minPG == 0 && pgMS != 0) || app < 0 {
				t.Fatalf("app %.2f pg %.2f, want pg >= %.0f", app, pgMS, tc.minPG)
			}
		})
	}

	t.Run("OutsideARequest", func(t *testing.T) {
		t.Parallel()
		resp, err := client.Get(pg.URL) // a job's PG call: no accumulator, no panic
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
}

func TestMiddlewareLabelsByRoutePattern(t *testing.T) {
	t.Parallel()
	m := New()
	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.Get("/v1/payments/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	for _, path := range []string{"/v1/payments/pay_1", "/v1/payments/pay_2", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/nowhere", nil))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`billingd_http_request_duration_seconds_count{method="GET",route="/v1/payments/{id}",status="404"} 2`,
		`billingd_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		`billingd_http_request_duration_seconds_count{method="other",route="unmatched"`,
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if bytes.Contains(rec.Body.Bytes(), []byte("pay_1")) {
		t.Fatal("a path became a label")
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.ObserveHTTP("/", "GET", 200, time.Second)
	m.ObservePGCall("iamport", "charge", "ok", time.Second)
	m.AddTokenRefreshes("iamport", 1)
	m.ObserveJob("k", "ok")
	m.ObserveWebhookAttempt("succeeded")
	m.ObserveWebhookDelivery("delivered")
	m.RegisterQueueDepth(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
}
