package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store/storetest"
)

// TestJobsAreTraced works one job that succeeds and one that fails on a
// real River client and checks each got a span named by its kind, with
// its attempt, queue and outcome, and nothing of its args.
func TestJobsAreTraced(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	deps := &Deps{Store: st}
	client, err := NewClient(st.Pool(), deps, Options{Logger: zerolog.Nop(), Tracer: tp})
	if err != nil {
		t.Fatal(err)
	}
	deps.Payments = payments.New(payments.Options{Store: st})
	ctx := t.Context()
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	})
	const missing = "pay_0000000000000000000000missing" // Reconcile fails: no such payment
	for _, args := range []river.JobArgs{PruneIdempotencyArgs{}, payments.ReconcileArgs{PaymentID: missing}} {
		if _, err := client.Insert(ctx, args, nil); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]struct {
		outcome string
		status  codes.Code
	}{
		"prune_idempotency_keys": {"ok", codes.Unset},
		"reconcile_payment":      {"error", codes.Error},
	}
	got := map[string]sdktrace.ReadOnlySpan{}
	for deadline := time.Now().Add(10 * time.Second); len(got) < len(want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("spans after 10 s: %v", keys(got))
		}
		for _, s := range recorder.Ended() {
			if _, ok := want[s.Name()]; ok {
				got[s.Name()] = s
			}
		}
	}
	for name, w := range want {
		s := got[name]
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if attrs["job.kind"] != name || attrs["job.attempt"] != "1" || attrs["job.queue"] != river.QueueDefault || attrs["job.outcome"] != w.outcome {
			t.Errorf("%s: attributes %v", name, attrs)
		}
		if s.Status().Code != w.status {
			t.Errorf("%s: status %v, want %v", name, s.Status(), w.status)
		}
		for k, v := range attrs {
			if strings.Contains(v, missing) {
				t.Errorf("%s: attribute %s carries the job's args", name, k)
			}
		}
		if strings.Contains(s.Status().Description, missing) || len(s.Events()) != 0 {
			t.Errorf("%s: status %q, %d events: the error's text leaked", name, s.Status().Description, len(s.Events()))
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
