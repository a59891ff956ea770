package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server-Timing: every response says how long billingd worked on it
// ("app") and how long it waited on PGs ("pg"), in milliseconds, so a
// merchant can tell a slow billingd from a slow PG:
//
//	Server-Timing: app;dur=3.21, pg;dur=812.40
//
// The PG time is measured where it is spent, on the PG HTTP transport
// (PGTransport), so it covers every adapter call, token refreshes and the
// PG-specific calls (certificates, user tokens, schedules) alike. Calls
// made in parallel within one request add up.

type timingKey struct{}

type timing struct {
	pg atomic.Int64 // nanoseconds
}

// AddPGWait adds d to the PG time of the request whose context ctx is (or
// derives from, detached contexts included); outside a request it does
// nothing.
func AddPGWait(ctx context.Context, d time.Duration) {
	if t, ok := ctx.Value(timingKey{}).(*timing); ok {
		t.pg.Add(int64(d))
	}
}

// PGWait returns the PG time accumulated so far in ctx's request.
func PGWait(ctx context.Context) time.Duration {
	if t, ok := ctx.Value(timingKey{}).(*timing); ok {
		return time.Duration(t.pg.Load())
	}
	return 0
}

// ServerTiming puts a PG-time accumulator in each request's context and
// writes the Server-Timing header just before the response's headers go
// out. Handlers that buffer (the idempotency recorder) write the real
// header later, through this writer, so a replayed response gets timings
// of its own run, never stored ones.
func ServerTiming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := &timing{}
		tw := &timingWriter{ResponseWriter: w, start: time.Now(), t: t}
		next.ServeHTTP(tw, r.WithContext(context.WithValue(r.Context(), timingKey{}, t)))
	})
}

type timingWriter struct {
	http.ResponseWriter
	start       time.Time
	t           *timing
	wroteHeader bool
}

func (w *timingWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		total := time.Since(w.start)
		pg := time.Duration(w.t.pg.Load())
		app := max(total-pg, 0)
		w.Header().Set("Server-Timing", fmt.Sprintf("app;dur=%.2f, pg;dur=%.2f", ms(app), ms(pg)))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *timingWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *timingWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *timingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// PGTransport wraps the PG HTTP transport so that the time from sending a
// request until its response body is read or closed counts as PG time.
func PGTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return pgTransport{base: base}
}

type pgTransport struct{ base http.RoundTripper }

func (t pgTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if _, ok := ctx.Value(timingKey{}).(*timing); !ok {
		return t.base.RoundTrip(req) // not inside a request (a job): nothing to add to
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		AddPGWait(ctx, time.Since(start))
		return resp, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, ctx: ctx, start: start}
	return resp, nil
}

// timedBody stops the clock at the body's end or close, whichever is first.
type timedBody struct {
	io.ReadCloser
	ctx   context.Context
	start time.Time
	once  sync.Once
}

func (b *timedBody) done() {
	b.once.Do(func() { AddPGWait(b.ctx, time.Since(b.start)) })
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.done()
	return b.ReadCloser.Close()
}
