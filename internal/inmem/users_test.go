package inmem

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// countingStore is a UserStore that counts reads by id; other methods come
// from the embedded interface and are not used here.
type countingStore struct {
	gatehouse.UserStore
	mu    sync.Mutex
	users map[int64]gatehouse.User
	reads int
}

func (s *countingStore) UserByID(_ context.Context, id int64) (*gatehouse.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	u, ok := s.users[id]
	if !ok {
		return nil, &gatehouse.Error{Code: gatehouse.CodeNotFound}
	}
	return &u, nil
}

func (s *countingStore) SetUserActive(_ context.Context, id int64, active bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	u.IsActive = active
	s.users[id] = u
	return nil
}

func (s *countingStore) DeleteUser(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
	return nil
}

func (s *countingStore) SetPasswordHash(_ context.Context, id int64, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	u.PasswordHash = hash
	s.users[id] = u
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newCache(t *testing.T) (*UserCache, *countingStore, *clock) {
	t.Helper()
	store := &countingStore{users: map[int64]gatehouse.User{1: {ID: 1, Username: "a", IsActive: true}, 2: {ID: 2, Username: "b", IsActive: true}}}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	return NewUserCache(store, 2*time.Second, 100, clk.now), store, clk
}

func TestUserCacheHitsAndExpires(t *testing.T) {
	c, store, clk := newCache(t)
	ctx := context.Background()
	for range 3 {
		if _, err := c.UserByID(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 1 {
		t.Errorf("%d store reads for 3 look-ups, want 1", store.reads)
	}
	clk.t = clk.t.Add(2 * time.Second)
	c.UserByID(ctx, 1)
	if store.reads != 2 {
		t.Errorf("entry outlived its TTL: %d reads", store.reads)
	}
}

func TestUserCacheWritesTakeEffectAtOnce(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		write func(c *UserCache) error
		check func(t *testing.T, u *gatehouse.User, err error)
	}{
		{"deactivate", func(c *UserCache) error { return c.SetUserActive(ctx, 1, false) }, func(t *testing.T, u *gatehouse.User, err error) {
			if err != nil || u.IsActive {
				t.Errorf("after deactivation: %+v, %v", u, err)
			}
		}},
		{"delete", func(c *UserCache) error { return c.DeleteUser(ctx, 1) }, func(t *testing.T, u *gatehouse.User, err error) {
			if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
				t.Errorf("after deletion: %+v, %v", u, err)
			}
		}},
		{"new password", func(c *UserCache) error { return c.SetPasswordHash(ctx, 1, "new") }, func(t *testing.T, u *gatehouse.User, err error) {
			if err != nil || u.PasswordHash != "new" {
				t.Errorf("after password change: %+v, %v", u, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newCache(t)
			c.UserByID(ctx, 1)
			if err := tt.write(c); err != nil {
				t.Fatal(err)
			}
			u, err := c.UserByID(ctx, 1)
			tt.check(t, u, err)
		})
	}
}

func TestUserCacheReturnsCopies(t *testing.T) {
	c, _, _ := newCache(t)
	u, _ := c.UserByID(context.Background(), 1)
	u.IsActive = false
	again, _ := c.UserByID(context.Background(), 1)
	if !again.IsActive {
		t.Error("a caller's change leaked into the cache")
	}
}

func TestUserCacheDoesNotCacheNotFound(t *testing.T) {
	c, store, _ := newCache(t)
	c.UserByID(context.Background(), 99)
	store.mu.Lock()
	store.users[99] = gatehouse.User{ID: 99, IsActive: true}
	store.mu.Unlock()
	if _, err := c.UserByID(context.Background(), 99); err != nil {
		t.Errorf("not found was cached: %v", err)
	}
}

func TestUserCacheBounded(t *testing.T) {
	store := &countingStore{users: map[int64]gatehouse.User{}}
	for i := range int64(500) {
		store.users[i] = gatehouse.User{ID: i}
	}
	c := NewUserCache(store, time.Minute, 64, nil)
	for i := range int64(500) {
		c.UserByID(context.Background(), i)
	}
	if n := len(c.entries); n > 64 {
		t.Errorf("%d entries, bound 64", n)
	}
}
