package tracing

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestSpansReachTheCollector runs a request through the traced router and
// a traced PG call, and checks an OTLP/HTTP collector received spans named
// by route, without the request's secrets.
func TestSpansReachTheCollector(t *testing.T) {
	var (
		mu       sync.Mutex
		received []byte
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, b...)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	if !Enabled() {
		t.Fatal("Enabled() with the endpoint set")
	}
	shutdown, err := Setup(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	pg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer pg.Close()
	client := &http.Client{Transport: Transport(http.DefaultTransport)}
	r := chi.NewRouter()
	r.Get("/v1/payments/{id}", func(w http.ResponseWriter, req *http.Request) {
		resp, err := client.Get(pg.URL + "/payments/imp_1")
		if err == nil {
			resp.Body.Close()
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(Handler(r))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/payments/pay_1?token=hunter2", nil)
	req.Header.Set("Authorization", "Bearer sk_test_neverexported")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"GET /v1/payments/{id}", "PG GET", "billingd"} {
		if !bytes.Contains(received, []byte(want)) {
			t.Errorf("the collector got no %q", want)
		}
	}
	for _, secret := range []string{"sk_test_neverexported", "hunter2"} {
		if bytes.Contains(received, []byte(secret)) {
			t.Errorf("a span carries %q", secret)
		}
	}
}
