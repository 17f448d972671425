package verifier

import (
	"sync"
	"time"
)

// maxCachedTokenBytes keeps the cache's memory bounded by entries × this size
// (10 000 × 2 KiB = 20 MiB at worst) even if someone sends large valid tokens.
const maxCachedTokenBytes = 2 << 10

// tokenCache remembers tokens whose signature and claims were verified, so a
// client's next request with the same token costs a map look-up. Keys are the
// exact token strings, not hashes, so a hit can never be a collision with a
// forged token. Only the time checks and the revocation check are repeated
// on a hit.
type tokenCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]Claims
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: make(map[string]Claims)}
}

func (c *tokenCache) get(token string) (Claims, bool) {
	c.mu.RLock()
	cl, ok := c.entries[token]
	c.mu.RUnlock()
	return cl, ok
}

func (c *tokenCache) put(token string, cl Claims, leeway time.Duration, now time.Time) {
	if len(token) > maxCachedTokenBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(leeway, now)
	}
	c.entries[token] = cl
}

func (c *tokenCache) remove(token string) {
	c.mu.Lock()
	delete(c.entries, token)
	c.mu.Unlock()
}

// clear forgets every token, when a key they may have been verified with has
// left the key set.
func (c *tokenCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// evict drops expired entries and, if that frees less than an eighth of the
// cache, arbitrary others (map order is random) up to that eighth: cheap, the
// scan runs at most once per max/8 insertions, and a full cache only means
// some clients pay one full verification again.
func (c *tokenCache) evict(leeway time.Duration, now time.Time) {
	drop := max(c.max/8, 1)
	n := 0
	for k, cl := range c.entries {
		if !now.Before(cl.ExpiresAt.Add(leeway)) {
			delete(c.entries, k)
			n++
		}
	}
	for k := range c.entries {
		if n >= drop {
			return
		}
		delete(c.entries, k)
		n++
	}
}
