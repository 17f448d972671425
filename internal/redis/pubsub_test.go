package redis

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// listener runs Listen and records what it was told.
type listener struct {
	mu    sync.Mutex
	syncs int
	users []int64
	done  chan struct{}
}

func listen(tb testing.TB, c *Client, onRevocations func()) *listener {
	tb.Helper()
	l := &listener{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(l.done)
		c.Listen(ctx, func() {
			if onRevocations != nil {
				onRevocations()
			}
			l.mu.Lock()
			l.syncs++
			l.mu.Unlock()
		}, func(id int64) {
			l.mu.Lock()
			l.users = append(l.users, id)
			l.mu.Unlock()
		})
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-l.done:
		case <-time.After(10 * time.Second):
			tb.Error("Listen did not return after its context ended")
		}
	})
	return l
}

func (l *listener) syncCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncs
}

func (l *listener) heard(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range l.users {
		if u == id {
			return true
		}
	}
	return false
}

// userStore is a UserStore whose writes succeed and do nothing.
type userStore struct{ gatehouse.UserStore }

func (userStore) SetUserActive(context.Context, int64, bool) error { return nil }
func (userStore) DeleteUser(context.Context, int64) error          { return nil }

func TestAnnouncementsReachOtherInstances(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	prefix := testPrefix(t, url)
	clk := newClock()
	store := &logStore{}
	a := newInstance(t, url, prefix, store, clk)
	b := newInstance(t, url, prefix, store, clk)
	other := openTest(t, url, testPrefix(t, url), clk, nil) // another deployment
	ctx := context.Background()

	// A raw subscriber counts what is said on the channel.
	raw := a.c.rdb.Subscribe(ctx, a.c.channel)
	defer raw.Close()
	if _, err := raw.Receive(ctx); err != nil { // the subscription
		t.Fatal(err)
	}

	bl := listen(t, b.c, func() { b.revs.Sync(ctx) })
	waitFor(t, "the first subscription's sync", func() bool { return bl.syncCount() >= 1 })

	// Users: announced through the store wrapper or directly.
	users := a.c.Users(userStore{})
	if err := users.SetUserActive(ctx, 7, false); err != nil {
		t.Fatal(err)
	}
	if err := a.c.UserChanged(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if err := other.UserChanged(ctx, 99); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "user 7 and 42 announced", func() bool { return bl.heard(7) && bl.heard(42) })

	// Revocations: B's local set catches up without waiting for its poll.
	store.add("s1", clk.now().Add(time.Hour))
	syncs := bl.syncCount()
	if err := a.revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B's sync after A's revocation", func() bool { return bl.syncCount() > syncs && b.local.Revoked("s1") })
	if bl.heard(99) {
		t.Error("heard another deployment's announcement")
	}

	// One revocation is announced once, however many instances write it:
	// B's sync (above) and A's next one find the key already there.
	if err := a.revs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.c.publish(ctx, "sentinel"); err != nil {
		t.Fatal(err)
	}
	var said []string
	for len(said) == 0 || said[len(said)-1] != "sentinel" {
		m, err := raw.ReceiveTimeout(ctx, 10*time.Second)
		if err != nil {
			t.Fatalf("after %q: %v", said, err)
		}
		if m, ok := m.(*goredis.Message); ok {
			said = append(said, m.Payload)
		}
	}
	want := []string{"user 7", "user 42", "revocations", "sentinel"}
	if len(said) != len(want) {
		t.Fatalf("channel carried %q, want %q", said, want)
	}
	for i := range want {
		if said[i] != want[i] {
			t.Fatalf("channel carried %q, want %q", said, want)
		}
	}
}

func TestCloseEndsListen(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	c := openTest(t, url, testPrefix(t, url), newClock(), nil)
	l := listen(t, c, nil)
	waitFor(t, "the subscription", func() bool { return l.syncCount() == 1 })
	c.Close()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Listen still running after Close")
	}
}
