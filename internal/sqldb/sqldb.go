// Package sqldb is the SQL storage of gatehouse behind database/sql. It
// speaks SQLite through modernc.org/sqlite (pure Go, no cgo) and PostgreSQL
// through pgx's database/sql driver. Whatever differs between databases is a
// field of the dialect type, so that adding one more database means one more
// dialect value, not a second copy of every query.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// dialect is what differs between the databases sqldb speaks. Queries are
// written once, with ? placeholders, in SQL that each dialect accepts; a
// runner rewrites the placeholders for the dialect.
type dialect struct {
	// name names the dialect's folder under migrations/.
	name string
	// uniqueColumn returns the column whose unique constraint err violated,
	// or "" when err is not a unique violation.
	uniqueColumn func(err error) string
	// timeValue encodes a timestamp the way the dialect stores it.
	timeValue func(time.Time) any
	// timeType is the column type of a timestamp, for the one table not
	// created by the dialect's own migrations (schema_migrations).
	timeType string
	// greatest is the function returning the larger of two values.
	greatest string
	// placeholders rewrites ? placeholders to the dialect's own; nil where
	// ? is the dialect's own.
	placeholders *placeholderCache
	// lockMigrations and lockRevocations take a lock held until the
	// transaction ends, which serialises the transactions that apply
	// migrations, or that append to the revocation log; "" where write
	// transactions are serialised anyway (SQLite begins them IMMEDIATE).
	lockMigrations, lockRevocations string
	// forUpdate, appended to a SELECT, locks the rows read until the
	// transaction ends; "" where write transactions are serialised anyway.
	forUpdate string
	// reserveID, if set, runs in ImportUser's transaction before it inserts
	// a user with an explicit id, and makes sure the database never
	// generates that id itself. SQLite needs nothing: AUTOINCREMENT keeps
	// the largest id ever inserted, however it came.
	reserveID func(ctx context.Context, tx runner, id int64) error
}

// bind returns query with its ? placeholders in the dialect's form.
func (d *dialect) bind(query string) string {
	if d.placeholders == nil {
		return query
	}
	return d.placeholders.get(query)
}

// DB is a gatehouse database. It is safe for concurrent use.
type DB struct {
	// Now is the clock that stamps CreatedAt. Open sets it to time.Now;
	// replace it before the first use of the DB to pin time in tests.
	Now func() time.Time

	sql     *sql.DB
	dialect *dialect
	users   *userStore
}

var _ gatehouse.Pinger = (*DB)(nil)

// Open opens the database named by url and applies no migrations.
//
// A "postgres://" or "postgresql://" URL names a PostgreSQL database (see
// openPostgres for its pool and parameters). For SQLite, accepted are
// "sqlite:///abs/path.db", "sqlite://relative/path.db" (relative to the
// working directory), a "file:" URI handed to SQLite as it is, and a bare
// filesystem path ending .db or .sqlite. Anything else is refused as an
// unsupported database URL scheme. The parent directory of a SQLite file is
// created (0700) if missing. An in-memory SQLite database ("file::memory:")
// gets a pool of one connection, which is the database.
//
// Open connects once, so that a database that cannot be reached fails here
// rather than on the first request. No error it returns contains the
// password of the URL.
func Open(ctx context.Context, url string) (*DB, error) {
	var (
		sqlDB *sql.DB
		d     *dialect
		err   error
	)
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		sqlDB, err = openPostgres(ctx, url)
		d = &postgresDialect
	} else {
		sqlDB, err = openSQLite(ctx, url)
		d = &sqliteDialect
	}
	if err != nil {
		return nil, err
	}
	db := &DB{Now: time.Now, sql: sqlDB, dialect: d}
	// The rewrite is done here, once, rather than on each call: UserByID
	// runs on every authenticated request.
	db.users = &userStore{db: db, byID: preparedStmt{query: d.bind(selectUser + ` WHERE id = ?`)}}
	return db, nil
}

// Close waits for running queries to finish and closes the database.
func (db *DB) Close() error {
	return errors.Join(db.users.byID.close(), db.sql.Close())
}

// Ping reports whether the database answers; it implements gatehouse.Pinger.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Users returns the gatehouse.UserStore backed by db. The store is a separate
// value rather than db itself so that the stores still to come (sessions,
// keys) each keep a method set of their own.
func (db *DB) Users() gatehouse.UserStore { return db.users }

// now reads the clock as the time will read back from the database: UTC, to
// the microsecond, so that what CreateUser sets is what UserByID returns.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// runner runs queries written with ? placeholders, bound to the dialect, on
// the pool or on one transaction.
type runner struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
	d *dialect
}

// pool returns the runner of the pool, for what needs no transaction.
func (db *DB) pool() runner { return runner{db.sql, db.dialect} }

func (r runner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, r.d.bind(query), args...)
}

func (r runner) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.d.bind(query), args...)
}

func (r runner) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.d.bind(query), args...)
}

// lock runs the locking statement lockSQL (a dialect field) unless it is
// empty.
func (r runner) lock(ctx context.Context, lockSQL string) error {
	if lockSQL == "" {
		return nil
	}
	_, err := r.exec(ctx, lockSQL)
	return err
}

// preparedStmt is a statement prepared on first use rather than at Open: the
// table it reads may not exist until Migrate has run.
type preparedStmt struct {
	query string
	mu    sync.Mutex
	stmt  atomic.Pointer[sql.Stmt]
}

func (p *preparedStmt) get(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	if s := p.stmt.Load(); s != nil {
		return s, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.stmt.Load(); s != nil {
		return s, nil
	}
	s, err := db.PrepareContext(ctx, p.query)
	if err != nil {
		return nil, err
	}
	p.stmt.Store(s)
	return s, nil
}

func (p *preparedStmt) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.stmt.Swap(nil); s != nil {
		return s.Close()
	}
	return nil
}

// timeLayout is how timestamps are written as text: UTC, fixed width, so
// that text order is time order.
const timeLayout = "2006-01-02 15:04:05.000000"

// scanTime returns a sql.Scanner that stores a timestamp column into t, in
// UTC. Text is read with or without the fraction, so the tutorial's
// CURRENT_TIMESTAMP values ('2006-01-02 15:04:05') read too; a column that
// the driver already decodes (PostgreSQL's TIMESTAMPTZ, or SQLite's DATETIME
// as an imported table may declare it) arrives as a time.Time, in whatever
// zone the driver chose. NULL is an error.
func scanTime(t *time.Time) sql.Scanner { return timeScanner{t: t} }

// scanNullTime is scanTime for a column that may be NULL, which leaves t
// zero.
func scanNullTime(t *time.Time) sql.Scanner { return timeScanner{t: t, null: true} }

type timeScanner struct {
	t    *time.Time
	null bool
}

func (s timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		// Microseconds, as every dialect stores them: the text form has six
		// digits and PostgreSQL keeps no more, so that a time reads back
		// alike from both.
		*s.t = v.UTC().Truncate(time.Microsecond)
		return nil
	case nil:
		if s.null {
			*s.t = time.Time{}
			return nil
		}
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	}
	return fmt.Errorf("scan time: unsupported type %T", src)
}

func (s timeScanner) parse(v string) error {
	// The layout without a fraction accepts one anyway when parsing.
	t, err := time.Parse("2006-01-02 15:04:05", v)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*s.t = t
	return nil
}
