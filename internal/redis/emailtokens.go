package redis

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// EmailTokens returns next announcing, like the user store's writes, the
// user a verification or a password reset changed, so that every instance's
// cache forgets it at once.
func (u *Users) EmailTokens(next gatehouse.EmailTokenStore) gatehouse.EmailTokenStore {
	return announcedEmailTokens{EmailTokenStore: next, u: u}
}

type announcedEmailTokens struct {
	gatehouse.EmailTokenStore
	u *Users
}

func (a announcedEmailTokens) VerifyEmail(ctx context.Context, hash string, at time.Time) (int64, error) {
	id, err := a.EmailTokenStore.VerifyEmail(ctx, hash, at)
	if id != 0 {
		a.u.changed(ctx, id)
	}
	return id, err
}

func (a announcedEmailTokens) ResetPassword(ctx context.Context, hash, passwordHash string, at time.Time) (gatehouse.PasswordResetResult, error) {
	r, err := a.EmailTokenStore.ResetPassword(ctx, hash, passwordHash, at)
	if id := r.UserID; id != 0 {
		a.u.changed(ctx, id)
	}
	return r, err
}
