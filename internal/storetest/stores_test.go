package storetest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

// The stack the server runs, SQLite behind the in-process user cache, must
// behave exactly like the store alone, sessions included (the cache passes
// the revoking user methods through).
func TestCachedSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.UserStore {
		return cachedUsers(openSQLite(t))
	})
}

func TestCachedSQLiteSessions(t *testing.T) {
	storetest.RunSessionStore(t, func(t *testing.T) storetest.Stores {
		db := openSQLite(t)
		return storetest.Stores{Users: cachedUsers(db), Sessions: db.Sessions()}
	})
}

func cachedUsers(db *sqldb.DB) gatehouse.UserStore {
	return inmem.NewUserCache(db.Users(), time.Minute, 1000, nil)
}

func openSQLite(t *testing.T) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cached.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
