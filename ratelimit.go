package gatehouse

import (
	"context"
	"fmt"
	"time"
)

// Limit allows N events per Per, with a burst of N: the budget refills
// continuously at one event every Per/N. A Limit with N or Per not positive
// is off: Allow always allows it.
type Limit struct {
	N   int
	Per time.Duration
}

// On reports whether the limit applies at all.
func (l Limit) On() bool { return l.N > 0 && l.Per > 0 }

// Interval is the time one event's budget takes to refill (Per/N).
func (l Limit) Interval() time.Duration { return l.Per / time.Duration(l.N) }

func (l Limit) String() string {
	if !l.On() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", l.N, l.Per)
}

// Decision is a rate limiter's answer.
type Decision struct {
	// Allowed is whether the event fits the budget. A denied event takes
	// nothing from the budget.
	Allowed bool
	// RetryAfter is, when denied, how long until the same cost would be
	// allowed; 0 when allowed.
	RetryAfter time.Duration
	// Remaining is how many events of cost 1 the budget still holds after
	// this decision.
	Remaining int
}

// RateLimiter decides whether events fit per-key budgets. Implementations
// keep one timestamp per key (GCRA, the generic cell rate algorithm), expire
// a key once its budget is full again, and must be safe for concurrent use.
// inmem.RateLimiter serves one process; redis.RateLimiter shares budgets
// between instances.
type RateLimiter interface {
	// Allow takes cost events from key's budget under l, atomically:
	//   - cost > 0: allowed and taken if the budget holds cost events, else
	//     denied and nothing is taken;
	//   - cost == 0: a question without effect: would one event be allowed?
	//     (RetryAfter and Remaining as for cost 1);
	//   - cost < 0: gives -cost events back (never past a full budget);
	//     always allowed.
	// A limit that is off always allows and stores nothing.
	Allow(ctx context.Context, key string, l Limit, cost int) (Decision, error)
	// Reset forgets key: its budget is full again.
	Reset(ctx context.Context, key string) error
}

// RateLimitedError is the hidden cause of a CodeRateLimited error: how long
// the client should wait (the HTTP layer sends it as Retry-After) and which
// budget ran out, for the log.
type RateLimitedError struct {
	RetryAfter time.Duration
	Scope      string // e.g. "login_ip", "login_account"
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited (%s): retry after %s", e.Scope, e.RetryAfter)
}

// GCRA is the decision of the generic cell rate algorithm, shared by the
// limiters so that every store answers alike. tat is the key's theoretical
// arrival time (zero or past: the budget is full); it returns the decision
// and the new tat to store (unchanged when nothing is to be written, which
// is when store is false).
//
// The budget is full when tat <= now and empty when tat >= now + l.Per; each
// event moves tat one Interval forward. One timestamp per key is all the
// state, which is why GCRA and not a sliding log.
func GCRA(now, tat time.Time, l Limit, cost int) (d Decision, newTAT time.Time, store bool) {
	if tat.Before(now) {
		tat = now
	}
	t := l.Interval()
	remaining := func(at time.Time) int { return min(int((l.Per-at.Sub(now))/t), l.N) }
	switch {
	case cost < 0:
		newTAT = tat.Add(time.Duration(cost) * t)
		if newTAT.Before(now) {
			newTAT = now
		}
		return Decision{Allowed: true, Remaining: remaining(newTAT)}, newTAT, true
	case cost == 0:
		need := tat.Add(t).Sub(now) - l.Per
		if need > 0 {
			return Decision{RetryAfter: need, Remaining: remaining(tat)}, tat, false
		}
		return Decision{Allowed: true, Remaining: remaining(tat)}, tat, false
	}
	newTAT = tat.Add(time.Duration(cost) * t)
	if need := newTAT.Sub(now) - l.Per; need > 0 {
		return Decision{RetryAfter: need, Remaining: remaining(tat)}, tat, false
	}
	return Decision{Allowed: true, Remaining: remaining(newTAT)}, newTAT, true
}
