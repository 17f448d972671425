// Package sqldb is the SQL storage of gatehouse behind database/sql. It
// speaks SQLite through modernc.org/sqlite (pure Go, no cgo). Whatever differs
// between databases is a field of the dialect type, so that adding one more
// database means one more dialect value, not a second copy of every query.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// dialect is what differs between the databases sqldb speaks. Queries are
// written once, with ? placeholders, in SQL that each dialect accepts.
type dialect struct {
	// name names the dialect's folder under migrations/.
	name string
	// driver is the database/sql driver name.
	driver string
	// uniqueColumn returns the column whose unique constraint err violated,
	// or "" when err is not a unique violation.
	uniqueColumn func(err error) string
	// timeValue encodes a timestamp the way the dialect stores it.
	timeValue func(time.Time) any
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
// Accepted are "sqlite:///abs/path.db", "sqlite://relative/path.db" (relative
// to the working directory), a "file:" URI handed to SQLite as it is, and a
// bare filesystem path ending .db or .sqlite. Anything else, postgres://
// included, is refused as an unsupported database URL scheme. The parent
// directory of a SQLite file is created (0700) if missing. An in-memory
// database ("file::memory:") gets a pool of one connection, which is the
// database.
func Open(ctx context.Context, url string) (*DB, error) {
	path, dsn, err := parseSQLiteURL(url)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	sqlDB, err := sql.Open(sqliteDialect.driver, dsn)
	if err != nil {
		return nil, err
	}
	// Each SQLite connection holds its own page cache and runs on the calling
	// goroutine, so connections beyond the CPUs cost memory without adding
	// throughput (writers are serialised by SQLite anyway). Idle connections
	// are kept rather than reopened because each reopen replays the pragmas
	// and forgets the prepared statements.
	n := max(4, runtime.GOMAXPROCS(0))
	if path == "" {
		// An in-memory (or temporary) database belongs to the connection
		// that opened it; a second connection would see another, empty one.
		n = 1
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)

	// Ping opens the first connection, so an unreadable file or a file that
	// is not a database fails here rather than on the first request.
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := &DB{Now: time.Now, sql: sqlDB, dialect: &sqliteDialect}
	db.users = &userStore{db: db, byID: preparedStmt{query: selectUser + ` WHERE id = ?`}}
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
// the driver already decodes (declared DATETIME, as an imported table may
// be) arrives as a time.Time.
func scanTime(t *time.Time) sql.Scanner { return timeScanner{t} }

type timeScanner struct{ t *time.Time }

func (s timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*s.t = v.UTC()
		return nil
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
