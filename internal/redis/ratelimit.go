package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// gcraScript is gatehouse.GCRA as one Lua script, so that a decision is one
// atomic round trip (EVALSHA) however many instances ask at once. Times are
// microseconds from the caller's clock (the one that also decides token
// expiry; instances are expected to keep theirs in sync). The key holds the
// theoretical arrival time and expires when the budget is full again, so
// Redis holds only keys that still limit something.
//
// KEYS[1] the key; ARGV now, interval, per, n, cost.
// Returns {allowed (0/1), retry after (µs), remaining}.
var gcraScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local t = tonumber(ARGV[2])
local per = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local function remaining(at)
  local r = math.floor((per - (at - now)) / t)
  if r > n then r = n end
  return r
end
local function store(at)
  if at > now then
    redis.call('SET', KEYS[1], string.format('%d', at), 'PX', math.ceil((at - now) / 1000))
  else
    redis.call('DEL', KEYS[1])
  end
end
if cost < 0 then
  local at = tat + cost * t
  if at < now then at = now end
  store(at)
  return {1, 0, remaining(at)}
end
if cost == 0 then
  local need = tat + t - now - per
  if need > 0 then return {0, need, remaining(tat)} end
  return {1, 0, remaining(tat)}
end
local at = tat + cost * t
local need = at - now - per
if need > 0 then return {0, need, remaining(tat)} end
store(at)
return {1, 0, remaining(at)}
`)

// RateLimiter is the gatehouse.RateLimiter whose budgets every instance
// sharing the Redis shares. Safe for concurrent use.
//
// When Redis fails or is down (the Client's breaker), decisions fall back to
// a limiter in this process: limits then hold per instance rather than
// across them, which is neither "no limits" (an outage must not open the
// door to guessing) nor "no logins" (nor must it lock every user out).
type RateLimiter struct {
	c        *Client
	prefix   string
	fallback gatehouse.RateLimiter
}

var _ gatehouse.RateLimiter = (*RateLimiter)(nil)

// RateLimiter returns the shared limiter; fallback (inmem.RateLimiter)
// decides while Redis cannot.
func (c *Client) RateLimiter(fallback gatehouse.RateLimiter) *RateLimiter {
	return &RateLimiter{c: c, prefix: c.ratePrefix, fallback: fallback}
}

// Allow implements gatehouse.RateLimiter: one script run per decision.
func (r *RateLimiter) Allow(ctx context.Context, key string, l gatehouse.Limit, cost int) (gatehouse.Decision, error) {
	if !l.On() {
		return gatehouse.Decision{Allowed: true, Remaining: max(l.N, 0)}, nil
	}
	var res []int64
	err := r.c.do(ctx, func(ctx context.Context) error {
		var err error
		res, err = gcraScript.Run(ctx, r.c.rdb, []string{r.prefix + key},
			r.c.now().UnixMicro(), l.Interval().Microseconds(), l.Per.Microseconds(), l.N, cost).Int64Slice()
		return err
	})
	if err != nil || len(res) != 3 {
		return r.fallback.Allow(ctx, key, l, cost)
	}
	return gatehouse.Decision{
		Allowed:    res[0] == 1,
		RetryAfter: time.Duration(res[1]) * time.Microsecond,
		Remaining:  int(res[2]),
	}, nil
}

// Reset implements gatehouse.RateLimiter. The fallback forgets the key too,
// so that a success during an outage is not held against the client after.
func (r *RateLimiter) Reset(ctx context.Context, key string) error {
	_ = r.fallback.Reset(ctx, key)
	// Best effort: a key that could not be deleted expires on its own
	// within its limit's Per, and a Redis failure is already logged by the
	// breaker.
	_ = r.c.do(ctx, func(ctx context.Context) error { return r.c.rdb.Del(ctx, r.prefix+key).Err() })
	return nil
}
