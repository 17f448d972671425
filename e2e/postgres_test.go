package e2e

// postgresBackend is filled in once the PostgreSQL store lands.
func postgresBackend() *backend { return nil }
