package redis

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// emailTokens consumes every token for user 5 (VerifyEmail) or 6
// (ResetPassword).
type emailTokens struct{ gatehouse.EmailTokenStore }

func (emailTokens) VerifyEmail(context.Context, string, time.Time) (int64, error) { return 5, nil }
func (emailTokens) ResetPassword(context.Context, string, string, time.Time) (gatehouse.PasswordResetResult, error) {
	return gatehouse.PasswordResetResult{UserID: 6}, nil
}

// TestEmailTokensAnnounce: a verification or a reset changes a user, so
// every instance's cache must hear of it.
func TestEmailTokensAnnounce(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	prefix := testPrefix(t, url)
	clk := newClock()
	store := &logStore{}
	a := newInstance(t, url, prefix, store, clk)
	b := newInstance(t, url, prefix, store, clk)
	ctx := context.Background()
	bl := listen(t, b.c, func() { b.revs.Sync(ctx) })
	waitFor(t, "the first subscription's sync", func() bool { return bl.syncCount() >= 1 })

	tokens := a.c.Users(userStore{}).EmailTokens(emailTokens{})
	if _, err := tokens.VerifyEmail(ctx, "h", clk.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.ResetPassword(ctx, "h", "hash", clk.now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "users 5 and 6 announced", func() bool { return bl.heard(5) && bl.heard(6) })
}
