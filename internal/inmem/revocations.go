package inmem

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// Revocations is the in-process set of revoked sessions whose access tokens
// may still be valid, followed from the store's revocation log by cursor.
//
// Revoked is the per-request check and costs one map look-up under a read
// lock. The set is refreshed by Sync: at once after every revocation made by
// this process (so a logout takes effect on the very next request), and
// periodically (the caller's loop) for revocations made elsewhere (another
// instance, an operator's command). Entries are dropped once their access tokens have
// expired, so the set holds at most the sessions revoked within one access
// token lifetime.
type Revocations struct {
	store gatehouse.SessionStore
	now   func() time.Time
	log   *slog.Logger

	syncMu sync.Mutex // one Sync at a time, so the cursor only moves forward

	mu       sync.RWMutex
	revoked  map[string]time.Time // session id → when its last access token expires
	cursor   int64
	lastSync time.Time
	changed  chan struct{} // closed and replaced whenever the set grows
}

// NewRevocations returns an empty set following store. Call Sync before
// serving, so that revocations made before start are known.
func NewRevocations(store gatehouse.SessionStore, now func() time.Time, log *slog.Logger) *Revocations {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Revocations{store: store, now: now, log: log, revoked: map[string]time.Time{}, changed: make(chan struct{})}
}

// Revoked reports whether session id has been revoked.
func (r *Revocations) Revoked(id string) bool {
	r.mu.RLock()
	_, ok := r.revoked[id]
	r.mu.RUnlock()
	return ok
}

// Sync reads the revocations logged since the last Sync and adds them.
func (r *Revocations) Sync(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	now := r.now()
	r.mu.RLock()
	since := r.cursor
	r.mu.RUnlock()
	revs, cursor, err := r.store.RevocationsSince(ctx, since, now)
	if err != nil {
		return err
	}
	reset := cursor < since
	if reset {
		// The log is behind us (a database restored from a backup): start
		// over rather than miss what is logged under reused numbers.
		r.log.Warn("revocation log went back; reloading it", "cursor", since, "log", cursor)
		if revs, cursor, err = r.store.RevocationsSince(ctx, 0, now); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if reset {
		r.revoked = map[string]time.Time{}
	}
	for _, v := range revs {
		r.revoked[v.SessionID] = v.ExpiresAt
	}
	for id, exp := range r.revoked {
		if !now.Before(exp) {
			delete(r.revoked, id)
		}
	}
	r.cursor, r.lastSync = cursor, now
	if len(revs) > 0 {
		close(r.changed)
		r.changed = make(chan struct{})
	}
	return nil
}

// Changed returns a channel closed the next time Sync adds a revocation:
// the revocation feed's long poll waits on it.
func (r *Revocations) Changed() <-chan struct{} {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.changed
}

// LastSync returns when Sync last succeeded.
func (r *Revocations) LastSync() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.lastSync
}

// Len returns how many revoked sessions the set holds.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.revoked)
}
