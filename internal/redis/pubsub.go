package redis

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// The messages on the channel. Anything else is ignored, so that an instance
// of an older version keeps working beside a newer one that says more.
const (
	msgRevocations = "revocations"
	msgUserPrefix  = "user "
)

// publish announces msg to every instance listening, through the breaker.
func (c *Client) publish(ctx context.Context, msg string) error {
	return c.do(ctx, func(ctx context.Context) error {
		return c.rdb.Publish(ctx, c.channel, msg).Err()
	})
}

// UserChanged announces that user id was changed (password, activation,
// deletion), so that every instance's user cache forgets it. The error is
// Redis's; the caller's write stands either way, and the other instances'
// caches then see it within their TTL.
func (c *Client) UserChanged(ctx context.Context, id int64) error {
	return c.publish(ctx, msgUserPrefix+strconv.FormatInt(id, 10))
}

// Listen follows the other instances' announcements until ctx ends or the
// Client is closed: onRevocations after revocations were made (it should
// sync the revocation set), onUser(id) after user id changed (it should drop
// the user from the cache). It reconnects by itself after Redis returns, and
// calls onRevocations after every (re)subscription, the first included,
// since announcements made while it was not subscribed are lost.
//
// onRevocations runs on a goroutine of its own, one call at a time, and
// announcements that arrive during a call are answered by one more call: a
// burst of revocations costs two syncs, not one per revocation. onUser runs
// on the receiving goroutine and should be quick.
func (c *Client) Listen(ctx context.Context, onRevocations func(), onUser func(id int64)) {
	ps := c.rdb.Subscribe(ctx, c.channel)
	defer ps.Close()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	kick := make(chan struct{}, 1)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
				onRevocations()
			}
		}
	})
	syncSoon := func() {
		select {
		case kick <- struct{}{}:
		default: // a sync is already pending; it will see this too
		}
	}

	// go-redis pings an idle subscription every interval and reconnects when
	// the ping fails, which also notices a connection that died silently.
	msgs := ps.ChannelWithSubscriptions(goredis.WithChannelHealthCheckInterval(3 * time.Second))
	subscribed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *goredis.Subscription:
				if m.Kind != "subscribe" {
					continue
				}
				if subscribed++; subscribed > 1 {
					c.log.Info("redis subscription restored: syncing revocations")
				}
				syncSoon()
			case *goredis.Message:
				if m.Payload == msgRevocations {
					syncSoon()
				} else if s, ok := strings.CutPrefix(m.Payload, msgUserPrefix); ok {
					if id, err := strconv.ParseInt(s, 10, 64); err == nil {
						onUser(id)
					}
				}
			}
		}
	}
}

// Users is a gatehouse.UserStore that announces every write through it, so
// that the other instances' user caches forget the user at once. It passes
// everything to the store it wraps (the instance's own cache, which forgets
// the user itself).
type Users struct {
	next gatehouse.UserStore
	c    *Client
}

var _ gatehouse.UserStore = (*Users)(nil)

// Users returns next with writes announced.
func (c *Client) Users(next gatehouse.UserStore) *Users {
	return &Users{next: next, c: c}
}

// changed announces id after a write, whether or not the write succeeded (a
// failed write may still have committed, e.g. on a lost commit reply). A
// failed announcement is the breaker's to report.
func (u *Users) changed(ctx context.Context, id int64) {
	_ = u.c.UserChanged(ctx, id)
}

// CreateUser passes through: ids are never reused, so no cache holds the user.
func (u *Users) CreateUser(ctx context.Context, user *gatehouse.User) error {
	return u.next.CreateUser(ctx, user)
}

// ImportUser passes through, like CreateUser.
func (u *Users) ImportUser(ctx context.Context, user *gatehouse.User) (bool, error) {
	return u.next.ImportUser(ctx, user)
}

// UserByID passes through.
func (u *Users) UserByID(ctx context.Context, id int64) (*gatehouse.User, error) {
	return u.next.UserByID(ctx, id)
}

// UserByUsername passes through.
// ListUsers passes through.
func (u *Users) ListUsers(ctx context.Context, after int64, limit int) ([]*gatehouse.User, error) {
	return u.next.ListUsers(ctx, after, limit)
}

func (u *Users) UserByUsername(ctx context.Context, key string) (*gatehouse.User, error) {
	return u.next.UserByUsername(ctx, key)
}

// UserByEmail passes through.
func (u *Users) UserByEmail(ctx context.Context, key string) (*gatehouse.User, error) {
	return u.next.UserByEmail(ctx, key)
}

// SetPasswordHash writes through and announces the user.
func (u *Users) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	defer u.changed(ctx, id)
	return u.next.SetPasswordHash(ctx, id, hash)
}

// SetUserActive writes through and announces the user.
func (u *Users) SetUserActive(ctx context.Context, id int64, active bool) error {
	defer u.changed(ctx, id)
	return u.next.SetUserActive(ctx, id, active)
}

// ChangePassword writes through and announces the user.
func (u *Users) ChangePassword(ctx context.Context, id int64, hash, keepSession string, at time.Time) error {
	defer u.changed(ctx, id)
	return u.next.ChangePassword(ctx, id, hash, keepSession, at)
}

// DeleteUser writes through and announces the user.
func (u *Users) DeleteUser(ctx context.Context, id int64) error {
	defer u.changed(ctx, id)
	return u.next.DeleteUser(ctx, id)
}
