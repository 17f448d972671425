package inmem

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// EmailTokens returns next with the cache kept true: verifying an email or
// resetting a password changes the user, so the cache forgets the user the
// token named, as it does after its own writes.
func (c *UserCache) EmailTokens(next gatehouse.EmailTokenStore) gatehouse.EmailTokenStore {
	return cachedEmailTokens{EmailTokenStore: next, forget: c.forget}
}

type cachedEmailTokens struct {
	gatehouse.EmailTokenStore
	forget func(id int64)
}

func (c cachedEmailTokens) VerifyEmail(ctx context.Context, hash string, at time.Time) (int64, error) {
	id, err := c.EmailTokenStore.VerifyEmail(ctx, hash, at)
	if id != 0 {
		c.forget(id)
	}
	return id, err
}

func (c cachedEmailTokens) ResetPassword(ctx context.Context, hash, passwordHash string, at time.Time) (gatehouse.PasswordResetResult, error) {
	r, err := c.EmailTokenStore.ResetPassword(ctx, hash, passwordHash, at)
	if id := r.UserID; id != 0 {
		c.forget(id)
	}
	return r, err
}
