package inmem

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// logStore is a SessionStore holding only a revocation log.
type logStore struct {
	gatehouse.SessionStore
	mu  sync.Mutex
	log []gatehouse.Revocation
}

func (s *logStore) add(sid string, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, gatehouse.Revocation{Seq: int64(len(s.log) + 1), SessionID: sid, ExpiresAt: exp})
}

func (s *logStore) RevocationsSince(_ context.Context, seq int64, now time.Time) ([]gatehouse.Revocation, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []gatehouse.Revocation
	for _, r := range s.log {
		if r.Seq > seq && now.Before(r.ExpiresAt) {
			out = append(out, r)
		}
	}
	return out, int64(len(s.log)), nil
}

func TestRevocationsSyncAndExpire(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	store := &logStore{}
	r := NewRevocations(store, clk.now, nil)
	ctx := context.Background()

	store.add("a", clk.t.Add(time.Minute))
	if r.Revoked("a") {
		t.Fatal("revoked before Sync")
	}
	changed := r.Changed()
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.Revoked("a") || r.Revoked("b") {
		t.Fatal("Sync did not pick up the log")
	}
	select {
	case <-changed:
	default:
		t.Error("Changed was not signalled")
	}
	// A sync with nothing new does not signal.
	quiet := r.Changed()
	r.Sync(ctx)
	select {
	case <-quiet:
		t.Error("signalled without news")
	default:
	}
	// Entries go once their access tokens have expired.
	clk.t = clk.t.Add(2 * time.Minute)
	r.Sync(ctx)
	if r.Revoked("a") || r.Len() != 0 {
		t.Error("expired revocation kept")
	}
}

func TestRevocationsResyncAfterLogReset(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	store := &logStore{}
	r := NewRevocations(store, clk.now, nil)
	for _, sid := range []string{"a", "b", "c"} {
		store.add(sid, clk.t.Add(time.Hour))
	}
	r.Sync(context.Background())
	// The database is restored from a backup that has fewer entries.
	store.mu.Lock()
	store.log = nil
	store.mu.Unlock()
	store.add("z", clk.t.Add(time.Hour))
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !r.Revoked("z") {
		t.Error("revocation logged after the reset was missed")
	}
}

func BenchmarkRevoked(b *testing.B) {
	store := &logStore{}
	r := NewRevocations(store, nil, nil)
	for i := range 10000 {
		store.add(string(rune('a'+i%26))+time.Duration(i).String(), time.Now().Add(time.Hour))
	}
	r.Sync(context.Background())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Revoked("R4CZ6UVQKQ4DS2W7ZXKCNMH7QA")
		}
	})
}
