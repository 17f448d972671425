package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// sessionStore is the gatehouse.SessionStore of a DB.
type sessionStore struct{ db *DB }

var _ gatehouse.SessionStore = (*sessionStore)(nil)

// Sessions returns the gatehouse.SessionStore backed by db.
func (db *DB) Sessions() gatehouse.SessionStore { return &sessionStore{db: db} }

const selectSession = `SELECT id, user_id, created_at, last_used_at, expires_at, absolute_expires_at,
	client_ip, user_agent, client_id, scope, counter, seed, rotated_at, access_expires_at,
	revoked_at, revoke_reason, amr FROM sessions`

// CreateSession inserts ss. Its client-supplied text is stored as clientText
// makes it.
func (s *sessionStore) CreateSession(ctx context.Context, ss *gatehouse.Session) error {
	t := s.db.dialect.timeValue
	_, err := s.db.pool().exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at,
		absolute_expires_at, client_ip, user_agent, client_id, scope, counter, seed, rotated_at, access_expires_at, amr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ss.ID, ss.UserID, t(ss.CreatedAt), t(ss.LastUsedAt), t(ss.ExpiresAt), t(ss.AbsoluteExpiresAt),
		clientText(ss.ClientIP), clientText(ss.UserAgent), clientText(ss.ClientID), clientText(ss.Scope),
		ss.Counter, ss.Seed, t(ss.RotatedAt), t(ss.AccessExpiresAt), strings.Join(ss.AMR, " "))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// clientText returns s, text that came from a client (a User-Agent header
// may carry any byte from 0x80 up, a form field a NUL), with each NUL and
// each run of bytes that are not UTF-8 replaced by U+FFFD. PostgreSQL
// refuses such text outright, and a login must not fail for its user agent;
// SQLite would keep it, but is made to store the same, so that a session
// reads back alike from both.
func clientText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func (s *sessionStore) SessionByID(ctx context.Context, id string) (*gatehouse.Session, error) {
	return scanSession(s.db.pool().queryRow(ctx, selectSession+` WHERE id = ?`, id))
}

type rowScanner interface{ Scan(dest ...any) error }

func scanSession(row rowScanner) (*gatehouse.Session, error) {
	ss := new(gatehouse.Session)
	var amr string
	err := row.Scan(&ss.ID, &ss.UserID, scanTime(&ss.CreatedAt), scanTime(&ss.LastUsedAt), scanTime(&ss.ExpiresAt),
		scanTime(&ss.AbsoluteExpiresAt), &ss.ClientIP, &ss.UserAgent, &ss.ClientID, &ss.Scope, &ss.Counter, &ss.Seed,
		scanTime(&ss.RotatedAt), scanTime(&ss.AccessExpiresAt), scanNullTime(&ss.RevokedAt), &ss.RevokeReason, &amr)
	if amr != "" {
		ss.AMR = strings.Fields(amr)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "session: no such session")
	}
	if err != nil {
		return nil, fmt.Errorf("scan session: %w", err)
	}
	return ss, nil
}

// liveAt is the condition for a session that can still be used at the time
// bound to its two placeholders.
const liveAt = `revoked_at IS NULL AND expires_at > ? AND absolute_expires_at > ?`

func (s *sessionStore) RotateSession(ctx context.Context, id string, from int64, at, expiresAt, accessExpiresAt time.Time) (*gatehouse.Session, error) {
	t := s.db.dialect.timeValue
	return inTx(ctx, s.db, "rotate session", func(tx runner) (*gatehouse.Session, error) {
		res, err := tx.exec(ctx, `UPDATE sessions SET counter = counter + 1, rotated_at = ?, last_used_at = ?,
			expires_at = ?, access_expires_at = `+s.db.dialect.greatest+`(access_expires_at, ?)
			WHERE id = ? AND counter = ? AND `+liveAt,
			t(at), t(at), t(expiresAt), t(accessExpiresAt), id, from, t(at), t(at))
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			// Tell a lost race from a dead session.
			ss, err := scanSession(tx.queryRow(ctx, selectSession+` WHERE id = ?`, id))
			if err != nil {
				return nil, err
			}
			if ss.Live(at) && ss.Counter != from {
				return nil, gatehouse.Errorf(gatehouse.CodeConflict, "rotate session: counter is %d, not %d", ss.Counter, from)
			}
			return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "rotate session: not live")
		}
		return scanSession(tx.queryRow(ctx, selectSession+` WHERE id = ?`, id))
	})
}

func (s *sessionStore) TouchSession(ctx context.Context, id string, at, accessExpiresAt time.Time) error {
	t := s.db.dialect.timeValue
	res, err := s.db.pool().exec(ctx, `UPDATE sessions SET last_used_at = ?, access_expires_at = `+s.db.dialect.greatest+`(access_expires_at, ?)
		WHERE id = ? AND `+liveAt, t(at), t(accessExpiresAt), id, t(at), t(at))
	return expectRow(res, err, "touch session")
}

func (s *sessionStore) RevokeSession(ctx context.Context, id string, userID int64, reason string, at time.Time) error {
	_, err := inTx(ctx, s.db, "revoke session", func(tx runner) (int, error) {
		where, args := `id = ?`, []any{id}
		if userID != 0 {
			where, args = `id = ? AND user_id = ?`, []any{id, userID}
		}
		n, err := revokeWhere(ctx, tx, where, args, reason, at)
		if err == nil && n == 0 {
			err = gatehouse.Errorf(gatehouse.CodeNotFound, "revoke session: no such live session")
		}
		return n, err
	})
	return err
}

func (s *sessionStore) RevokeUserSessions(ctx context.Context, userID int64, except, reason string, at time.Time) (int, error) {
	return inTx(ctx, s.db, "revoke user sessions", func(tx runner) (int, error) {
		return revokeWhere(ctx, tx, `user_id = ? AND id <> ?`, []any{userID, except}, reason, at)
	})
}

// revokeWhere revokes the unrevoked sessions matching where (with args) and
// appends to the revocation log those whose access tokens may still be valid.
// It returns how many sessions it revoked.
//
// The log is written from what the UPDATE returns, not read from sessions
// beforehand: in PostgreSQL a concurrent RotateSession could commit between
// such a read and the UPDATE, and the log would then record an expiry
// earlier than that of the access token the rotation handed out. The UPDATE
// sees the latest row, and once it has run the session can no longer be
// rotated or touched, both of which require it to be live.
func revokeWhere(ctx context.Context, tx runner, where string, args []any, reason string, at time.Time) (int, error) {
	t := tx.d.timeValue
	// RevocationsSince takes the largest seq in the log as proof that
	// every smaller one is committed. SQLite commits one writer at a time,
	// so it holds there. In PostgreSQL a transaction can take seq 5 and
	// commit after another took 6 and committed; a follower reading in
	// between would move its cursor to 6 and never see 5. So writers of the
	// log take turns: each takes its seqs and commits while holding a lock
	// that the next waits for. Revocations are rare (logout, password
	// change), so the turns cost little.
	if err := tx.lock(ctx, tx.d.lockRevocations); err != nil {
		return 0, fmt.Errorf("lock revocation log: %w", err)
	}
	rows, err := tx.query(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = ?
		WHERE revoked_at IS NULL AND `+where+` RETURNING id, user_id, access_expires_at`,
		append([]any{t(at), reason}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	var revs []gatehouse.Revocation
	n := 0
	for rows.Next() {
		var r gatehouse.Revocation
		if err := rows.Scan(&r.SessionID, &r.UserID, scanTime(&r.ExpiresAt)); err != nil {
			rows.Close()
			return 0, fmt.Errorf("revoke sessions: %w", err)
		}
		n++
		if r.ExpiresAt.After(at) {
			revs = append(revs, r)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	for _, r := range revs {
		if _, err := tx.exec(ctx, `INSERT INTO revocations (session_id, user_id, revoked_at, expires_at) VALUES (?, ?, ?, ?)`,
			r.SessionID, r.UserID, t(at), t(r.ExpiresAt)); err != nil {
			return 0, fmt.Errorf("log revocations: %w", err)
		}
	}
	return n, nil
}

func (s *sessionStore) ListSessions(ctx context.Context, userID int64, now time.Time) ([]*gatehouse.Session, error) {
	t := s.db.dialect.timeValue
	rows, err := s.db.pool().query(ctx, selectSession+` WHERE user_id = ? AND `+liveAt+` ORDER BY created_at DESC, id`,
		userID, t(now), t(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*gatehouse.Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}

func (s *sessionStore) RevocationsSince(ctx context.Context, seq int64, now time.Time) ([]gatehouse.Revocation, int64, error) {
	// The cursor is read first and the rows are bounded by it, so the two
	// agree without a transaction: every seq up to the maximum read is
	// already committed, since SQLite commits writers one at a time and
	// PostgreSQL's writers of the log take turns (see revokeWhere). A later
	// statement sees at least what an earlier one saw.
	var cursor int64
	if err := s.db.pool().queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM revocations`).Scan(&cursor); err != nil {
		return nil, 0, fmt.Errorf("revocations since: %w", err)
	}
	if cursor <= seq {
		// Nothing newer; a cursor beyond the log (a restored database) is
		// the caller's to notice.
		return nil, cursor, nil
	}
	rows, err := s.db.pool().query(ctx, `SELECT seq, session_id, user_id, revoked_at, expires_at FROM revocations
		WHERE seq > ? AND seq <= ? AND expires_at > ? ORDER BY seq`, seq, cursor, s.db.dialect.timeValue(now))
	if err != nil {
		return nil, 0, fmt.Errorf("revocations since: %w", err)
	}
	defer rows.Close()
	var revs []gatehouse.Revocation
	for rows.Next() {
		var v gatehouse.Revocation
		if err := rows.Scan(&v.Seq, &v.SessionID, &v.UserID, scanTime(&v.RevokedAt), scanTime(&v.ExpiresAt)); err != nil {
			return nil, 0, fmt.Errorf("revocations since: %w", err)
		}
		revs = append(revs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("revocations since: %w", err)
	}
	return revs, cursor, nil
}

// CountActiveSessions counts live sessions (for the active-sessions gauge;
// sessions_expires indexes it).
func (s *sessionStore) CountActiveSessions(ctx context.Context, now time.Time) (int64, error) {
	t := s.db.dialect.timeValue(now)
	var n int64
	err := s.db.pool().queryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE `+liveAt, t, t).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count active sessions: %w", err)
	}
	return n, nil
}

func (s *sessionStore) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	return inTx(ctx, s.db, "prune sessions", func(tx runner) (int64, error) {
		t := s.db.dialect.timeValue(before)
		// A session is kept while any of its access tokens may be valid, so
		// that a later revocation (user deleted, password changed) still
		// reaches the log.
		a, err := tx.exec(ctx, `DELETE FROM sessions WHERE (expires_at < ? OR absolute_expires_at < ? OR revoked_at IS NOT NULL)
			AND access_expires_at < ?`, t, t, t)
		if err != nil {
			return 0, err
		}
		// The newest entry is kept whatever its age: it carries the log's
		// cursor, and followers reading a lower maximum would take it for a
		// restored database and start over.
		b, err := tx.exec(ctx, `DELETE FROM revocations WHERE expires_at < ? AND seq < (SELECT MAX(seq) FROM revocations)`, t)
		if err != nil {
			return 0, err
		}
		na, _ := a.RowsAffected()
		nb, _ := b.RowsAffected()
		return na + nb, nil
	})
}

// inTx runs fn in a write transaction: begin, defer rollback, commit last.
func inTx[T any](ctx context.Context, db *DB, op string, fn func(tx runner) (T, error)) (T, error) {
	var zero T
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return zero, fmt.Errorf("%s: begin: %w", op, err)
	}
	defer tx.Rollback()
	v, err := fn(runner{tx, db.dialect})
	if err != nil {
		var ge *gatehouse.Error
		if errors.As(err, &ge) {
			return zero, err
		}
		return zero, fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return zero, fmt.Errorf("%s: commit: %w", op, err)
	}
	return v, nil
}

// expectRow turns the result of a one-row change into CodeNotFound when no
// row matched.
func expectRow(res sql.Result, err error, op string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return gatehouse.Errorf(gatehouse.CodeNotFound, "%s: no such live row", op)
	}
	return nil
}
