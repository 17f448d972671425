package sqldb

import (
	"context"
	"database/sql"
	"io/fs"
)

// SQL gives the tests the pool, to read pragmas and rows as stored.
func (db *DB) SQL() *sql.DB { return db.sql }

// Bind rewrites a query written with ? placeholders for db's dialect, so
// that the tests' own SQL runs on every backend.
func (db *DB) Bind(query string) string { return db.dialect.bind(query) }

// MigrateFS applies the migrations in fsys, as Migrate applies the embedded
// ones.
func (db *DB) MigrateFS(ctx context.Context, fsys fs.FS) ([]string, error) {
	return db.migrate(ctx, fsys)
}
