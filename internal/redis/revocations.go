package redis

import (
	"context"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// LocalRevocations is the in-process revocation set Revocations stands in
// front of (inmem.Revocations): the set synced from the database's log.
type LocalRevocations interface {
	Revoked(sessionID string) bool
	// Sync makes every revocation committed so far visible to Revoked.
	Sync(ctx context.Context) error
	// Changed returns a channel closed the next time Sync learns of a new
	// revocation.
	Changed() <-chan struct{}
}

// pushBatch bounds one pipeline of writes, so that the first Sync after a
// start or an outage (every live revocation at once) stays well inside
// CommandTimeout and makes progress batch by batch.
const pushBatch = 1000

// Revocations is the revocation set of an instance that shares Redis with
// others. It offers what auth needs (Revoked, Sync, Changed). It is safe
// for concurrent use.
type Revocations struct {
	c     *Client
	local LocalRevocations
	store gatehouse.SessionStore

	mu     sync.Mutex // one push at a time, so the cursor only moves forward
	cursor int64      // the database log's seq up to which Redis has been written
}

// Revocations returns the set that answers from local first, then from
// Redis. Sync writes the revocations that store's log gains into Redis; the
// first Sync writes every live one.
func (c *Client) Revocations(local LocalRevocations, store gatehouse.SessionStore) *Revocations {
	return &Revocations{c: c, local: local, store: store}
}

// Revoked reports whether the session is revoked: in the local set, or, if
// not, in Redis. While Redis is down, or if it does not answer within
// CommandTimeout, the local set alone answers (see the package doc).
func (r *Revocations) Revoked(sessionID string) bool {
	if r.local.Revoked(sessionID) {
		return true
	}
	c := r.c
	if !c.breaker.allow() {
		return false
	}
	// auth's interface carries no context: the request's own deadline is
	// longer than ours anyway.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	n, err := c.rdb.Exists(ctx, c.revokedPrefix+sessionID).Result()
	cancel()
	c.breaker.record(err)
	return err == nil && n > 0
}

// Sync brings the local set up to date with the database's log, then writes
// to Redis every revocation logged since the last write, and announces them
// if any was new to Redis. When Sync returns, a revocation committed before
// it was called is refused on this instance and, unless Redis is down, on
// every other one.
//
// Only the local sync's error is returned: with Redis down the revocation is
// still in the database, which the other instances read within their sync
// interval; what could not be written is written by a later Sync.
func (r *Revocations) Sync(ctx context.Context) error {
	if err := r.local.Sync(ctx); err != nil {
		return err
	}
	r.push(ctx)
	return nil
}

// Changed returns the local set's channel, closed when the set learns of a
// revocation: through a Sync of ours, or one that another instance's
// announcement triggered (so the revocation feed's long polls answer at once
// on every instance).
func (r *Revocations) Changed() <-chan struct{} {
	return r.local.Changed()
}

// push writes the revocations logged since the cursor into Redis. Every
// instance pushes everything it reads, so a revocation made by a process
// without Redis (an operator's command) reaches Redis within one sync
// interval too. SET NX makes that idempotent and tells which writes were
// new, so one revocation is announced once, not once per instance.
func (r *Revocations) push(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.c
	now := c.now()
	revs, head, err := r.store.RevocationsSince(ctx, r.cursor, now)
	if err == nil && head < r.cursor {
		// The log is behind us (a database restored from a backup): its new
		// entries reuse numbers we have passed.
		revs, head, err = r.store.RevocationsSince(ctx, 0, now)
	}
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("reading the revocation log for redis failed; retrying at the next sync", "error", err.Error())
		}
		return
	}
	if len(revs) == 0 {
		r.cursor = head
		if c.breaker.down.Load() {
			// Nothing to write, but an instance without traffic should still
			// find out that Redis is back, for Stats and the log.
			_ = c.do(ctx, func(ctx context.Context) error { return c.rdb.Ping(ctx).Err() })
		}
		return
	}
	created := 0
	for len(revs) > 0 {
		batch := revs[:min(len(revs), pushBatch)]
		n := 0
		err := c.do(ctx, func(ctx context.Context) error {
			var err error
			n, err = r.write(ctx, batch, now)
			return err
		})
		if err != nil {
			// Keep the cursor: a later Sync writes these, so the other
			// instances get them at once even if their database reads fail.
			return
		}
		created += n
		r.cursor = batch[len(batch)-1].Seq
		revs = revs[len(batch):]
	}
	r.cursor = head
	if created > 0 {
		// Best effort: the keys are written, which is what Revoked relies on;
		// the announcement only hastens the other instances' local syncs.
		_ = c.publish(ctx, msgRevocations)
	}
}

// write sets one key per revocation, expiring when its access tokens stop
// verifying, and returns how many keys were new.
func (r *Revocations) write(ctx context.Context, batch []gatehouse.Revocation, now time.Time) (int, error) {
	c := r.c
	cmds := make([]*goredis.BoolCmd, len(batch))
	_, err := c.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, v := range batch {
			// A relative TTL, from our clock: the one that decides whether a
			// token has expired. Redis's clock may differ from ours.
			ttl := max(v.ExpiresAt.Add(c.leeway).Sub(now), time.Millisecond)
			cmds[i] = p.SetNX(ctx, c.revokedPrefix+v.SessionID, "1", ttl)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, cmd := range cmds {
		if cmd.Val() {
			n++
		}
	}
	return n, nil
}
