package storetest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/storetest"
	"github.com/jackc/pgx/v5"
)

// The stack the server runs, the SQL store behind the in-process user
// cache, must behave exactly like the store alone, sessions included (the
// cache passes the revoking user methods through), on SQLite and on
// PostgreSQL.
func TestCachedStores(t *testing.T) {
	backends := []struct {
		name    string
		require func(tb testing.TB)
		url     func(t *testing.T) string
	}{
		{"SQLite", func(testing.TB) {}, func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "cached.db") }},
		// A small pool: the suites' subtests run in parallel, and all of
		// them together must stay under the server's max_connections.
		{"PostgreSQL", storetest.SkipUnlessPostgres, func(t *testing.T) string { return storetest.PostgresURL(t) + "&pool_max_conns=4" }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			t.Run("Users", func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) gatehouse.UserStore {
					return cachedUsers(openDB(t, b.url(t)))
				})
			})
			t.Run("Roles", func(t *testing.T) {
				storetest.RunAdminStore(t, func(t *testing.T) storetest.RoleStores {
					c := inmem.NewUserCache(openDB(t, b.url(t)).Users(), time.Minute, 1000, nil)
					return storetest.RoleStores{Users: c, Admin: c}
				})
			})
			t.Run("Sessions", func(t *testing.T) {
				storetest.RunSessionStore(t, func(t *testing.T) storetest.Stores {
					db := openDB(t, b.url(t))
					return storetest.Stores{Users: cachedUsers(db), Sessions: db.Sessions()}
				})
			})
			// Verifying an email or resetting a password through the
			// cache's wrapper must not leave the cache stale.
			t.Run("EmailTokens", func(t *testing.T) {
				storetest.RunEmailTokenStore(t, func(t *testing.T) storetest.EmailStores {
					db := openDB(t, b.url(t))
					cache := inmem.NewUserCache(db.Users(), time.Minute, 1000, nil)
					return storetest.EmailStores{Users: cache, Sessions: db.Sessions(), Tokens: cache.EmailTokens(db.EmailTokens()),
						MFA: db.MFA(), Identities: db.Identities()}
				})
			})
		})
	}
}

// TestPostgresURL checks the schema the helper hands out: the URL's
// search_path, empty, and dropped after the test.
func TestPostgresURL(t *testing.T) {
	var schema string
	t.Run("Fresh", func(t *testing.T) {
		conn := pgConnect(t, storetest.PostgresURL(t))
		ctx := t.Context()
		var tables int
		err := conn.QueryRow(ctx, `SELECT current_schema(), (SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace)`).
			Scan(&schema, &tables)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "gh_test_") || tables != 0 {
			t.Errorf("current schema %q holding %d relations, want an empty one of the helper's", schema, tables)
		}
	})
	if schema == "" {
		return // skipped, or failed already
	}
	var n int
	if err := pgConnect(t, storetest.PostgresURL(t)).QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s outlived its test", schema)
	}
}

func pgConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func cachedUsers(db *sqldb.DB) gatehouse.UserStore {
	return inmem.NewUserCache(db.Users(), time.Minute, 1000, nil)
}

// openDB opens and migrates the database at url, closing it when t ends.
func openDB(t *testing.T, url string) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
