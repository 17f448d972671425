package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// backend is one storage configuration for a test.
type backend struct {
	name string
	// env returns the variables that point gatehouse at a fresh database,
	// and a function that checks the database's integrity afterwards.
	env func(t *testing.T, dataDir string) (map[string]string, func(t *testing.T))
}

func sqliteBackend() backend {
	return backend{name: "sqlite", env: func(t *testing.T, dataDir string) (map[string]string, func(t *testing.T)) {
		path := filepath.Join(dataDir, "gatehouse.db")
		check := func(t *testing.T) {
			db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var result string
			if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
				t.Errorf("integrity_check: %q, %v", result, err)
			}
			checkRows(t, db)
		}
		return map[string]string{"GATEHOUSE_DATABASE_URL": "sqlite://" + path}, check
	}}
}

// checkRows looks for half-written rows: every user complete, every session
// complete and owned, every revocation naming a session's expiry.
func checkRows(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, q := range []struct{ name, query string }{
		{"users without a hash or key", `SELECT COUNT(*) FROM users WHERE hashed_password = '' OR username_key = '' OR email_key = ''`},
		{"sessions without a user", `SELECT COUNT(*) FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL`},
		{"sessions with a bad seed", `SELECT COUNT(*) FROM sessions WHERE length(seed) <> 32`},
		{"duplicate user keys", `SELECT COUNT(*) FROM (SELECT username_key FROM users GROUP BY username_key HAVING COUNT(*) > 1) d`},
	} {
		var n int
		if err := db.QueryRow(q.query).Scan(&n); err != nil {
			t.Errorf("%s: %v", q.name, err)
		} else if n != 0 {
			t.Errorf("%s: %d", q.name, n)
		}
	}
}

// TestCrash kills gatehouse with SIGKILL in the middle of a registration and
// refresh load, restarts it on the same database, and checks that every
// registration that was answered 201 logs in, that the last refresh token
// each client holds still works, and that nothing is half-written.
func TestCrash(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { crashTest(t, b) })
	}
}

func crashTest(t *testing.T, b backend) {
	dataDir := t.TempDir()
	env, check := b.env(t, dataDir)
	env["GATEHOUSE_DATA_DIR"] = dataDir
	env["GATEHOUSE_SECRET_KEY"] = testSecret
	env["GATEHOUSE_ISSUER"] = "http://gatehouse.test"
	env["GATEHOUSE_PASSWORD_MIN_STRENGTH"] = "0"
	// A rotation committed just before the kill, whose answer was lost, is
	// recovered by presenting the previous token within the grace window.
	env["GATEHOUSE_REFRESH_REUSE_GRACE"] = "60s"
	in := start(t, env)

	const chains = 6
	const password = "crash-test-password-123"
	current := make([]string, chains)
	for i := range chains {
		name := fmt.Sprintf("chain%d", i)
		must(t, http.StatusCreated)(register(in.base, name, password))
		current[i] = must(t, http.StatusOK)(login(in.base, name, password)).body["refresh_token"].(string)
	}

	var mu sync.Mutex
	var created []string
	refreshes := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("user%d_%d", w, i)
				r, err := register(in.base, name, password)
				if err != nil {
					return // the server is gone
				}
				if r.status == http.StatusCreated {
					mu.Lock()
					created = append(created, name)
					mu.Unlock()
				}
			}
		})
	}
	for c := range chains {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := refresh(in.base, current[c])
				if err != nil {
					return
				}
				if r.status != http.StatusOK {
					t.Errorf("chain %d: refresh answered %d before the crash: %s", c, r.status, r.raw)
					return
				}
				mu.Lock()
				current[c] = r.body["refresh_token"].(string)
				refreshes++
				mu.Unlock()
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	in.kill()
	close(stop)
	wg.Wait()
	t.Logf("before the kill: %d registrations answered 201, %d refreshes answered 200", len(created), refreshes)
	if len(created) == 0 || refreshes == 0 {
		t.Fatal("the load did not get going before the kill")
	}

	in = start(t, env)
	for _, name := range created {
		if r, err := login(in.base, name, password); err != nil || r.status != http.StatusOK {
			t.Errorf("%s got 201 before the crash but cannot log in: %v %d %s", name, err, r.status, r.raw)
		}
	}
	for c, tok := range current {
		r, err := refresh(in.base, tok)
		if err != nil || r.status != http.StatusOK {
			t.Errorf("chain %d: the last refresh token handed out does not work after the crash: %v %d %s", c, err, r.status, r.raw)
		}
	}
	in.stop()
	check(t)
}

// backends lists the storage backends available here: SQLite always,
// PostgreSQL when GATEHOUSE_TEST_POSTGRES_URL is set.
func backends() []backend {
	bs := []backend{sqliteBackend()}
	if pg := postgresBackend(); pg != nil {
		bs = append(bs, *pg)
	}
	return bs
}
