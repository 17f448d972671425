package inmem

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

func TestRateLimiterGCRA(t *testing.T) {
	t.Parallel()
	lim := gatehouse.Limit{N: 4, Per: time.Minute} // one event refills every 15 s
	type step struct {
		advance    time.Duration
		cost       int
		allowed    bool
		retryAfter time.Duration
		remaining  int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst of N then denied", []step{
			{0, 1, true, 0, 3}, {0, 1, true, 0, 2}, {0, 1, true, 0, 1}, {0, 1, true, 0, 0},
			{0, 1, false, 15 * time.Second, 0},
			{14 * time.Second, 1, false, time.Second, 0},
			{time.Second, 1, true, 0, 0},
		}},
		{"a denied event takes nothing", []step{
			{0, 4, true, 0, 0},
			{0, 1, false, 15 * time.Second, 0}, {0, 1, false, 15 * time.Second, 0},
			{15 * time.Second, 1, true, 0, 0},
		}},
		{"cost larger than the budget left", []step{
			{0, 3, true, 0, 1},
			{0, 2, false, 15 * time.Second, 1},
			{0, 1, true, 0, 0},
		}},
		{"cost larger than the whole budget never passes", []step{
			{0, 5, false, 15 * time.Second, 4},
		}},
		{"cost 0 asks without taking", []step{
			{0, 0, true, 0, 4},
			{0, 4, true, 0, 0},
			{0, 0, false, 15 * time.Second, 0},
			{15 * time.Second, 0, true, 0, 1},
			{0, 0, true, 0, 1},
		}},
		{"negative cost gives back, never past full", []step{
			{0, 4, true, 0, 0},
			{0, -1, true, 0, 1},
			{0, 1, true, 0, 0},
			{0, -10, true, 0, 4},
			{0, 4, true, 0, 0},
		}},
		{"refills fully after Per", []step{
			{0, 4, true, 0, 0},
			{time.Minute, 4, true, 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			l := NewRateLimiter(clk.now)
			for i, s := range tt.steps {
				clk.t = clk.t.Add(s.advance)
				d, err := l.Allow(context.Background(), "k", lim, s.cost)
				if err != nil {
					t.Fatal(err)
				}
				want := gatehouse.Decision{Allowed: s.allowed, RetryAfter: s.retryAfter, Remaining: s.remaining}
				if d != want {
					t.Errorf("step %d (cost %d): %+v, want %+v", i, s.cost, d, want)
				}
			}
		})
	}
}

func TestRateLimiterKeysAndReset(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l := NewRateLimiter(clk.now)
	ctx := context.Background()
	lim := gatehouse.Limit{N: 1, Per: time.Hour}
	if d, _ := l.Allow(ctx, "a", lim, 1); !d.Allowed {
		t.Fatal("first event denied")
	}
	if d, _ := l.Allow(ctx, "b", lim, 1); !d.Allowed {
		t.Error("keys share a budget")
	}
	if d, _ := l.Allow(ctx, "a", lim, 1); d.Allowed || d.RetryAfter != time.Hour {
		t.Errorf("second event: %+v", d)
	}
	l.Reset(ctx, "a")
	if d, _ := l.Allow(ctx, "a", lim, 1); !d.Allowed {
		t.Error("denied after Reset")
	}
	if d, _ := l.Allow(ctx, "c", gatehouse.Limit{}, 100); !d.Allowed {
		t.Error("an off limit denied")
	}
}

// TestRateLimiterBounded checks that keys whose budget is full again are
// dropped, so an attacker inventing keys cannot grow the map for good.
func TestRateLimiterBounded(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l := NewRateLimiter(clk.now)
	ctx := context.Background()
	lim := gatehouse.Limit{N: 10, Per: time.Minute}
	for round := range 5 {
		for i := range 20 * minSweep {
			l.Allow(ctx, fmt.Sprintf("r%d-k%d", round, i), lim, 1)
		}
		clk.t = clk.t.Add(time.Minute) // every key of this round is full again
	}
	if n := l.Len(); n > 2*20*minSweep {
		t.Errorf("%d keys held after 5 rounds of %d short-lived keys", n, 20*minSweep)
	}
	// A give-back to a full budget stores nothing.
	l2 := NewRateLimiter(clk.now)
	l2.Allow(ctx, "x", lim, 1)
	l2.Allow(ctx, "x", lim, -1)
	if n := l2.Len(); n != 0 {
		t.Errorf("a full budget is still held: %d keys", n)
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l := NewRateLimiter(func() time.Time { return time.Unix(1_700_000_000, 0) })
	lim := gatehouse.Limit{N: 50, Per: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 200 {
		wg.Go(func() {
			if d, _ := l.Allow(context.Background(), "k", lim, 1); d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("%d of 200 concurrent events allowed, want exactly 50", allowed)
	}
}
