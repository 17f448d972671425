package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

// backend is a database the tests run on.
type backend struct {
	name string
	dir  string // the dialect's folder under migrations/
	// require skips tb where the backend is not available.
	require func(tb testing.TB)
	// url returns the URL of a new, empty database of tb's own. It skips tb
	// where the backend is not available.
	url func(tb testing.TB) string
	// timeText is SQL that renders the timestamp column col as SQLite
	// stores it: UTC text, to the microsecond.
	timeText func(col string) string
	// tables is SQL listing the names of the database's tables, in order.
	tables string
}

var (
	sqlite = backend{
		name:     "SQLite",
		dir:      "sqlite",
		require:  func(testing.TB) {},
		url:      func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "gatehouse.db") },
		timeText: func(col string) string { return col },
		tables:   `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
	}
	postgres = backend{
		name:    "PostgreSQL",
		dir:     "postgres",
		require: storetest.SkipUnlessPostgres,
		url:     func(tb testing.TB) string { return postgresURL(tb, 4) },
		timeText: func(col string) string {
			return `to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`
		},
		tables: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
	}
	backends = []backend{sqlite, postgres}
)

// postgresURL returns the URL of a schema of tb's own (see
// storetest.PostgresURL) with a pool of conns connections: the suites run
// their subtests in parallel, and all together must stay under the
// server's max_connections.
func postgresURL(tb testing.TB, conns int) string {
	return fmt.Sprintf("%s&pool_max_conns=%d", storetest.PostgresURL(tb), conns)
}

// forEachBackend runs test once on each backend, as subtests named after
// them.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			test(t, b)
		})
	}
}

func TestUserStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.Run(t, func(t *testing.T) gatehouse.UserStore {
			return newDB(t, b).Users()
		})
	})
}

// TestUserStoreInMemory runs the suite on in-memory databases, which live
// only as long as their one connection.
func TestUserStoreInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.UserStore {
		db := openDB(t, "file::memory:")
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db.Users()
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the relative forms land in dir

	tests := []struct {
		name string
		url  string
		file string // relative to dir; empty means Open must fail
	}{
		{"SQLiteAbsolute", "sqlite://" + filepath.Join(dir, "abs.db"), "abs.db"},
		{"SQLiteRelative", "sqlite://rel/sub/rel.db", "rel/sub/rel.db"},
		{"SQLiteDotRelative", "sqlite://./dot.db", "dot.db"},
		{"FileURI", "file:" + filepath.Join(dir, "file.db"), "file.db"},
		{"FileURIEmptyAuthority", "file://" + filepath.Join(dir, "auth.db"), "auth.db"},
		{"FileURIRelativeWithQuery", "file:query.db?mode=rwc", "query.db"},
		{"BarePathAbsolute", filepath.Join(dir, "bare.db"), "bare.db"},
		{"BarePathRelativeSQLite", "bare.sqlite", "bare.sqlite"},
		{"BarePathOddCharacters", "we?ird#%20.db", "we?ird#%20.db"},

		{"MySQL", "mysql://gatehouse:s3cret@db.example/gatehouse", ""},
		{"Empty", "", ""},
		{"BarePathOtherExtension", "gatehouse.txt", ""},
		{"SQLiteWithoutSlashes", "sqlite:gatehouse.db", ""},
		{"SQLiteNoPath", "sqlite://", ""},
		{"SQLiteWithQuery", "sqlite:///tmp/x.db?cache=shared", ""},
		{"FileURIRemoteHost", "file://fileserver/share/x.db", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqldb.Open(t.Context(), tt.url)
			if tt.file == "" {
				if err == nil {
					db.Close()
					t.Fatalf("Open(%q) succeeded, want an error", tt.url)
				}
				if !strings.Contains(err.Error(), "unsupported database URL scheme") {
					t.Errorf("Open(%q) error = %v, want it to say unsupported database URL scheme", tt.url, err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("Open error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.url, err)
			}
			defer db.Close()
			if err := db.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
				t.Errorf("database file: %v", err)
			}
		})
	}
}

// TestOpenPostgresErrors opens PostgreSQL URLs that cannot work, no server
// needed: each must fail without its password in the error, however the
// password is written or the URL broken.
func TestOpenPostgresErrors(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		secrets []string // none may appear in the error
		want    string   // the error says this
	}{
		{"Unreachable", "postgres://gatehouse:s3cret@127.0.0.1:1/gatehouse?sslmode=disable", []string{"s3cret"}, "connect to database"},
		{"PostgresqlScheme", "postgresql://gatehouse:s3cret@127.0.0.1:1/gatehouse?sslmode=disable", []string{"s3cret"}, "connect to database"},
		{"PasswordInQuery", "postgres://127.0.0.1:1/gatehouse?user=gatehouse&password=s3cret&sslmode=disable", []string{"s3cret"}, "connect to database"},
		{"PercentEncoded", "postgres://gatehouse:s3%63r%65t@127.0.0.1:1/gatehouse?sslmode=disable", []string{"s3cret", "s3%63r%65t"}, "connect to database"},
		{"BadPort", "postgres://gatehouse:s3cret@127.0.0.1:port/gatehouse", []string{"s3cret"}, "invalid PostgreSQL URL"},
		{"BadSSLMode", "postgres://gatehouse:s3cret@127.0.0.1:1/gatehouse?sslmode=sometimes", []string{"s3cret"}, "invalid PostgreSQL URL"},
		{"SlashInPassword", "postgres://gatehouse:s3/cr?et@127.0.0.1:1/gatehouse", []string{"s3/cr?et", "cr?et", "s3", "et@"}, "invalid PostgreSQL URL"},
		{"HashInPassword", "postgres://gatehouse:s3#cret@127.0.0.1:1/gatehouse", []string{"s3#cret", "cret"}, ""},
		{"PoolSizeZero", "postgres://gatehouse:s3cret@127.0.0.1:1/gatehouse?pool_max_conns=0", []string{"s3cret"}, "pool_max_conns"},
		{"PoolSizeNotNumber", "postgres://gatehouse:s3cret@127.0.0.1:1/gatehouse?pool_max_conns=many", []string{"s3cret"}, "pool_max_conns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			db, err := sqldb.Open(ctx, tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want an error")
			}
			t.Log(err)
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("Open error reveals %q: %v", s, err)
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestOpenPostgres checks the pool and the session Open sets up.
func TestOpenPostgres(t *testing.T) {
	storetest.SkipUnlessPostgres(t)
	tests := []struct {
		name     string
		query    string // appended to the schema's URL
		maxOpen  int
		wantName string
	}{
		{"Defaults", "", 4 * runtime.GOMAXPROCS(0), "gatehouse"},
		{"PoolMaxConns", "&pool_max_conns=3", 3, "gatehouse"},
		{"ApplicationName", "&application_name=billing-gatehouse", 4 * runtime.GOMAXPROCS(0), "billing-gatehouse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := storetest.PostgresURL(t)
			db := openDB(t, url+tt.query)
			if got := db.SQL().Stats().MaxOpenConnections; got != tt.maxOpen {
				t.Errorf("pool of %d connections, want %d", got, tt.maxOpen)
			}
			var name, schema string
			if err := db.SQL().QueryRowContext(t.Context(), `SELECT current_setting('application_name'), current_schema()`).Scan(&name, &schema); err != nil {
				t.Fatal(err)
			}
			if name != tt.wantName || !strings.Contains(url, "search_path="+schema) {
				t.Errorf("application_name %q, schema %q; want %q and the URL's search_path", name, schema, tt.wantName)
			}
		})
	}
}

func TestOpenCreatesMissingDirectory(t *testing.T) {
	parent := t.TempDir()
	path := filepath.Join(parent, "a", "b", "gatehouse.db")
	db := openDB(t, path)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	for _, d := range []string{"a", "a/b"} {
		fi, err := os.Stat(filepath.Join(parent, d))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("%s: mode %v, want 0700", d, perm)
		}
	}
}

// TestPragmas checks the settings on several connections held at once, so
// that the pool had to open more than one: a pragma run once through the
// pool would be on one connection only.
func TestPragmas(t *testing.T) {
	db := newDB(t, sqlite)
	ctx := t.Context()
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			for i, c := range conns {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, tt.pragma, got, tt.want)
				}
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	forEachBackend(t, testMigrate)
}

func testMigrate(t *testing.T, b backend) {
	url := b.url(t)
	all := migrationNames(t, b)
	runs := []struct {
		name   string
		reopen bool // as a restarted process would
		want   []string
	}{
		{"First", false, all},
		{"Again", false, nil},
		{"AfterReopen", true, nil},
	}
	db := openDB(t, url)
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			if run.reopen {
				db = openDB(t, url)
			}
			got, err := db.Migrate(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, run.want) {
				t.Errorf("applied %q, want %q", got, run.want)
			}
			var n int
			if err := db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != len(all) {
				t.Errorf("schema_migrations has %d rows, want %d", n, len(all))
			}
		})
	}
}

// TestMigrateRace migrates one new database from several handles at once,
// as replicas starting together would: each migration is applied exactly
// once and no racer fails.
func TestMigrateRace(t *testing.T) {
	forEachBackend(t, testMigrateRace)
}

func testMigrateRace(t *testing.T, b backend) {
	url := b.url(t)
	const racers = 4
	dbs := make([]*sqldb.DB, racers)
	for i := range dbs {
		dbs[i] = openDB(t, url)
	}
	applied := make([][]string, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			applied[i], errs[i] = db.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	got := slices.Sorted(slices.Values(slices.Concat(applied...)))
	if want := migrationNames(t, b); !slices.Equal(got, want) {
		t.Errorf("applied %q in all, want each of %q once", got, want)
	}
}

// TestMigrateFailure checks that a failing migration leaves nothing of
// itself behind, keeps what came before, and is applied once fixed.
func TestMigrateFailure(t *testing.T) {
	forEachBackend(t, testMigrateFailure)
}

func testMigrateFailure(t *testing.T, b backend) {
	ctx := t.Context()
	db := openDB(t, b.url(t))

	good := &fstest.MapFile{Data: []byte("CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);")}
	steps := []struct {
		name    string
		second  string
		want    []string
		wantErr bool
		tables  []string
	}{
		{
			name:    "SecondStatementFails",
			second:  "CREATE TABLE c (z INTEGER);\nINSERT INTO nowhere VALUES (1);",
			want:    []string{"0001_ab"},
			wantErr: true,
			tables:  []string{"a", "b", "schema_migrations"},
		},
		{
			name:   "Fixed",
			second: "CREATE TABLE c (z INTEGER);\nINSERT INTO c VALUES (1);",
			want:   []string{"0002_c"},
			tables: []string{"a", "b", "c", "schema_migrations"},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			fsys := fstest.MapFS{"0001_ab.sql": good, "0002_c.sql": {Data: []byte(st.second)}}
			applied, err := db.MigrateFS(ctx, fsys)
			if (err != nil) != st.wantErr {
				t.Fatalf("migrate error = %v, want error %v", err, st.wantErr)
			}
			if !slices.Equal(applied, st.want) {
				t.Errorf("applied %q, want %q", applied, st.want)
			}
			var tables []string
			rows, err := db.SQL().QueryContext(ctx, b.tables)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, name)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tables, st.tables) {
				t.Errorf("tables %q, want %q", tables, st.tables)
			}
		})
	}
}

// TestConcurrentWriters writes from many goroutines through two handles on
// one database, as two processes would. In SQLite the busy timeout on every
// connection must absorb all lock contention: no SQLITE_BUSY may reach a
// caller.
func TestConcurrentWriters(t *testing.T) {
	forEachBackend(t, testConcurrentWriters)
}

func testConcurrentWriters(t *testing.T, b backend) {
	url := b.url(t)
	first := openDB(t, url)
	if _, err := first.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	stores := []gatehouse.UserStore{first.Users(), openDB(t, url).Users()}
	const writers = 16
	var wg sync.WaitGroup
	for i := range writers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			ctx := t.Context()
			for j := range 5 {
				u := newUser(fmt.Sprintf("w%d_%d", i, j))
				if err := s.CreateUser(ctx, u); err != nil {
					t.Errorf("CreateUser: %v", err)
					return
				}
				if err := s.SetUserActive(ctx, u.ID, false); err != nil {
					t.Errorf("SetUserActive: %v", err)
				}
				if err := s.SetPasswordHash(ctx, u.ID, "rehashed"); err != nil {
					t.Errorf("SetPasswordHash: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

// TestCreatedAt pins the clock and checks what is stored: in SQLite UTC
// text of fixed width to the microsecond, in PostgreSQL the instant that
// text names (truncated, where PostgreSQL would round), read back as the
// same instant in UTC.
func TestCreatedAt(t *testing.T) {
	forEachBackend(t, testCreatedAt)
}

func testCreatedAt(t *testing.T, b backend) {
	kst := time.FixedZone("KST", 9*60*60)
	tests := []struct {
		name     string
		clock    time.Time
		want     time.Time
		wantText string
	}{
		{
			name:     "Nanoseconds",
			clock:    time.Date(2026, 3, 1, 21, 4, 5, 123456789, kst),
			want:     time.Date(2026, 3, 1, 12, 4, 5, 123456000, time.UTC),
			wantText: "2026-03-01 12:04:05.123456",
		},
		{
			name:     "WholeSecond",
			clock:    time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
			want:     time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
			wantText: "2026-12-31 23:59:59.000000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t, b)
			db.Now = func() time.Time { return tt.clock }
			ctx := t.Context()
			u := newUser("alice")
			if err := db.Users().CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			got, err := db.Users().UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what string
				at   time.Time
			}{{"set by CreateUser", u.CreatedAt}, {"read by UserByID", got.CreatedAt}} {
				if c.at != tt.want { // == also compares the location: UTC, not a zone that reads alike
					t.Errorf("CreatedAt %s = %v (%v), want %v", c.what, c.at, c.at.Location(), tt.want)
				}
			}
			var text string
			if err := db.SQL().QueryRowContext(ctx, db.Bind(`SELECT `+b.timeText("created_at")+` FROM users WHERE id = ?`), u.ID).Scan(&text); err != nil {
				t.Fatal(err)
			}
			if text != tt.wantText {
				t.Errorf("stored created_at = %q, want %q", text, tt.wantText)
			}
		})
	}
}

// TestTutorialRow reads a row as the tutorial's SQLAlchemy app wrote it,
// created_at from CURRENT_TIMESTAMP and is_active by its default, so that
// its database can be imported.
func TestTutorialRow(t *testing.T) {
	db := newDB(t, sqlite)
	ctx := t.Context()
	_, err := db.SQL().ExecContext(ctx, `INSERT INTO users (id, username, username_key, email, email_key, hashed_password, created_at)
		VALUES (7, 'alice', 'alice', 'alice@example.com', 'alice@example.com', '$2b$12$hash', '2024-01-02 03:04:05')`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Users().UserByID(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if got.CreatedAt != want || !got.IsActive {
		t.Errorf("CreatedAt = %v, IsActive = %v; want %v, true", got.CreatedAt, got.IsActive, want)
	}
}

// TestUserByIDBeforeMigrate checks that the statement UserByID prepares on
// first use is not prepared, and its failure not kept, before the table
// exists: a server may open the database before another process migrates it.
func TestUserByIDBeforeMigrate(t *testing.T) {
	forEachBackend(t, testUserByIDBeforeMigrate)
}

func testUserByIDBeforeMigrate(t *testing.T, b backend) {
	db := openDB(t, b.url(t))
	ctx := t.Context()
	_, err := db.Users().UserByID(ctx, 1)
	if code := gatehouse.ErrorCode(err); code != gatehouse.CodeInternal {
		t.Errorf("before Migrate: error %v (code %q), want an internal error", err, code)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = db.Users().UserByID(ctx, 1)
	if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("after Migrate: error %v, want code %q", err, gatehouse.CodeNotFound)
	}
}

func BenchmarkUserByID(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			be.require(b)
			benchmarkUserByID(b, be)
		})
	}
}

func benchmarkUserByID(b *testing.B, be backend) {
	db := newDB(b, be)
	u := newUser("alice")
	if err := db.Users().CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	users := db.Users()
	b.Run("Serial", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := users.UserByID(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := users.UserByID(ctx, u.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// openDB opens url and closes it when tb ends.
func openDB(tb testing.TB, url string) *sqldb.DB {
	tb.Helper()
	db, err := sqldb.Open(tb.Context(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// newDB returns a migrated database of tb's own on b.
func newDB(tb testing.TB, b backend) *sqldb.DB {
	tb.Helper()
	db := openDB(tb, b.url(tb))
	if _, err := db.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// migrationNames lists b's migration files as Migrate names them.
func migrationNames(tb testing.TB, b backend) []string {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", b.dir))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".sql"))
	}
	return names
}

func newUser(name string) *gatehouse.User {
	return &gatehouse.User{
		Username: name, UsernameKey: name,
		Email: name + "@example.com", EmailKey: name + "@example.com",
		PasswordHash: "hash", IsActive: true,
	}
}

func TestSessionStoreConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunSessionStore(t, func(t *testing.T) storetest.Stores {
			db := newDB(t, b)
			return storetest.Stores{Users: db.Users(), Sessions: db.Sessions()}
		})
	})
}

func TestAdminStoreConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunAdminStore(t, func(t *testing.T) storetest.RoleStores {
			db := newDB(t, b)
			return storetest.RoleStores{Users: db.Users(), Admin: db.Admin()}
		})
	})
}

func TestIdentityStoreConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunIdentityStore(t, func(t *testing.T) storetest.IdentityStores {
			db := newDB(t, b)
			return storetest.IdentityStores{Users: db.Users(), Identities: db.Identities()}
		})
	})
}
