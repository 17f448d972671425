package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var sqliteDialect = dialect{
	name:         "sqlite",
	uniqueColumn: sqliteUniqueColumn,
	// SQLite has no timestamp type; fixed-width text sorts and reads back
	// exactly, and matches the form SQLite's own date functions use.
	timeValue: func(t time.Time) any { return t.UTC().Format(timeLayout) },
	timeType:  "TEXT",
	// SQLite's MAX with two arguments is the scalar maximum, not the
	// aggregate.
	greatest: "MAX",
	// Write transactions begin IMMEDIATE (see sqliteParams): each holds the
	// database's one write lock from its start, so no locks need taking.
}

// openSQLite opens the SQLite database named by url (see Open).
func openSQLite(ctx context.Context, url string) (*sql.DB, error) {
	path, dsn, err := parseSQLiteURL(url)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	sqlDB, err := sql.Open("sqlite", dsn)
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
	return sqlDB, nil
}

// sqliteParams configure every connection of the pool, since the driver
// applies them each time it opens one; a pragma run once through the pool
// would reach only the connection that happened to run it.
//
//   - busy_timeout comes first (the driver orders it so) and makes a
//     connection wait up to 5 s for another's write lock instead of failing
//     with SQLITE_BUSY.
//   - WAL lets readers run while one connection writes; synchronous=NORMAL is
//     durable in WAL mode except for the last commits on power loss.
//   - foreign_keys is off by default in SQLite, for historical reasons.
//   - _txlock=immediate begins write transactions holding the write lock. A
//     deferred transaction that reads and then writes can find its snapshot
//     stale and fail with SQLITE_BUSY at once, with no busy wait to save it.
const sqliteParams = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_txlock=immediate"

// errUnsupportedURL is the error Open returns for a URL it does not know.
var errUnsupportedURL = errors.New("unsupported database URL scheme")

var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// parseSQLiteURL returns the file a SQLite URL names ("" when it names no
// file, as for an in-memory database) and the DSN to open it with.
func parseSQLiteURL(raw string) (path, dsn string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path = strings.TrimPrefix(raw, "sqlite://")
		if path == "" {
			return "", "", fmt.Errorf("%w: sqlite:// URL names no file", errUnsupportedURL)
		}
		// A query would otherwise silently become part of the file name.
		if strings.ContainsAny(path, "?#") {
			return "", "", fmt.Errorf("%w: sqlite:// URL takes no query; use a file: URI for SQLite URI parameters", errUnsupportedURL)
		}
	case strings.HasPrefix(raw, "file:"):
		return parseFileURI(raw)
	case isSQLiteFileName(raw) && !urlScheme.MatchString(raw):
		// Anything that starts like a URL is read as one, so that a typo
		// such as "sqlite:x.db" fails rather than naming a file "sqlite:x.db";
		// "./sqlite:x.db" still names that file.
		path = raw
	default:
		// Only the scheme is echoed: the rest of a URL may hold a password.
		if s := urlScheme.FindString(raw); s != "" {
			return "", "", fmt.Errorf("%w %q (want postgres://, sqlite://, file: or a path ending .db or .sqlite)",
				errUnsupportedURL, strings.TrimSuffix(s, ":"))
		}
		return "", "", fmt.Errorf("%w: %q is neither a URL nor a path ending .db or .sqlite", errUnsupportedURL, raw)
	}
	path = filepath.Clean(path)
	// Handing the driver a file: URI keeps a '?' or '#' in the path from
	// being read as the start of the parameters.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return path, "file:" + escaped + "?" + sqliteParams, nil
}

func isSQLiteFileName(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return (ext == ".db" || ext == ".sqlite") && len(p) > len(ext)
}

// parseFileURI finds the file a SQLite file: URI names and appends
// sqliteParams to it; SQLite ignores the parameters it does not know.
func parseFileURI(raw string) (path, dsn string, err error) {
	raw, _, _ = strings.Cut(raw, "#")
	p, query, hasQuery := strings.Cut(strings.TrimPrefix(raw, "file:"), "?")
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		authority, tail, _ := strings.Cut(rest, "/")
		if authority != "" && authority != "localhost" {
			return "", "", fmt.Errorf("%w: file: URI names host %q", errUnsupportedURL, authority)
		}
		p = "/" + tail
	}
	if p, err = url.PathUnescape(p); err != nil {
		return "", "", fmt.Errorf("%w: %w", errUnsupportedURL, err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", errUnsupportedURL, err)
	}
	if p != "" && p != ":memory:" && q.Get("mode") != "memory" {
		path = filepath.Clean(p)
	}
	if hasQuery {
		return path, raw + "&" + sqliteParams, nil
	}
	return path, raw + "?" + sqliteParams, nil
}

// sqliteUniqueColumn returns the column of a UNIQUE violation. SQLite names
// the columns, not the index, in its message, so that is what is read:
// "... UNIQUE constraint failed: users.username_key (2067)".
func sqliteUniqueColumn(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return ""
	}
	_, cols, ok := strings.Cut(e.Error(), "UNIQUE constraint failed: ")
	if !ok {
		return ""
	}
	col, _, _ := strings.Cut(cols, " ")
	col = strings.TrimSuffix(col, ",") // the first of several columns
	return col[strings.LastIndexByte(col, '.')+1:]
}
