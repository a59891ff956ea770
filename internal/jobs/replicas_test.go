package jobs

import (
	"context"
	"testing"

	"github.com/billingd/billingd/internal/store/storetest"
)

// A job left running by a replica that stopped heartbeating goes back to
// the queue on the next rescue (or is discarded when it has no attempt
// left); a live replica's running job and a job of a client that never
// registered are not touched.
func TestRescueHandsBackOnlyDeadReplicasJobs(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	db := st.Pool()
	for _, id := range []string{"dead", "live"} {
		if err := st.Heartbeat(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `UPDATE replicas SET heartbeat_at = now() - interval '20 seconds' WHERE client_id = 'dead'`); err != nil {
		t.Fatal(err)
	}
	insert := func(holder string, attempt, max int) int64 {
		var id int64
		err := db.QueryRow(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, attempted_by)
			VALUES ('{}', 'renew_subscription', $3, 'default', 'running', $2, now() - interval '20 seconds', ARRAY['earlier', $1])
			RETURNING id`, holder, attempt, max).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	deadJob, deadLast, liveJob, strangerJob := insert("dead", 1, 25), insert("dead", 1, 1), insert("live", 1, 25), insert("stranger", 1, 25)

	n, err := st.RescueJobsOfDeadReplicas(ctx, DeadAfter)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("rescued %d jobs, want 2 (the dead replica's)", n)
	}
	for id, want := range map[int64]string{deadJob: "available", deadLast: "discarded", liveJob: "running", strangerJob: "running"} {
		var state string
		if err := db.QueryRow(ctx, `SELECT state::text FROM river_job WHERE id = $1`, id).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != want {
			t.Errorf("job %d is %s, want %s", id, state, want)
		}
	}

	// A replica that stops gracefully is dead at once.
	if err := st.ReplicaStopped(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RescueJobsOfDeadReplicas(ctx, DeadAfter); err != nil || n != 1 {
		t.Fatalf("after a graceful stop rescued %d, %v; want the stopped replica's 1 job", n, err)
	}
}
