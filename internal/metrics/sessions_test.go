package metrics

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCount is a session count whose answers and calls the test controls.
type fakeCount struct {
	mu    sync.Mutex
	n     int64
	err   error
	calls int
}

func (f *fakeCount) count(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if _, ok := ctx.Deadline(); !ok {
		return 0, context.DeadlineExceeded // every count must be bounded
	}
	return f.n, f.err
}

func (f *fakeCount) set(n int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n, f.err = n, err
}

func TestActiveSessions(t *testing.T) {
	t.Parallel()
	const every = time.Minute
	// Each step moves the clock, sets the store's answer, scrapes, and
	// checks the gauge (-1: absent), the errors counter and the count calls.
	type step struct {
		advance    time.Duration
		n          int64
		err        error
		wantGauge  int64
		wantErrors int
		wantCalls  int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first scrape counts", []step{
			{n: 5, wantGauge: 5, wantCalls: 1},
		}},
		{"cached until the interval passes", []step{
			{n: 5, wantGauge: 5, wantCalls: 1},
			{advance: 10 * time.Second, n: 6, wantGauge: 5, wantCalls: 1},
			{advance: 49 * time.Second, n: 7, wantGauge: 5, wantCalls: 1},
			{advance: time.Second, n: 8, wantGauge: 8, wantCalls: 2},
		}},
		{"a failure keeps the last value and is not retried at once", []step{
			{n: 5, wantGauge: 5, wantCalls: 1},
			{advance: every, err: errDown, wantGauge: 5, wantErrors: 1, wantCalls: 2},
			{advance: time.Second, n: 9, wantGauge: 5, wantErrors: 1, wantCalls: 2},
			{advance: every, n: 9, wantGauge: 9, wantErrors: 1, wantCalls: 3},
		}},
		{"absent until a count succeeds", []step{
			{err: errDown, wantGauge: -1, wantErrors: 1, wantCalls: 1},
			{advance: every, n: 3, wantGauge: 3, wantErrors: 1, wantCalls: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			m.now = func() time.Time { return now }
			f := &fakeCount{}
			m.ActiveSessions(f.count, every)
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				f.set(s.n, s.err)
				body := scrape(t, m)
				gauge := gaugeLine(body, "gatehouse_active_sessions")
				want := ""
				if s.wantGauge >= 0 {
					want = "gatehouse_active_sessions " + strconv.FormatInt(s.wantGauge, 10)
				}
				if gauge != want {
					t.Errorf("step %d: gauge line %q, want %q", i, gauge, want)
				}
				wantErrors := "gatehouse_active_sessions_refresh_errors_total " + strconv.Itoa(s.wantErrors)
				if got := gaugeLine(body, "gatehouse_active_sessions_refresh_errors_total"); got != wantErrors {
					t.Errorf("step %d: %q, want %q", i, got, wantErrors)
				}
				if f.calls != s.wantCalls {
					t.Errorf("step %d: count ran %d times, want %d", i, f.calls, s.wantCalls)
				}
			}
		})
	}
}

func TestActiveSessionsDefaultInterval(t *testing.T) {
	t.Parallel()
	m := New()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	f := &fakeCount{n: 1}
	m.ActiveSessions(f.count, 0)
	scrape(t, m)
	now = now.Add(DefaultSessionsEvery - time.Nanosecond)
	scrape(t, m)
	if f.calls != 1 {
		t.Errorf("count ran %d times within DefaultSessionsEvery, want 1", f.calls)
	}
}

// gaugeLine returns the sample line of an unlabelled metric, or "".
func gaugeLine(body, name string) string {
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
