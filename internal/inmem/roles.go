package inmem

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse"
)

var _ gatehouse.AdminStore = (*UserCache)(nil)

// admin returns the store the cache wraps as a gatehouse.AdminStore.
func (c *UserCache) admin() (gatehouse.AdminStore, error) {
	a, ok := c.next.(gatehouse.AdminStore)
	if !ok {
		return nil, fmt.Errorf("inmem: the cached store %T is not a gatehouse.AdminStore", c.next)
	}
	return a, nil
}

// SearchUsers passes through: searches are for admins, not the hot path.
func (c *UserCache) SearchUsers(ctx context.Context, q gatehouse.UserQuery) ([]*gatehouse.User, error) {
	a, err := c.admin()
	if err != nil {
		return nil, err
	}
	return a.SearchUsers(ctx, q)
}

// SetUserRoles writes through and forgets the user, so that the next request
// (the admin API's role check included) sees the new roles.
func (c *UserCache) SetUserRoles(ctx context.Context, id int64, roles []string) error {
	a, err := c.admin()
	if err != nil {
		return err
	}
	defer c.forget(id)
	return a.SetUserRoles(ctx, id, roles)
}
