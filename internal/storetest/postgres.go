package storetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURLEnv names the environment variable that gives the tests a
// PostgreSQL server, as a postgres:// URL whose user may create schemas in
// its database. Tests that need PostgreSQL skip when it is unset.
const PostgresURLEnv = "GATEHOUSE_TEST_POSTGRES_URL"

// PostgresURL returns a postgres:// URL for a schema of tb's own, created
// empty on the server that GATEHOUSE_TEST_POSTGRES_URL names and dropped,
// with everything in it, by a cleanup of tb (which runs after the cleanups
// registered later, such as one closing a pool opened on the URL). The URL
// sets search_path to the schema, so that whatever connects with it creates
// and finds its tables there: tests in parallel, or test binaries of
// several packages on one server, never meet. The URL always has a query,
// so a caller may append "&pool_max_conns=4" or another parameter.
//
// Typical use, in any package's tests:
//
//	db, err := sqldb.Open(ctx, storetest.PostgresURL(t))
//	... t.Cleanup(func() { db.Close() }); db.Migrate(ctx) ...
//
// It skips tb when the variable is unset, and fails it when the server
// cannot be reached: a server named but down is a broken setup, not an
// absent one.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	SkipUnlessPostgres(tb)
	base := os.Getenv(PostgresURLEnv)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// The URL itself is not shown: it may hold a password.
		tb.Fatalf("%s is not a postgres:// URL", PostgresURLEnv)
	}
	// Lower case: search_path folds unquoted names to lower case.
	schema := "gh_test_" + strings.ToLower(rand.Text())
	ident := pgx.Identifier{schema}.Sanitize()
	// tb.Context is cancelled before cleanups run, so both ends of the
	// schema's life get a context of their own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pgExec(ctx, tb, base, "CREATE SCHEMA "+ident)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pgExec(ctx, tb, base, "DROP SCHEMA "+ident+" CASCADE")
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SkipUnlessPostgres skips tb, saying how to run it, unless
// GATEHOUSE_TEST_POSTGRES_URL is set. A test that runs one subtest per
// backend can call it once on the PostgreSQL subtest, rather than see each
// of its own subtests skip in PostgresURL.
func SkipUnlessPostgres(tb testing.TB) {
	tb.Helper()
	if os.Getenv(PostgresURLEnv) == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", PostgresURLEnv)
	}
}

// pgExec runs one statement on a connection of its own.
func pgExec(ctx context.Context, tb testing.TB, connURL, sql string) {
	tb.Helper()
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		tb.Fatalf("connect to %s: %s", PostgresURLEnv, redact(err, connURL))
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// redact returns err's message without the password of connURL, which
// test logs should not carry either.
func redact(err error, connURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(connURL); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}
