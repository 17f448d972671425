package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// advisoryLockClass is the first key of every advisory lock gatehouse takes
// ("gate" in ASCII), so that another application's two-key advisory locks in
// the same database are unlikely to collide with ours. A collision would only
// make one wait for the other, never break either.
const advisoryLockClass = 0x67617465

var postgresDialect = dialect{
	name:         "postgres",
	uniqueColumn: postgresUniqueColumn,
	// PostgreSQL keeps microseconds, rounding to the nearest; truncating
	// first stores the instant SQLite's text form keeps.
	timeValue:    func(t time.Time) any { return t.UTC().Truncate(time.Microsecond) },
	timeType:     "TIMESTAMPTZ",
	greatest:     "GREATEST",
	placeholders: &placeholderCache{},
	// Migrations take a lock keyed by the schema they create tables in, so
	// that two processes starting at once apply each migration once
	// (CREATE TABLE IF NOT EXISTS alone is not safe against a concurrent
	// twin in PostgreSQL) while deployments in other schemas of the database
	// go on unhindered.
	lockMigrations: "SELECT pg_advisory_xact_lock(" + strconv.Itoa(advisoryLockClass) +
		", current_schema()::text::regnamespace::oid::int)",
	// See revokeWhere: the writers of the revocation log take turns, keyed
	// by the log table itself.
	lockRevocations: "SELECT pg_advisory_xact_lock(" + strconv.Itoa(advisoryLockClass+1) +
		", 'revocations'::regclass::oid::int)",
	forUpdate: " FOR UPDATE",
	reserveID: postgresReserveID,
}

// openPostgres opens a pool on the PostgreSQL database named by url, a
// postgres:// URL as libpq and pgx read it (sslmode, search_path and other
// parameters in the query). One parameter is sqldb's own, named as pgxpool
// names it: pool_max_conns caps the pool, which is otherwise 4×GOMAXPROCS.
// The sum over every instance must stay under the server's max_connections
// (100 by default).
func openPostgres(ctx context.Context, rawURL string) (*sql.DB, error) {
	secrets := urlSecrets(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		if _, uerr := url.Parse(rawURL); uerr != nil {
			// Where the parts of the URL cannot be told apart, pgx's message
			// may quote a piece of the password that nothing can recognise
			// as one, so none of it is shown.
			return nil, errors.New("invalid PostgreSQL URL: not a well-formed URL (in the user name and password, percent-encode any of : / ? # [ ] @)")
		}
		// pgx masks the password in its message; the message is masked
		// again here, and its cause dropped, since the cause holds the URL
		// as it is.
		return nil, errors.New(hideSecrets("invalid PostgreSQL URL: "+err.Error(), secrets))
	}
	// A PostgreSQL connection is a server process that spends most of a
	// query's life waiting on the network, not on our CPUs, so the pool is a
	// few times larger than GOMAXPROCS to keep requests from queueing on it.
	n := 4 * runtime.GOMAXPROCS(0)
	if v, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
		// pgx would otherwise send it to the server, which refuses an
		// unknown parameter.
		delete(cfg.RuntimeParams, "pool_max_conns")
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			return nil, fmt.Errorf("invalid PostgreSQL URL: pool_max_conns %q is not a positive integer", v)
		}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		// So that an operator can tell gatehouse's connections apart in
		// pg_stat_activity.
		cfg.RuntimeParams["application_name"] = "gatehouse"
	}
	sqlDB := stdlib.OpenDB(*cfg)
	// Idle connections are kept: opening one costs several round trips
	// (TCP, TLS, authentication, start-up) and loses pgx's cache of
	// prepared statements. Their lifetime is bounded so that after a
	// failover or a DNS change the pool moves to the new server, and
	// server-side caches are given back, within the half hour.
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)

	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, &redactedError{msg: hideSecrets("connect to database: "+err.Error(), secrets), err: err}
	}
	return sqlDB, nil
}

// postgresUniqueColumns maps each unique constraint that the migrations
// name to the column SQLite names for a violation of the same constraint.
var postgresUniqueColumns = map[string]string{
	"users_username_key":          "username_key",
	"users_email_key":             "email_key",
	"signing_keys_current":        "current",
	"identities_provider_subject": "provider",
}

// postgresUniqueColumn returns the column of a unique violation (SQLSTATE
// 23505), found by the name of the constraint violated.
func postgresUniqueColumn(err error) string {
	var e *pgconn.PgError
	if !errors.As(err, &e) || e.Code != "23505" {
		return ""
	}
	return postgresUniqueColumns[e.ConstraintName]
}

// postgresReserveID moves the users id sequence to id or beyond, so that
// CreateUser never generates id: what SQLite's AUTOINCREMENT does by itself
// when a row is inserted with an explicit id.
//
// Sequences are not transactional: a setval to a value read a moment
// earlier would move the sequence back if a CreateUser took the next values
// meanwhile, and then hand out ids again, those of deleted users too. So
// every insert into users is held off (readers are not) until the
// transaction ends; CreateUser takes its id inside its INSERT. If the
// import then inserts nothing, the sequence is merely ahead, which leaves a
// gap of unused ids.
func postgresReserveID(ctx context.Context, tx runner, id int64) error {
	if _, err := tx.exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("lock users: %w", err)
	}
	// A sequence never used yet (is_called false) would hand out
	// last_value itself next, hence the first condition.
	if _, err := tx.exec(ctx, `SELECT setval('users_id_seq', ?) FROM users_id_seq WHERE NOT is_called OR last_value < ?`, id, id); err != nil {
		return fmt.Errorf("reserve id: %w", err)
	}
	return nil
}

// placeholderCache rewrites queries from ? placeholders to PostgreSQL's $1,
// $2, ... and keeps each rewrite, so that a query is parsed once per process
// and then costs one map look-up. The queries of this package are constants
// or built from constants (values always travel as arguments), so the cache
// holds a small, fixed set of texts.
type placeholderCache struct{ m sync.Map }

func (c *placeholderCache) get(query string) string {
	if q, ok := c.m.Load(query); ok {
		return q.(string)
	}
	q := dollarPlaceholders(query)
	c.m.Store(query, q)
	return q
}

// dollarPlaceholders numbers the ? placeholders of query as $1, $2, ...,
// leaving alone a ? in a string literal, a quoted identifier or a comment.
// It knows the SQL this package writes, not every lexical form of
// PostgreSQL's (escape strings, dollar quoting and the ? operators of
// jsonb are not used here).
func dollarPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		var end string // what closes the token starting at i, if any
		switch c := query[i]; {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case c == '\'' || c == '"':
			// A doubled quote inside closes and reopens, which copies
			// through alike.
			end = string(c)
		case strings.HasPrefix(query[i:], "--"):
			end = "\n"
		case strings.HasPrefix(query[i:], "/*"):
			end = "*/"
		default:
			b.WriteByte(c)
			continue
		}
		j := strings.Index(query[i+1:], end)
		if j < 0 {
			b.WriteString(query[i:])
			break
		}
		stop := i + 1 + j + len(end)
		b.WriteString(query[i:stop])
		i = stop - 1
	}
	return b.String()
}

// urlSecrets returns the passwords of a PostgreSQL URL, as written and
// decoded, for hideSecrets. A malformed URL makes the bounds of its
// password ambiguous, so every plausible reading is taken: masking too much
// of an error message costs little, showing a password much.
func urlSecrets(raw string) []string {
	var secrets []string
	add := func(s string) {
		if s == "" {
			return
		}
		secrets = append(secrets, s)
		if d, err := url.PathUnescape(s); err == nil && d != s {
			secrets = append(secrets, d)
		}
		if d, err := url.QueryUnescape(s); err == nil && d != s {
			secrets = append(secrets, d)
		}
	}
	_, rest, _ := strings.Cut(raw, "://")
	// The userinfo password runs from the first ':' to an '@': the last
	// one, or the last before the query.
	authority, query, _ := strings.Cut(rest, "?")
	for _, s := range []string{rest, authority} {
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			if colon := strings.IndexByte(s[:at], ':'); colon >= 0 {
				add(s[colon+1 : at])
			}
		}
	}
	query, _, _ = strings.Cut(query, "#")
	for kv := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err == nil && (k == "password" || k == "sslpassword") {
			add(v)
		}
	}
	return secrets
}

// hideSecrets returns msg with every secret replaced by xxxxx, longest
// first, so that a secret containing another is masked whole.
func hideSecrets(msg string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

// redactedError is an error whose message has had secrets masked; Unwrap
// still reaches the cause, for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
