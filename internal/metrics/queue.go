package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueCount is how many jobs of one queue are in one state.
type QueueCount struct {
	Queue string
	State string
	Count int64
}

// QueueCounter reads the job table's counts (store.JobCounts).
type QueueCounter func(ctx context.Context) ([]QueueCount, error)

// RegisterQueueDepth exports the job queue's depth by queue and state,
// read from the database at scrape time: every replica sees the same
// queue, so any one answers for all (aggregate with max, not sum).
func (m *Metrics) RegisterQueueDepth(count QueueCounter) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&queueCollector{count: count,
		depth: prometheus.NewDesc("billingd_job_queue_depth", "River jobs by queue and state (available, scheduled, retryable, running, pending).",
			[]string{"queue", "state"}, nil),
		up: prometheus.NewDesc("billingd_job_queue_depth_up", "1 when the last queue-depth read succeeded.", nil, nil),
	})
}

type queueCollector struct {
	count     QueueCounter
	depth, up *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.up }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	// A slow database must not hang the scrape.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, q := range counts {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(q.Count), q.Queue, q.State)
	}
}
