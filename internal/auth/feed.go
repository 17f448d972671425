package auth

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// MaxFeedWait bounds how long one revocation feed request is held open.
const MaxFeedWait = 60 * time.Second

// SnapshotCursor asks RevocationFeed for a snapshot rather than a wait.
const SnapshotCursor = -1

// RevocationFeed returns the revocations logged after cursor `since` whose
// access tokens may still be valid, and the cursor to ask from next. With a
// negative since (SnapshotCursor) it answers at once with every such
// revocation: how a follower starts. When nothing is newer,
// it waits up to wait for one (a long poll), returning early, with what it
// has, when ctx ends or stop is closed (server shutdown).
//
// A cursor beyond the log (the database was restored from a backup) is
// CodeInvalidCursor: the follower must start again from a snapshot.
func (s *Service) RevocationFeed(ctx context.Context, since int64, wait time.Duration, stop <-chan struct{}) ([]gatehouse.Revocation, int64, error) {
	wait = min(max(wait, 0), MaxFeedWait)
	snapshot := since < 0
	since = max(since, 0)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		// Take the channel before reading, so a revocation that lands between
		// the read and the wait still wakes us.
		changed := s.revocations.Changed()
		revs, cursor, err := s.sessions.RevocationsSince(ctx, since, s.now())
		if err != nil {
			return nil, since, err
		}
		if cursor < since {
			return nil, since, gatehouse.Errorf(gatehouse.CodeInvalidCursor, "cursor %d is beyond the log (%d)", since, cursor)
		}
		if len(revs) > 0 || snapshot {
			return revs, cursor, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, cursor, nil
		case <-ctx.Done():
			return nil, cursor, nil
		case <-stop:
			return nil, cursor, nil
		}
	}
}
