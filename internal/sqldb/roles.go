package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse"
)

var _ gatehouse.AdminStore = (*userStore)(nil)

// Admin returns the gatehouse.AdminStore backed by db: the user store's
// search and role methods.
func (db *DB) Admin() gatehouse.AdminStore { return db.users }

// splitRoles reads the aggregated roles column of selectUser: nil for none,
// sorted otherwise (string_agg promises no order).
func splitRoles(s string) []string {
	if s == "" {
		return nil
	}
	roles := strings.Fields(s)
	slices.Sort(roles)
	return roles
}

// createWithRoles inserts u and its roles in one transaction, so that an
// account made an admin at creation (`gatehouse user create --admin`) never
// exists for a moment without the role, nor is left without it by a failure.
func (s *userStore) createWithRoles(ctx context.Context, u *gatehouse.User) error {
	roles, err := storedRoles(u.Roles)
	if err != nil {
		return err
	}
	_, err = inTx(ctx, s.db, "create user", func(tx runner) (struct{}, error) {
		if err := s.create(ctx, tx, u); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, insertRoles(ctx, tx, u.ID, roles)
	})
	if err == nil {
		u.Roles = roles
	}
	return err
}

// storedRoles normalises roles as gatehouse.NormalizeRoles does, refusing
// invalid names with a CodeValidation error on field "roles".
func storedRoles(roles []string) ([]string, error) {
	stored, invalid := gatehouse.NormalizeRoles(roles)
	if len(invalid) > 0 {
		return nil, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "roles"}, Type: "role_invalid", Key: "role_invalid"})
	}
	return stored, nil
}

func insertRoles(ctx context.Context, tx runner, id int64, roles []string) error {
	for _, r := range roles {
		if _, err := tx.exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, r); err != nil {
			return fmt.Errorf("insert role: %w", err)
		}
	}
	return nil
}

// SetUserRoles replaces the roles of user id; see gatehouse.AdminStore.
//
// The last-admin rule is decided inside the transaction, under locks: the
// user's row, and, when RoleAdmin is being taken from an active user, every
// user_roles row of RoleAdmin, locked in one order (by user id) so that two
// admins dropping their own role at once cannot both see the other as the
// admin who remains, nor deadlock. SQLite needs no row locks: its write
// transactions run one at a time.
func (s *userStore) SetUserRoles(ctx context.Context, id int64, roles []string) error {
	roles, err := storedRoles(roles)
	if err != nil {
		return err
	}
	_, err = inTx(ctx, s.db, "set user roles", func(tx runner) (struct{}, error) {
		var active bool
		err := tx.queryRow(ctx, `SELECT is_active FROM users WHERE id = ?`+s.db.dialect.forUpdate, id).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) {
			return struct{}{}, gatehouse.Errorf(gatehouse.CodeNotFound, "set user roles %d: no such user", id)
		} else if err != nil {
			return struct{}{}, err
		}
		var wasAdmin int
		if err := tx.queryRow(ctx, `SELECT count(*) FROM user_roles WHERE user_id = ? AND role = ?`, id, gatehouse.RoleAdmin).Scan(&wasAdmin); err != nil {
			return struct{}{}, err
		}
		if active && wasAdmin > 0 && !slices.Contains(roles, gatehouse.RoleAdmin) {
			if err := lastAdminCheck(ctx, tx, s.db.dialect, id); err != nil {
				return struct{}{}, err
			}
		}
		if _, err := tx.exec(ctx, `DELETE FROM user_roles WHERE user_id = ?`, id); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, insertRoles(ctx, tx, id, roles)
	})
	return err
}

// lastAdminCheck returns CodeAdminLockout unless an active user other than
// id holds RoleAdmin.
func lastAdminCheck(ctx context.Context, tx runner, d *dialect, id int64) error {
	if d.forUpdate != "" {
		rows, err := tx.query(ctx, `SELECT user_id FROM user_roles WHERE role = ? ORDER BY user_id`+d.forUpdate, gatehouse.RoleAdmin)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var others int
	err := tx.queryRow(ctx, `SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id
		WHERE r.role = ? AND u.is_active AND r.user_id <> ?`, gatehouse.RoleAdmin, id).Scan(&others)
	if err != nil {
		return err
	}
	if others == 0 {
		return gatehouse.Errorf(gatehouse.CodeAdminLockout, "set user roles %d: the last active admin", id)
	}
	return nil
}

// likeEscaper escapes LIKE's wildcards (and the escape character itself),
// so that a search for "a_b" or "50%" matches those characters only.
var likeEscaper = strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`)

// SearchUsers returns a page of users matching q; see gatehouse.AdminStore.
// A search is a substring match over both keys, which no index serves: a
// scan of the users table, acceptable for an admin's occasional query.
// As ListAudit, the WHERE clause is made of constant conditions only.
func (s *userStore) SearchUsers(ctx context.Context, q gatehouse.UserQuery) ([]*gatehouse.User, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("search users: limit %d must be positive", q.Limit)
	}
	where := []string{`id > ?`}
	args := []any{q.After}
	if q.Search != "" {
		pattern := "%" + likeEscaper.Replace(q.Search) + "%"
		where = append(where, `(username_key LIKE ? ESCAPE '!' OR email_key LIKE ? ESCAPE '!')`)
		args = append(args, pattern, pattern)
	}
	if q.Role != "" && q.Role != gatehouse.RoleUser {
		where = append(where, `EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = ?)`)
		args = append(args, q.Role)
	}
	return s.queryUsers(ctx, "search users", selectUser+` WHERE `+strings.Join(where, ` AND `)+` ORDER BY id LIMIT ?`, append(args, q.Limit)...)
}
