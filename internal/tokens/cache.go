package tokens

import (
	"sync"
	"time"
)

// maxCachedTokenBytes keeps the cache's memory bounded by entries × this size
// (10 000 × 1 KiB ≈ 10 MiB) even if someone sends large valid tokens.
const maxCachedTokenBytes = 1 << 10

// verifiedCache remembers tokens whose signature and claims were verified.
// Keys are the exact token strings, not hashes, so a hit can never be a
// collision with a forged token.
type verifiedCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]Claims
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, entries: make(map[string]Claims, max)}
}

func (c *verifiedCache) get(token string) (Claims, bool) {
	c.mu.RLock()
	cl, ok := c.entries[token]
	c.mu.RUnlock()
	return cl, ok
}

func (c *verifiedCache) put(token string, cl Claims, now time.Time) {
	if len(token) > maxCachedTokenBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[token] = cl
}

func (c *verifiedCache) remove(token string) {
	c.mu.Lock()
	delete(c.entries, token)
	c.mu.Unlock()
}

// evict drops expired entries, or, when none has expired, an arbitrary eighth
// of the cache (Go's map order is randomised): cheap, and a full cache only
// means some clients pay one full verification again.
func (c *verifiedCache) evict(now time.Time) {
	drop := c.max / 8
	if drop < 1 {
		drop = 1
	}
	n := 0
	for k, cl := range c.entries {
		if !now.Before(cl.ExpiresAt.Add(MaxLeeway)) {
			delete(c.entries, k)
			n++
		}
	}
	if n > 0 {
		return
	}
	for k := range c.entries {
		delete(c.entries, k)
		if n++; n >= drop {
			return
		}
	}
}
