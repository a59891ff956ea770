package iamport_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/billingd/billingd/internal/providers"
)

// BenchmarkCharge measures charges per second through the adapter and the
// sandbox over real HTTP (loopback), from parallel callers.
func BenchmarkCharge(b *testing.B) {
	bd := setup(b)
	bd.mustWindowKey(b, "cus_bench")
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := n.Add(1)
			if _, err := bd.client.Charge(ctx, providers.ChargeRequest{
				OrderID: fmt.Sprint("pay_bench_", id), BillingKey: "cus_bench", Amount: 1000,
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "charges/s")
}
