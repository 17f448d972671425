package redis

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// memLimiter is a stand-in for inmem.RateLimiter (adapters do not import
// one another): it counts the calls that reach it and allows one event per
// key.
type memLimiter struct {
	mu    sync.Mutex
	seen  map[string]int
	calls int
}

func (m *memLimiter) Allow(_ context.Context, key string, l gatehouse.Limit, cost int) (gatehouse.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.seen == nil {
		m.seen = map[string]int{}
	}
	if m.seen[key]+cost > l.N {
		return gatehouse.Decision{RetryAfter: l.Per}, nil
	}
	m.seen[key] += cost
	return gatehouse.Decision{Allowed: true, Remaining: l.N - m.seen[key]}, nil
}

func (m *memLimiter) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, key)
	return nil
}

// TestRateLimiterSharedBudget runs the GCRA script against a real Redis:
// two instances (two Clients) with one prefix draw on one budget, another
// prefix has its own, and the script answers as gatehouse.GCRA does.
func TestRateLimiterSharedBudget(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	prefix := testPrefix(t, url)
	clk := newClock()
	a := openTest(t, url, prefix, clk, nil).RateLimiter(&memLimiter{})
	b := openTest(t, url, prefix, clk, nil).RateLimiter(&memLimiter{})
	other := openTest(t, url, testPrefix(t, url), clk, nil).RateLimiter(&memLimiter{})
	ctx := context.Background()
	lim := gatehouse.Limit{N: 4, Per: time.Minute}

	allow := func(l *RateLimiter, cost int) gatehouse.Decision {
		t.Helper()
		d, err := l.Allow(ctx, "login:ip:192.0.2.1", lim, cost)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	steps := []struct {
		name    string
		l       *RateLimiter
		advance time.Duration
		cost    int
		want    gatehouse.Decision
	}{
		{"A takes 2", a, 0, 2, gatehouse.Decision{Allowed: true, Remaining: 2}},
		{"B takes 2 of the same budget", b, 0, 2, gatehouse.Decision{Allowed: true, Remaining: 0}},
		{"A is refused", a, 0, 1, gatehouse.Decision{RetryAfter: 15 * time.Second}},
		{"B asks (cost 0)", b, 0, 0, gatehouse.Decision{RetryAfter: 15 * time.Second}},
		{"another prefix is another budget", other, 0, 4, gatehouse.Decision{Allowed: true, Remaining: 0}},
		{"one event refilled after 15 s", b, 15 * time.Second, 1, gatehouse.Decision{Allowed: true, Remaining: 0}},
		{"A gives one back", a, 0, -1, gatehouse.Decision{Allowed: true, Remaining: 1}},
		{"B takes it", b, 0, 1, gatehouse.Decision{Allowed: true, Remaining: 0}},
	}
	for _, s := range steps {
		clk.add(s.advance)
		if got := allow(s.l, s.cost); got != s.want {
			t.Errorf("%s: %+v, want %+v", s.name, got, s.want)
		}
	}
	// The script agrees with the reference implementation: the budget is
	// empty (tat = now + Per).
	want, _, _ := gatehouse.GCRA(clk.now(), clk.now().Add(time.Minute), lim, 1)
	if got := allow(a, 1); got != want {
		t.Errorf("script %+v, gatehouse.GCRA %+v", got, want)
	}
	if err := b.Reset(ctx, "login:ip:192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if got := allow(a, 4); !got.Allowed {
		t.Errorf("after B's Reset, A: %+v", got)
	}

	// The key expires once its budget is full again: Redis holds no dead keys.
	ttl, err := a.c.rdb.PTTL(ctx, prefix+"rl:login:ip:192.0.2.1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("key TTL = %v (%v), want within the limit's minute", ttl, err)
	}
}

// TestRateLimiterFallsBack checks that a Redis that does not answer hands
// decisions to the in-process limiter: limits still hold, per instance.
func TestRateLimiterFallsBack(t *testing.T) {
	t.Parallel()
	c := newClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}, Options{CommandTimeout: 50 * time.Millisecond, Now: newClock().now})
	defer c.Close()
	local := &memLimiter{}
	l := c.RateLimiter(local)
	ctx := context.Background()
	lim := gatehouse.Limit{N: 1, Per: time.Hour}
	for i, want := range []bool{true, false, false, false, false} {
		d, err := l.Allow(ctx, "k", lim, 1)
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if d.Allowed != want {
			t.Errorf("attempt %d: allowed %v, want %v", i, d.Allowed, want)
		}
	}
	if local.calls != 5 {
		t.Errorf("the fallback decided %d of 5 times", local.calls)
	}
	if c.Stats().Healthy {
		t.Error("Redis still counted healthy after the failures")
	}
}
