package redis

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestOutageAndRecovery stops and restarts a Redis of its own under an
// instance: checks fall back to the local set, the outage is reported and
// logged once, and everything resumes when Redis returns, the subscriber
// included.
func TestOutageAndRecovery(t *testing.T) {
	t.Parallel()
	testURL(t) // an integration test like the others, though it runs its own server
	srv := startRedisServer(t, filepath.Join(t.TempDir(), "redis.sock"))
	clk := newClock()
	logs := &logRecorder{}
	store := &logStore{}
	ctx := context.Background()
	c, err := Open(ctx, srv.url(), Options{Logger: slog.New(logs), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := newLocalSet(store, clk.now)
	revs := c.Revocations(local, store)
	l := listen(t, c, func() { revs.Sync(ctx) })
	waitFor(t, "the first subscription", func() bool { return l.syncCount() == 1 })

	srv.stop()

	// The first checks fail (fast: nothing listens on the socket), then Redis is down and
	// no longer asked.
	for range failureThreshold + 50 {
		if revs.Revoked("live") {
			t.Fatal("an unanswered check said revoked")
		}
	}
	st := c.Stats()
	if st.Healthy || st.Failures != failureThreshold || st.Skipped != 50 {
		t.Fatalf("stats during the outage = %+v, want down after %d failures, 50 skipped", st, failureThreshold)
	}

	// A revocation made through this instance during the outage: refused
	// here at once (local set), written to Redis once it is back.
	store.add("during", clk.now().Add(time.Hour))
	if err := revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !revs.Revoked("during") {
		t.Error("revocation made during the outage not refused here")
	}

	srv = startRedisServer(t, srv.socket) // empty: nothing persisted
	// Within the back-off Redis is still not asked; after it, one probe finds
	// it back, even on an instance that has no requests and nothing to write:
	// its periodic sync probes.
	revs.Revoked("live")
	if st := c.Stats(); st.Healthy {
		t.Fatal("asked Redis during the back-off")
	}
	clk.add(backOff)
	idle := c.Revocations(newLocalSet(&logStore{}, clk.now), &logStore{})
	if err := idle.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); !st.Healthy || st.Failures != 0 || st.LastError == "" || st.Since != clk.now() {
		t.Fatalf("stats after recovery = %+v", st)
	}

	// The subscriber reconnected by itself and synced: announcements made
	// during the outage were lost.
	waitFor(t, "the subscriber's sync after reconnecting", func() bool { return l.syncCount() >= 2 })
	// The periodic sync writes what could not be written during the outage.
	if err := revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.rdb.Exists(ctx, c.revokedPrefix+"during").Result(); n != 1 {
		t.Error("revocation made during the outage not written to Redis after it")
	}
	other, err := Open(ctx, srv.url(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.UserChanged(ctx, 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an announcement after the outage", func() bool { return l.heard(5) })

	if n := logs.count(slog.LevelError); n != 1 {
		t.Errorf("%d error logs for one outage, want 1", n)
	}
	recovered := 0
	logs.mu.Lock()
	for _, r := range logs.recs {
		if r.Level == slog.LevelInfo && r.Message == "redis answers again: revocations are shared at once again" {
			recovered++
		}
	}
	logs.mu.Unlock()
	if recovered != 1 {
		t.Errorf("%d recovery logs, want 1", recovered)
	}
}
