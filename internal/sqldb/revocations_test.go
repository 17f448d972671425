package sqldb_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
)

// TestRevocationFollowerNeverSkips revokes sessions from many goroutines
// while a follower reads the log by cursor, as an instance's revocation set
// does: whatever the interleaving, the follower must see every revocation.
//
// On PostgreSQL a trigger makes each revoking transaction linger for a
// random moment after taking its seq, so that, were the writers of the log
// not taking turns, smaller seqs would commit after larger ones and a
// follower polling in between would move its cursor past them for good.
func TestRevocationFollowerNeverSkips(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		url := b.url(t)
		if b.name == postgres.name {
			url = postgresURL(t, 16) // a connection for each revoker, and the follower's
		}
		db := openDB(t, url)
		ctx := t.Context()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if b.name == postgres.name {
			_, err := db.SQL().ExecContext(ctx, `
				CREATE FUNCTION linger() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					PERFORM pg_sleep(random() * 0.005);
					RETURN NULL;
				END $$;
				CREATE TRIGGER linger AFTER INSERT ON revocations FOR EACH ROW EXECUTE FUNCTION linger();`)
			if err != nil {
				t.Fatal(err)
			}
		}
		const revokers, perRevoker = 8, 15
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		u := newUser("alice")
		if err := db.Users().CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		sessions := db.Sessions()
		var all []string
		for i := range revokers * perRevoker {
			ss := newSession(u, fmt.Sprint("s", i), at)
			if err := sessions.CreateSession(ctx, ss); err != nil {
				t.Fatal(err)
			}
			all = append(all, ss.ID)
		}

		// Only the follower's goroutine touches seen until it hands back its
		// cursor.
		seen := map[string]int64{}
		poll := func(cursor int64) int64 {
			revs, next, err := sessions.RevocationsSince(ctx, cursor, at)
			if err != nil {
				t.Error(err)
				return cursor
			}
			for _, r := range revs {
				if seq, dup := seen[r.SessionID]; dup {
					t.Errorf("session %s seen at seq %d and %d", r.SessionID, seq, r.Seq)
				}
				seen[r.SessionID] = r.Seq
			}
			return next
		}
		stop := make(chan struct{})
		followed := make(chan int64)
		go func() {
			var cursor int64
			for {
				select {
				case <-stop:
					followed <- cursor
					return
				default:
					cursor = poll(cursor)
				}
			}
		}()
		var wg sync.WaitGroup
		for r := range revokers {
			wg.Go(func() {
				for i := r; i < len(all); i += revokers {
					if err := sessions.RevokeSession(ctx, all[i], 0, gatehouse.RevokedLogout, at); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		poll(<-followed) // what committed after the follower's last look

		var missed []string
		for _, id := range all {
			if _, ok := seen[id]; !ok {
				missed = append(missed, id)
			}
		}
		if len(missed) > 0 {
			t.Errorf("the follower never saw %d of %d revocations: %v", len(missed), len(all), missed)
		}
	})
}

// TestRevokeRecordsLatestAccessExpiry revokes a session while another
// transaction, as a refresh would, is raising its access expiry: the
// revocation must wait for it and log the raised expiry, or the access
// token the refresh handed out would outlive its revocation in followers'
// sets. (SQLite runs one writer at a time, so only PostgreSQL can
// interleave them.)
func TestRevokeRecordsLatestAccessExpiry(t *testing.T) {
	db, app := newWatchedPostgres(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Microsecond)
	u := newUser("alice")
	if err := db.Users().CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	ss := newSession(u, "s", at)
	if err := db.Sessions().CreateSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	raised := at.Add(2 * time.Hour)

	refresh := holdTx(t, db, `UPDATE sessions SET access_expires_at = ? WHERE id = ?`, raised, ss.ID)
	revoked := make(chan error, 1)
	go func() { revoked <- db.Sessions().RevokeSession(ctx, ss.ID, 0, gatehouse.RevokedLogout, at) }()
	waitForLockWait(t, db, app)
	if err := refresh.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-revoked; err != nil {
		t.Fatal(err)
	}
	revs, _, err := db.Sessions().RevocationsSince(ctx, 0, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || !revs[0].ExpiresAt.Equal(raised) {
		t.Errorf("revocation log = %+v, want one entry expiring at %v", revs, raised)
	}
}

// TestDeleteUserRacingLogin deletes a user while another transaction, as a
// login would, is creating a session for them: the session must not be
// removed with the user without its revocation being logged, or its access
// tokens would stay valid everywhere the log is followed.
func TestDeleteUserRacingLogin(t *testing.T) {
	db, app := newWatchedPostgres(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := newUser("alice")
	if err := db.Users().CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	before := newSession(u, "before", now)
	if err := db.Sessions().CreateSession(ctx, before); err != nil {
		t.Fatal(err)
	}

	login := holdTx(t, db, `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, absolute_expires_at,
		seed, rotated_at, access_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		"racing", u.ID, now, now, now.Add(time.Hour), now.Add(time.Hour), bytes.Repeat([]byte{1}, 32), now, now.Add(30*time.Minute))
	deleted := make(chan error, 1)
	go func() { deleted <- db.Users().DeleteUser(ctx, u.ID) }()
	waitForLockWait(t, db, app)
	if err := login.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	revs, _, err := db.Sessions().RevocationsSince(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range revs {
		got[r.SessionID] = true
	}
	if !got[before.ID] || !got["racing"] || len(got) != 2 {
		t.Errorf("revocation log holds %v, want %s and racing", got, before.ID)
	}
}

// newWatchedPostgres returns a migrated PostgreSQL database whose
// connections carry an application_name of their own, which it returns, so
// that the test can see in pg_stat_activity when one of them waits.
func newWatchedPostgres(t *testing.T) (*sqldb.DB, string) {
	t.Helper()
	app := "gatehouse_test_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	db := openDB(t, postgresURL(t, 4)+"&application_name="+app)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db, app
}

// holdTx runs query in a transaction it leaves open for the test to
// commit, holding whatever locks the query took; it is rolled back at the
// end of the test if still open.
func holdTx(t *testing.T, db *sqldb.DB, query string, args ...any) *sql.Tx {
	t.Helper()
	tx, err := db.SQL().BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.ExecContext(t.Context(), db.Bind(query), args...); err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitForLockWait returns once a connection of application app waits for a
// lock: the store's transaction has reached the point the test holds it at.
func waitForLockWait(t *testing.T, db *sqldb.DB, app string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		var n int
		err := db.SQL().QueryRowContext(ctx, db.Bind(`SELECT count(*) FROM pg_stat_activity
			WHERE application_name = ? AND wait_event_type = 'Lock'`), app).Scan(&n)
		if err != nil {
			t.Fatalf("waiting for the store to wait for a lock: %v", err)
		}
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func newSession(u *gatehouse.User, name string, created time.Time) *gatehouse.Session {
	return &gatehouse.Session{
		ID: fmt.Sprintf("%s-%d", name, u.ID), UserID: u.ID,
		CreatedAt: created, LastUsedAt: created, RotatedAt: created,
		ExpiresAt: created.Add(time.Hour), AbsoluteExpiresAt: created.Add(24 * time.Hour),
		AccessExpiresAt: created.Add(30 * time.Minute),
		Seed:            bytes.Repeat([]byte{0xA5}, 32),
	}
}
