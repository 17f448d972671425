package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
)

// migrationFS holds each dialect's migrations, in migrations/<dialect>/.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// createSchemaMigrations is the table that records the migrations applied,
// the one table no migration creates.
func createSchemaMigrations(d *dialect) string {
	return `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at ` + d.timeType + ` NOT NULL
)`
}

// migration is one NNNN_name.sql file.
type migration struct {
	version int
	name    string // the file name without .sql, e.g. "0001_users"
	sql     string
}

// Migrate applies the embedded migrations not yet applied, in version order,
// each in its own transaction that also records it in schema_migrations, and
// returns the names (e.g. "0001_users") of those it applied, none when the
// schema is current. On error it returns those applied before the failure.
//
// It is safe for several processes to migrate one database at once: each
// migration runs under a lock (SQLite's write lock, a PostgreSQL advisory
// lock for the schema) and first checks that no one has recorded it
// meanwhile, so a racer waits and then finds it applied.
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	fsys, err := fs.Sub(migrationFS, "migrations/"+db.dialect.name)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db.migrate(ctx, fsys)
}

func (db *DB) migrate(ctx context.Context, fsys fs.FS) (applied []string, err error) {
	ms, err := readMigrations(fsys)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// Under the lock too: two PostgreSQL sessions running CREATE TABLE IF
	// NOT EXISTS at once can both find no table, and one then fails.
	_, err = inTx(ctx, db, "create schema_migrations", func(tx runner) (struct{}, error) {
		if err := tx.lock(ctx, db.dialect.lockMigrations); err != nil {
			return struct{}{}, err
		}
		_, err := tx.exec(ctx, createSchemaMigrations(db.dialect))
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	done, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		ok, err := db.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if ok {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

// appliedVersions lets Migrate skip, without taking the lock for each, what
// an earlier start already applied: the common case at every start-up.
func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := db.pool().query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := make(map[int]bool)
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return done, nil
}

// applyMigration applies m unless it is recorded already, and reports
// whether it did.
func (db *DB) applyMigration(ctx context.Context, m migration) (bool, error) {
	sqlTx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer sqlTx.Rollback()
	// From here on this process holds the lock (SQLite's write lock, taken
	// by BEGIN IMMEDIATE; PostgreSQL's advisory lock, taken now), so the
	// check below is final.
	tx := runner{sqlTx, db.dialect}
	if err := tx.lock(ctx, db.dialect.lockMigrations); err != nil {
		return false, err
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	// A migration is the dialect's own SQL, run as it is: it has no
	// placeholders to rewrite.
	if _, err := sqlTx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, db.dialect.timeValue(db.now())); err != nil {
		return false, err
	}
	if err := sqlTx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// readMigrations returns the migrations in fsys in version order, which is
// file name order (fs.ReadDir sorts, and versions are fixed-width). A file
// misnamed or sharing its version with another is an error, not skipped: a
// migration silently left out would leave the schema behind the code.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migration %q is not named NNNN_name.sql", e.Name())
		}
		version, _ := strconv.Atoi(m[1]) // four digits always parse
		if len(ms) > 0 && ms[len(ms)-1].version == version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[len(ms)-1].name, e.Name(), version)
		}
		buf, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: m[1] + "_" + m[2], sql: string(buf)})
	}
	return ms, nil
}
