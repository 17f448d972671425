package inmem

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// rateShards spreads keys over independently locked maps, so that logins of
// different users rarely wait for one another's lock.
const rateShards = 32

// RateLimiter is the in-process gatehouse.RateLimiter (GCRA), for one
// instance; several instances share budgets through redis.RateLimiter.
//
// Memory is bounded by what attackers can make it hold: a key is kept only
// while its budget is not full again (its tat is in the future), and
// expired keys are swept from a shard whenever that shard has grown by half
// since its last sweep, so the map never holds many more keys than are live.
// A live key lives at most its limit's Per.
type RateLimiter struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [rateShards]rateShard
}

type rateShard struct {
	mu        sync.Mutex
	tats      map[string]time.Time
	sweepSize int // sweep again when len(tats) reaches this
}

var _ gatehouse.RateLimiter = (*RateLimiter)(nil)

// minSweep is the size below which a shard is never swept: small maps cost
// nothing to keep.
const minSweep = 1024

// NewRateLimiter returns an empty limiter. now is the clock (nil: time.Now).
func NewRateLimiter(now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	l := &RateLimiter{now: now, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].tats = make(map[string]time.Time)
		l.shards[i].sweepSize = minSweep
	}
	return l
}

func (l *RateLimiter) shard(key string) *rateShard {
	return &l.shards[maphash.String(l.seed, key)%rateShards]
}

// Allow implements gatehouse.RateLimiter; it never fails.
func (l *RateLimiter) Allow(_ context.Context, key string, lim gatehouse.Limit, cost int) (gatehouse.Decision, error) {
	if !lim.On() {
		return gatehouse.Decision{Allowed: true, Remaining: max(lim.N, 0)}, nil
	}
	now := l.now()
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	d, tat, store := gatehouse.GCRA(now, s.tats[key], lim, cost)
	if store {
		if tat.After(now) {
			s.tats[key] = tat
			s.maybeSweep(now)
		} else {
			delete(s.tats, key) // a full budget is the same as no key
		}
	}
	return d, nil
}

// Reset implements gatehouse.RateLimiter.
func (l *RateLimiter) Reset(_ context.Context, key string) error {
	s := l.shard(key)
	s.mu.Lock()
	delete(s.tats, key)
	s.mu.Unlock()
	return nil
}

// Len returns the number of keys held, expired ones not yet swept included.
func (l *RateLimiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}

// maybeSweep deletes the shard's expired keys once it has grown enough to
// pay for the walk: amortised O(1) per write. Called with s.mu held.
func (s *rateShard) maybeSweep(now time.Time) {
	if len(s.tats) < s.sweepSize {
		return
	}
	for k, tat := range s.tats {
		if !tat.After(now) {
			delete(s.tats, k)
		}
	}
	s.sweepSize = max(minSweep, len(s.tats)*3/2)
}
