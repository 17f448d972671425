package redis

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse"
)

var _ gatehouse.AdminStore = (*Users)(nil)

// admin returns the store Users wraps as a gatehouse.AdminStore.
func (u *Users) admin() (gatehouse.AdminStore, error) {
	a, ok := u.next.(gatehouse.AdminStore)
	if !ok {
		return nil, fmt.Errorf("redis: the wrapped user store %T is not a gatehouse.AdminStore", u.next)
	}
	return a, nil
}

// SearchUsers passes through.
func (u *Users) SearchUsers(ctx context.Context, q gatehouse.UserQuery) ([]*gatehouse.User, error) {
	a, err := u.admin()
	if err != nil {
		return nil, err
	}
	return a.SearchUsers(ctx, q)
}

// SetUserRoles writes through and announces the user, so that every
// instance's cache forgets the old roles at once.
func (u *Users) SetUserRoles(ctx context.Context, id int64, roles []string) error {
	a, err := u.admin()
	if err != nil {
		return err
	}
	defer u.changed(ctx, id)
	return a.SetUserRoles(ctx, id, roles)
}
