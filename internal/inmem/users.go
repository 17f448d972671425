// Package inmem keeps gatehouse's fast shared state in process, for a single
// instance: today a cache of users in front of the database.
package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// UserCache is a gatehouse.UserStore that remembers users read by id, the
// look-up every authenticated request makes, in front of another store.
//
// Every write through the cache forgets the user at once, so a user deleted,
// deactivated or given a new password through this process is seen so on the
// very next request. A write made by another process (another instance, or an
// operator's command) is seen within TTL at the latest. Only UserByID is
// cached, and only users that exist: "not found" is always asked again.
type UserCache struct {
	next gatehouse.UserStore
	ttl  time.Duration
	max  int
	now  func() time.Time

	mu      sync.RWMutex
	entries map[int64]cachedUser
	// gen counts writes. A reader that started before a write must not
	// store what it read after that write has forgotten the user.
	gen uint64
}

type cachedUser struct {
	user    gatehouse.User
	expires time.Time
}

// NewUserCache returns a cache of at most max users, each kept at most ttl,
// in front of next. now is the clock (nil means time.Now).
func NewUserCache(next gatehouse.UserStore, ttl time.Duration, max int, now func() time.Time) *UserCache {
	if now == nil {
		now = time.Now
	}
	return &UserCache{next: next, ttl: ttl, max: max, now: now, entries: make(map[int64]cachedUser)}
}

// UserByID returns a copy of the cached user, or reads it from the store.
func (c *UserCache) UserByID(ctx context.Context, id int64) (*gatehouse.User, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		u := e.user
		return &u, nil
	}
	u, err := c.next.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.entries) >= c.max {
			c.evict(now)
		}
		c.entries[id] = cachedUser{user: *u, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	cp := *u
	return &cp, nil
}

// evict drops expired entries or, if none has expired, an arbitrary eighth.
// Called with mu held.
func (c *UserCache) evict(now time.Time) {
	n := 0
	for id, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, id)
			n++
		}
	}
	for id := range c.entries {
		if n >= c.max/8+1 {
			return
		}
		delete(c.entries, id)
		n++
	}
}

// Forget drops user id from the cache: another instance changed it.
func (c *UserCache) Forget(id int64) { c.forget(id) }

// forget drops id after a write, whether or not the write succeeded (a
// failed write may still have changed the row, e.g. on a lost commit reply).
func (c *UserCache) forget(id int64) {
	c.mu.Lock()
	delete(c.entries, id)
	c.gen++
	c.mu.Unlock()
}

// CreateUser passes through: ids are never reused, so nothing cached is stale.
func (c *UserCache) CreateUser(ctx context.Context, u *gatehouse.User) error {
	return c.next.CreateUser(ctx, u)
}

// ImportUser passes through: like CreateUser, it cannot make a cached entry
// stale.
func (c *UserCache) ImportUser(ctx context.Context, u *gatehouse.User) (bool, error) {
	return c.next.ImportUser(ctx, u)
}

// ListUsers passes through: listings are for operators, not the hot path.
func (c *UserCache) ListUsers(ctx context.Context, after int64, limit int) ([]*gatehouse.User, error) {
	return c.next.ListUsers(ctx, after, limit)
}

// UserByUsername passes through (used by login, which hashes anyway).
func (c *UserCache) UserByUsername(ctx context.Context, key string) (*gatehouse.User, error) {
	return c.next.UserByUsername(ctx, key)
}

// UserByEmail passes through (used by login, which hashes anyway).
func (c *UserCache) UserByEmail(ctx context.Context, key string) (*gatehouse.User, error) {
	return c.next.UserByEmail(ctx, key)
}

// SetPasswordHash writes through and forgets the user.
func (c *UserCache) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	defer c.forget(id)
	return c.next.SetPasswordHash(ctx, id, hash)
}

// SetUserActive writes through and forgets the user.
func (c *UserCache) SetUserActive(ctx context.Context, id int64, active bool) error {
	defer c.forget(id)
	return c.next.SetUserActive(ctx, id, active)
}

// ChangePassword writes through and forgets the user.
func (c *UserCache) ChangePassword(ctx context.Context, id int64, hash, keepSession string, at time.Time) error {
	defer c.forget(id)
	return c.next.ChangePassword(ctx, id, hash, keepSession, at)
}

// DeleteUser writes through and forgets the user.
func (c *UserCache) DeleteUser(ctx context.Context, id int64) error {
	defer c.forget(id)
	return c.next.DeleteUser(ctx, id)
}
