package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// identityStore is the gatehouse.IdentityStore of a DB.
type identityStore struct{ db *DB }

var _ gatehouse.IdentityStore = (*identityStore)(nil)

// Identities returns the gatehouse.IdentityStore backed by db.
func (db *DB) Identities() gatehouse.IdentityStore { return &identityStore{db: db} }

const selectIdentity = `SELECT id, user_id, provider, subject, email, email_verified, created_at FROM identities`

// CreateIdentity links id to its user; the unique constraint on (provider,
// subject) decides whether the upstream account is free, the foreign key
// whether the user exists.
func (s *identityStore) CreateIdentity(ctx context.Context, id *gatehouse.Identity) error {
	return s.insertIdentity(ctx, s.db.pool(), id)
}

func (s *identityStore) insertIdentity(ctx context.Context, r runner, id *gatehouse.Identity) error {
	now := s.db.now()
	err := r.queryRow(ctx, `INSERT INTO identities (user_id, provider, subject, email, email_verified, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		id.UserID, id.Provider, id.Subject, clientText(id.Email), id.EmailVerified, s.db.dialect.timeValue(now)).Scan(&id.ID)
	if err != nil {
		err = fmt.Errorf("create identity: %w", err)
		if s.db.dialect.uniqueColumn(err) == "provider" {
			return &gatehouse.Error{Code: gatehouse.CodeIdentityTaken, Err: err}
		}
		if foreignKeyViolation(err) {
			return &gatehouse.Error{Code: gatehouse.CodeNotFound, Err: err}
		}
		return err
	}
	id.CreatedAt = now
	return nil
}

// CreateUserWithIdentity inserts a user and its first identity in one
// transaction: a user made by a provider sign-in never exists without the
// identity that lets them sign in.
func (s *identityStore) CreateUserWithIdentity(ctx context.Context, u *gatehouse.User, id *gatehouse.Identity) error {
	_, err := inTx(ctx, s.db, "create user with identity", func(tx runner) (struct{}, error) {
		now := s.db.now()
		var uid int64
		err := tx.queryRow(ctx,
			`INSERT INTO users (username, username_key, email, email_key, hashed_password, is_active, created_at, email_verified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Username, u.UsernameKey, u.Email, u.EmailKey, u.PasswordHash, u.IsActive, s.db.dialect.timeValue(now), s.verifiedAt(u),
		).Scan(&uid)
		if err != nil {
			err = fmt.Errorf("create user: %w", err)
			switch s.db.dialect.uniqueColumn(err) {
			case "username_key":
				return struct{}{}, &gatehouse.Error{Code: gatehouse.CodeUsernameTaken, Err: err}
			case "email_key":
				return struct{}{}, &gatehouse.Error{Code: gatehouse.CodeEmailTaken, Err: err}
			}
			return struct{}{}, err
		}
		id.UserID = uid
		if err := s.insertIdentity(ctx, tx, id); err != nil {
			return struct{}{}, err
		}
		u.ID, u.CreatedAt = uid, now
		return struct{}{}, nil
	})
	return err
}

// IdentityBySubject returns the identity of (provider, subject).
func (s *identityStore) IdentityBySubject(ctx context.Context, provider, subject string) (*gatehouse.Identity, error) {
	id, err := scanIdentity(s.db.pool().queryRow(ctx, selectIdentity+` WHERE provider = ? AND subject = ?`, provider, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "identity by subject: none")
	}
	if err != nil {
		return nil, fmt.Errorf("identity by subject: %w", err)
	}
	return id, nil
}

// ListIdentities returns the user's identities, oldest first.
func (s *identityStore) ListIdentities(ctx context.Context, userID int64) ([]*gatehouse.Identity, error) {
	rows, err := s.db.pool().query(ctx, selectIdentity+` WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	defer rows.Close()
	out := []*gatehouse.Identity{}
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("list identities: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	return out, nil
}

// DeleteIdentity unlinks an identity unless it is the user's last way in.
// The user's row is locked first (PostgreSQL; SQLite serialises write
// transactions anyway), so that two unlinks of a password-less user's last
// two identities run one after the other and the second sees the first.
func (s *identityStore) DeleteIdentity(ctx context.Context, userID, id int64) (*gatehouse.Identity, error) {
	return inTx(ctx, s.db, "delete identity", func(tx runner) (*gatehouse.Identity, error) {
		var hash string
		err := tx.queryRow(ctx, `SELECT hashed_password FROM users WHERE id = ?`+s.db.dialect.forUpdate, userID).Scan(&hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "delete identity: no such user")
		}
		if err != nil {
			return nil, err
		}
		ident, err := scanIdentity(tx.queryRow(ctx, selectIdentity+` WHERE id = ? AND user_id = ?`, id, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "delete identity: no such identity")
		}
		if err != nil {
			return nil, err
		}
		if hash == "" {
			var n int
			if err := tx.queryRow(ctx, `SELECT count(*) FROM identities WHERE user_id = ?`, userID).Scan(&n); err != nil {
				return nil, err
			}
			if n <= 1 {
				return nil, gatehouse.Errorf(gatehouse.CodeLastSignInMethod, "delete identity: last sign-in method of a user without password")
			}
		}
		if _, err := tx.exec(ctx, `DELETE FROM identities WHERE id = ?`, id); err != nil {
			return nil, err
		}
		return ident, nil
	})
}

func scanIdentity(row rowScanner) (*gatehouse.Identity, error) {
	id := new(gatehouse.Identity)
	err := row.Scan(&id.ID, &id.UserID, &id.Provider, &id.Subject, &id.Email, &id.EmailVerified, scanTime(&id.CreatedAt))
	if err != nil {
		return nil, err
	}
	return id, nil
}

// SaveOAuthLogin stores a sign-in in progress.
func (s *identityStore) SaveOAuthLogin(ctx context.Context, l *gatehouse.OAuthLogin) error {
	_, err := s.db.pool().exec(ctx, `INSERT INTO oauth_logins (state_hash, provider, nonce, verifier, redirect_uri,
		app_state, code_challenge, link_user_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.StateHash, l.Provider, l.Nonce, l.Verifier, clientText(l.RedirectURI), clientText(l.AppState),
		l.CodeChallenge, l.LinkUserID, s.db.dialect.timeValue(l.ExpiresAt))
	if err != nil {
		return fmt.Errorf("save oauth login: %w", err)
	}
	return nil
}

// TakeOAuthLogin deletes the sign-in and returns it: the DELETE …
// RETURNING is the one statement that decides, so of two callbacks
// carrying one state only one gets a row.
func (s *identityStore) TakeOAuthLogin(ctx context.Context, stateHash string, now time.Time) (*gatehouse.OAuthLogin, error) {
	l := new(gatehouse.OAuthLogin)
	err := s.db.pool().queryRow(ctx, `DELETE FROM oauth_logins WHERE state_hash = ? RETURNING state_hash, provider,
		nonce, verifier, redirect_uri, app_state, code_challenge, link_user_id, expires_at`, stateHash).
		Scan(&l.StateHash, &l.Provider, &l.Nonce, &l.Verifier, &l.RedirectURI, &l.AppState, &l.CodeChallenge,
			&l.LinkUserID, scanTime(&l.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "take oauth login: no such state")
	}
	if err != nil {
		return nil, fmt.Errorf("take oauth login: %w", err)
	}
	if !now.Before(l.ExpiresAt) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "take oauth login: expired")
	}
	return l, nil
}

// SaveAuthCode stores a one-time code (its hash).
func (s *identityStore) SaveAuthCode(ctx context.Context, c *gatehouse.AuthCode) error {
	_, err := s.db.pool().exec(ctx, `INSERT INTO oauth_codes (code_hash, user_id, provider, redirect_uri,
		code_challenge, expires_at, link, subject, email, email_verified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.CodeHash, c.UserID, c.Provider, clientText(c.RedirectURI), c.CodeChallenge, s.db.dialect.timeValue(c.ExpiresAt),
		c.Link, c.Subject, clientText(c.Email), c.EmailVerified)
	if err != nil {
		if foreignKeyViolation(err) {
			return gatehouse.Errorf(gatehouse.CodeNotFound, "save auth code: no such user: %w", err)
		}
		return fmt.Errorf("save auth code: %w", err)
	}
	return nil
}

// TakeAuthCode deletes the code and returns it, as TakeOAuthLogin.
func (s *identityStore) TakeAuthCode(ctx context.Context, codeHash string, now time.Time) (*gatehouse.AuthCode, error) {
	c := new(gatehouse.AuthCode)
	err := s.db.pool().queryRow(ctx, `DELETE FROM oauth_codes WHERE code_hash = ? RETURNING code_hash, user_id,
		provider, redirect_uri, code_challenge, expires_at, link, subject, email, email_verified`, codeHash).
		Scan(&c.CodeHash, &c.UserID, &c.Provider, &c.RedirectURI, &c.CodeChallenge, scanTime(&c.ExpiresAt),
			&c.Link, &c.Subject, &c.Email, &c.EmailVerified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "take auth code: no such code")
	}
	if err != nil {
		return nil, fmt.Errorf("take auth code: %w", err)
	}
	if !now.Before(c.ExpiresAt) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "take auth code: expired")
	}
	return c, nil
}

// PruneOAuth deletes expired sign-ins and codes.
func (s *identityStore) PruneOAuth(ctx context.Context, before time.Time) (int64, error) {
	return inTx(ctx, s.db, "prune oauth", func(tx runner) (int64, error) {
		var total int64
		for _, table := range []string{"oauth_logins", "oauth_codes"} {
			res, err := tx.exec(ctx, `DELETE FROM `+table+` WHERE expires_at < ?`, s.db.dialect.timeValue(before))
			if err != nil {
				return 0, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return 0, err
			}
			total += n
		}
		return total, nil
	})
}

// foreignKeyViolation reports whether err is a foreign key violation, in
// either dialect.
func foreignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// verifiedAt is the email_verified_at of a new user: NULL unless the
// provider vouched for the address.
func (s *identityStore) verifiedAt(u *gatehouse.User) any {
	if u.EmailVerifiedAt.IsZero() {
		return nil
	}
	return s.db.dialect.timeValue(u.EmailVerifiedAt)
}
