package e2e

import "testing"

// postgresBackend is filled in once the PostgreSQL store lands.
func postgresBackend() *backend { return nil }

func postgresURL(t *testing.T) string {
	t.Helper()
	requireEnv(t, "GATEHOUSE_TEST_POSTGRES_URL")
	t.Skip("PostgreSQL store not wired yet")
	return ""
}
