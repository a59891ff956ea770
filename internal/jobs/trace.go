package jobs

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// traceMiddleware gives every worked job a span of its own, as requests
// have, named by the job's kind so ids never become span names. It carries
// the kind, attempt, queue and outcome, never the job's args: they hold
// object ids, and the error text may quote a PG's reply, so an error sets
// the span's status to the outcome alone.
func traceMiddleware(tp trace.TracerProvider) rivertype.WorkerMiddleware {
	tracer := tp.Tracer("github.com/billingd/billingd/internal/jobs")
	return river.WorkerMiddlewareFunc(func(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
		ctx, span := tracer.Start(ctx, job.Kind, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				attribute.String("messaging.system", "river"),
				attribute.String("job.kind", job.Kind),
				attribute.Int("job.attempt", job.Attempt),
				attribute.String("job.queue", job.Queue),
			))
		defer span.End()
		err := doInner(ctx)
		outcome := jobOutcome(err)
		span.SetAttributes(attribute.String("job.outcome", outcome))
		if outcome == "error" || outcome == "cancel" {
			span.SetStatus(codes.Error, outcome)
		}
		return err
	})
}
