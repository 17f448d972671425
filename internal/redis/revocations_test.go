package redis

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// instance is one gatehouse process: its Client and revocation set over the
// shared database.
type instance struct {
	c     *Client
	local *localSet
	revs  *Revocations
}

func newInstance(tb testing.TB, url, prefix string, store *logStore, clk *clock) *instance {
	tb.Helper()
	c := openTest(tb, url, prefix, clk, nil)
	local := newLocalSet(store, clk.now)
	return &instance{c: c, local: local, revs: c.Revocations(local, store)}
}

func TestRevokedAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	prefix := testPrefix(t, url)
	clk := newClock()
	store := &logStore{}
	a := newInstance(t, url, prefix, store, clk)
	b := newInstance(t, url, prefix, store, clk)
	ctx := context.Background()

	// A session is revoked through instance A (the store commits, auth syncs).
	exp := clk.now().Add(10 * time.Minute)
	store.add("s1", exp)
	if err := a.revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if b.local.Revoked("s1") {
		t.Fatal("test setup: B's local set already knows s1")
	}
	if !b.revs.Revoked("s1") {
		t.Error("B does not refuse s1 on the next request")
	}
	if b.revs.Revoked("s2") {
		t.Error("B refuses a session nobody revoked")
	}

	// The key lives as long as the session's access tokens verify.
	ttl, err := a.c.rdb.PTTL(ctx, prefix+"revoked:s1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := 10*time.Minute + DefaultLeeway; ttl > want || ttl < want-time.Minute {
		t.Errorf("key TTL %v, want about %v (exp + leeway)", ttl, want)
	}

	// A revocation made by a process without Redis (an operator's command)
	// reaches Redis through whichever instance syncs next.
	store.add("s3", exp)
	if err := b.revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if a.local.Revoked("s3") || !a.revs.Revoked("s3") {
		t.Error("A does not refuse s3 through Redis after B's sync")
	}

	// A restored database whose log is shorter than the cursor: what it logs
	// next is still written.
	if err := a.revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	store.log = nil
	store.mu.Unlock()
	store.add("s4", exp)
	if err := a.revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.c.rdb.Exists(ctx, prefix+"revoked:s4").Result(); n != 1 {
		t.Error("revocation logged after the log went back not written")
	}
}

// The first Sync writes every live revocation, in batches.
func TestSyncWritesBacklog(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	prefix := testPrefix(t, url)
	clk := newClock()
	store := &logStore{}
	n := 2*pushBatch + 17
	for i := range n {
		store.add("s"+strconv.Itoa(i), clk.now().Add(time.Hour))
	}
	store.add("expired", clk.now().Add(-time.Second))
	a := newInstance(t, url, prefix, store, clk)
	if err := a.revs.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys, err := a.c.rdb.Keys(ctx, prefix+"revoked:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != n {
		t.Errorf("%d keys, want %d (every live revocation, no expired one)", len(keys), n)
	}
	if a.revs.cursor != int64(n+1) {
		t.Errorf("cursor %d, want the log's head %d", a.revs.cursor, n+1)
	}
}

func BenchmarkRevoked(b *testing.B) {
	url := testURL(b)
	prefix := testPrefix(b, url)
	clk := newClock()
	store := &logStore{}
	store.add("revoked", clk.now().Add(time.Hour))
	in := newInstance(b, url, prefix, store, clk)
	if err := in.revs.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, sid string }{
		{"local hit", "revoked"},              // answered by the local set
		{"redis round trip", "R4CZ6UVQKQ4DS"}, // the common case: a live session
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in.revs.Revoked(bc.sid)
			}
		})
		b.Run(bc.name+" parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					in.revs.Revoked(bc.sid)
				}
			})
		})
	}
	if st := in.c.Stats(); !st.Healthy || st.Failures != 0 {
		b.Errorf("Redis failed during the benchmark: %+v", st)
	}
}
