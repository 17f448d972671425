package e2e

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

// postgresURL returns a URL to a fresh, empty schema (dropped at the end of
// the test), or skips when GATEHOUSE_TEST_POSTGRES_URL is unset.
func postgresURL(t testing.TB) string {
	t.Helper()
	return storetest.PostgresURL(t)
}

// postgresBackend is PostgreSQL for the crash test, when configured.
func postgresBackend() *backend {
	if os.Getenv(storetest.PostgresURLEnv) == "" {
		return nil
	}
	return &backend{name: "postgres", env: func(t *testing.T, _ string) (map[string]string, func(t *testing.T)) {
		u := postgresURL(t)
		check := func(t *testing.T) {
			db, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkRows(t, db)
		}
		return map[string]string{"GATEHOUSE_DATABASE_URL": u}, check
	}}
}
