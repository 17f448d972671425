package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// userStore is the gatehouse.UserStore of a DB. The methods that are a
// single statement run it on the pool; the others (an import, a change that
// revokes sessions) each run in one transaction.
type userStore struct {
	db *DB
	// byID is prepared once and kept: UserByID runs on every authenticated
	// request, and parsing its SQL each time would be most of its cost.
	byID preparedStmt
}

var _ gatehouse.UserStore = (*userStore)(nil)

// selectUser reads a user with its roles, aggregated by a subquery on
// user_roles' primary key (string_agg: SQLite 3.44+ and PostgreSQL alike),
// so that the hot UserByID stays one statement.
const selectUser = `SELECT id, username, username_key, email, email_key, hashed_password, is_active, created_at, email_verified_at,
	(SELECT string_agg(role, ' ') FROM user_roles WHERE user_id = users.id) FROM users`

// CreateUser inserts u and lets the unique constraints on username_key and
// email_key decide whether the keys are free: a look-up first would let two
// concurrent registrations of one name both pass it. u.Roles, if any, are
// stored in the same transaction (see createWithRoles).
func (s *userStore) CreateUser(ctx context.Context, u *gatehouse.User) error {
	if len(u.Roles) > 0 {
		return s.createWithRoles(ctx, u)
	}
	return s.create(ctx, s.db.pool(), u)
}

// create inserts u on q (the pool, or a transaction).
func (s *userStore) create(ctx context.Context, q runner, u *gatehouse.User) error {
	now := s.db.now()
	var id int64
	err := q.queryRow(ctx,
		`INSERT INTO users (username, username_key, email, email_key, hashed_password, is_active, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.UsernameKey, u.Email, u.EmailKey, u.PasswordHash, u.IsActive, s.db.dialect.timeValue(now),
	).Scan(&id)
	if err != nil {
		err = fmt.Errorf("create user: %w", err)
		switch s.db.dialect.uniqueColumn(err) {
		case "username_key":
			return &gatehouse.Error{Code: gatehouse.CodeUsernameTaken, Err: err}
		case "email_key":
			return &gatehouse.Error{Code: gatehouse.CodeEmailTaken, Err: err}
		}
		return err
	}
	u.ID, u.CreatedAt = id, now
	return nil
}

// ImportUser inserts a user from another system; see gatehouse.UserStore.
//
// The unique constraints decide here too, through ON CONFLICT DO NOTHING
// rather than a look-up first: an import racing a registration of the same
// name finds the name taken, and nothing fails, which matters in
// PostgreSQL, where a failed statement aborts its whole transaction. The
// first INSERT keeps u.ID and does nothing if the id or a key is taken; the
// second takes a new id, so only a key can stop it.
func (s *userStore) ImportUser(ctx context.Context, u *gatehouse.User) (bool, error) {
	created := u.CreatedAt.UTC().Truncate(time.Microsecond)
	if created.IsZero() {
		created = s.db.now()
	}
	args := []any{u.Username, u.UsernameKey, u.Email, u.EmailKey, u.PasswordHash, u.IsActive, s.db.dialect.timeValue(created)}
	return inTx(ctx, s.db, "import user", func(tx runner) (bool, error) {
		var id int64
		err := sql.ErrNoRows
		if u.ID > 0 {
			if reserve := s.db.dialect.reserveID; reserve != nil {
				if err := reserve(ctx, tx, u.ID); err != nil {
					return false, err
				}
			}
			err = tx.queryRow(ctx, `INSERT INTO users (id, username, username_key, email, email_key, hashed_password, is_active, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`, append([]any{u.ID}, args...)...).Scan(&id)
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.queryRow(ctx, `INSERT INTO users (username, username_key, email, email_key, hashed_password, is_active, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`, args...).Scan(&id)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		u.ID, u.CreatedAt = id, created
		return true, nil
	})
}

// UserByID returns the user with that id.
func (s *userStore) UserByID(ctx context.Context, id int64) (*gatehouse.User, error) {
	stmt, err := s.byID.get(ctx, s.db.sql)
	if err != nil {
		return nil, fmt.Errorf("user by id: %w", err)
	}
	return scanUser(stmt.QueryRowContext(ctx, id), "id")
}

// UserByUsername returns the user whose username_key is key.
func (s *userStore) UserByUsername(ctx context.Context, key string) (*gatehouse.User, error) {
	return scanUser(s.db.pool().queryRow(ctx, selectUser+` WHERE username_key = ?`, key), "username")
}

// UserByEmail returns the user whose email_key is key.
func (s *userStore) UserByEmail(ctx context.Context, key string) (*gatehouse.User, error) {
	return scanUser(s.db.pool().queryRow(ctx, selectUser+` WHERE email_key = ?`, key), "email")
}

// ListUsers returns a page of users by ascending id.
func (s *userStore) ListUsers(ctx context.Context, after int64, limit int) ([]*gatehouse.User, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list users: limit %d must be positive", limit)
	}
	return s.queryUsers(ctx, "list users", selectUser+` WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// queryUsers runs a selectUser query of many rows; what names it in errors.
// None is an empty slice, not an error.
func (s *userStore) queryUsers(ctx context.Context, what, query string, args ...any) ([]*gatehouse.User, error) {
	rows, err := s.db.pool().query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	users := []*gatehouse.User{}
	for rows.Next() {
		u, err := scanUser(rows, "id")
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return users, nil
}

// scanUser reads the one row of a selectUser query. The cause of a not-found
// error names the kind of key but not the key: causes are logged, and a
// username or email address is personal data.
func scanUser(row rowScanner, by string) (*gatehouse.User, error) {
	u := new(gatehouse.User)
	var roles sql.NullString
	err := row.Scan(&u.ID, &u.Username, &u.UsernameKey, &u.Email, &u.EmailKey, &u.PasswordHash, &u.IsActive,
		scanTime(&u.CreatedAt), scanNullTime(&u.EmailVerifiedAt), &roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "user by %s: no such user", by)
	}
	if err != nil {
		return nil, fmt.Errorf("user by %s: %w", by, err)
	}
	u.Roles = splitRoles(roles.String)
	return u, nil
}

// SetPasswordHash replaces the hash of user id.
func (s *userStore) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	return s.change(ctx, "set password hash", id, `UPDATE users SET hashed_password = ? WHERE id = ?`, hash)
}

// SetUserActive activates or deactivates user id; deactivating revokes the
// user's sessions in the same transaction.
func (s *userStore) SetUserActive(ctx context.Context, id int64, active bool) error {
	if active {
		return s.change(ctx, "set user active", id, `UPDATE users SET is_active = ? WHERE id = ?`, active)
	}
	return s.changeAndRevoke(ctx, "deactivate user", id, s.db.now(), "", gatehouse.RevokedUserDeactivated,
		`UPDATE users SET is_active = ? WHERE id = ?`, false)
}

// ChangePassword replaces the hash of user id and revokes the user's other
// sessions, in one transaction.
func (s *userStore) ChangePassword(ctx context.Context, id int64, hash, keepSession string, at time.Time) error {
	return s.changeAndRevoke(ctx, "change password", id, at, keepSession, gatehouse.RevokedPasswordChanged,
		`UPDATE users SET hashed_password = ? WHERE id = ?`, hash)
}

// DeleteUser removes user id; its sessions go with it (ON DELETE CASCADE),
// after their revocation is logged for resource servers still holding their
// access tokens.
func (s *userStore) DeleteUser(ctx context.Context, id int64) error {
	return s.changeAndRevoke(ctx, "delete user", id, s.db.now(), "", gatehouse.RevokedUserDeleted, `DELETE FROM users WHERE id = ?`)
}

// changeAndRevoke revokes the sessions of user id except keep, then runs
// query (whose last placeholder is id), in one transaction; CodeNotFound when
// there is no such user.
//
// The user's row is locked first, where the dialect has row locks, because
// a session created meanwhile would escape the revocation: in PostgreSQL a
// login committing between the revocation and a DELETE would have its
// session removed by the cascade without a word in the revocation log. A
// CreateSession for the user now waits (its foreign key check needs the
// row) and then fails, the user being gone, or comes after the change, as
// in SQLite, where this whole transaction excludes every other writer.
func (s *userStore) changeAndRevoke(ctx context.Context, op string, id int64, at time.Time, keep, reason, query string, args ...any) error {
	_, err := inTx(ctx, s.db, op, func(tx runner) (int, error) {
		var active bool
		err := tx.queryRow(ctx, `SELECT is_active FROM users WHERE id = ?`+s.db.dialect.forUpdate, id).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, gatehouse.Errorf(gatehouse.CodeNotFound, "%s %d: no such user", op, id)
		} else if err != nil {
			return 0, err
		}
		if endsAccount := reason == gatehouse.RevokedUserDeactivated || reason == gatehouse.RevokedUserDeleted; endsAccount && active {
			// The last-admin rule of SetUserRoles holds here too, under the
			// same locks: two admins deactivating or deleting each other at
			// once must not leave no admin at all.
			var isAdmin int
			if err := tx.queryRow(ctx, `SELECT count(*) FROM user_roles WHERE user_id = ? AND role = ?`, id, gatehouse.RoleAdmin).Scan(&isAdmin); err != nil {
				return 0, err
			}
			if isAdmin > 0 {
				if err := lastAdminCheck(ctx, tx, s.db.dialect, id); err != nil {
					return 0, err
				}
			}
		}
		if _, err := revokeWhere(ctx, tx, `user_id = ? AND id <> ?`, []any{id, keep}, reason, at); err != nil {
			return 0, err
		}
		// A pending second step (mfa_token) was opened by the password, or
		// the account, that this change ends: it goes with the sessions.
		if _, err := tx.exec(ctx, `DELETE FROM mfa_challenges WHERE user_id = ?`, id); err != nil {
			return 0, err
		}
		res, err := tx.exec(ctx, query, append(args, id)...)
		if err := expectRow(res, err, op); gatehouse.IsCode(err, gatehouse.CodeNotFound) {
			return 0, gatehouse.Errorf(gatehouse.CodeNotFound, "%s %d: no such user", op, id)
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	})
	return err
}

// change runs query with args and then id, which its last placeholder
// matches, and reports CodeNotFound when it touched no row. Both SQLite and PostgreSQL
// count a row the WHERE matched even when the new value equals the old, so
// setting what is already set is not mistaken for a missing user.
func (s *userStore) change(ctx context.Context, op string, id int64, query string, args ...any) error {
	res, err := s.db.pool().exec(ctx, query, append(args, id)...)
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	if n == 0 {
		return gatehouse.Errorf(gatehouse.CodeNotFound, "%s %d: no such user", op, id)
	}
	return nil
}
