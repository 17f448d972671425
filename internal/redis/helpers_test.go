package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// testURL returns the Redis the integration tests use, or skips.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if u == "" {
		tb.Skip("GATEHOUSE_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0): skipping the tests against a real Redis")
	}
	return u
}

// testPrefix returns a key prefix (and so a channel) no other test uses, and
// deletes its keys when the test ends.
func testPrefix(tb testing.TB, url string) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "gatehouse-test:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() {
		o, err := goredis.ParseURL(url)
		if err != nil {
			return
		}
		rdb := goredis.NewClient(o)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// openTest opens a Client for a test. Its command timeout is generous: only
// the outage tests are about timeouts, and a loaded machine must not make a
// healthy Redis look down.
func openTest(tb testing.TB, url, prefix string, clk *clock, log *slog.Logger) *Client {
	tb.Helper()
	c, err := Open(context.Background(), url, Options{Prefix: prefix, CommandTimeout: 2 * time.Second, Logger: log, Now: clk.now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logStore is a SessionStore holding only a revocation log: the database
// every instance shares.
type logStore struct {
	gatehouse.SessionStore
	mu  sync.Mutex
	log []gatehouse.Revocation
}

func (s *logStore) add(sid string, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, gatehouse.Revocation{Seq: int64(len(s.log) + 1), SessionID: sid, ExpiresAt: exp})
}

func (s *logStore) RevocationsSince(_ context.Context, seq int64, now time.Time) ([]gatehouse.Revocation, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []gatehouse.Revocation
	for _, r := range s.log {
		if r.Seq > seq && now.Before(r.ExpiresAt) {
			out = append(out, r)
		}
	}
	return out, int64(len(s.log)), nil
}

// localSet is a LocalRevocations following a logStore (what inmem.Revocations
// does), which syncs only when told: a test decides what each instance's
// local set knows.
type localSet struct {
	store *logStore
	now   func() time.Time

	mu      sync.Mutex
	revoked map[string]bool
	cursor  int64
	syncs   int
	changed chan struct{}
}

func newLocalSet(store *logStore, now func() time.Time) *localSet {
	return &localSet{store: store, now: now, revoked: map[string]bool{}, changed: make(chan struct{})}
}

func (l *localSet) Revoked(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.revoked[id]
}

func (l *localSet) Sync(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	revs, cursor, err := l.store.RevocationsSince(ctx, l.cursor, l.now())
	if err != nil {
		return err
	}
	for _, r := range revs {
		l.revoked[r.SessionID] = true
	}
	l.cursor = cursor
	l.syncs++
	if len(revs) > 0 {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return nil
}

func (l *localSet) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

func (l *localSet) syncCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncs
}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// count returns how many records of level were logged.
func (h *logRecorder) count(level slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level {
			n++
		}
	}
	return n
}

// redisServer is a redis-server child process of the test, listening on a
// Unix socket of its own (no TCP port another test or an outgoing connection
// could take between a stop and a restart), so that a test can stop and
// restart it.
type redisServer struct {
	tb     testing.TB
	socket string
	cmd    *exec.Cmd
	out    bytes.Buffer
}

// startRedisServer starts redis-server on socket and waits until it answers;
// the test skips when there is no redis-server to run.
func startRedisServer(tb testing.TB, socket string) *redisServer {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server is not installed: skipping the outage test")
	}
	s := &redisServer{tb: tb, socket: socket}
	s.cmd = exec.Command(path, "--port", "0", "--unixsocket", socket,
		"--save", "", "--appendonly", "no", "--dir", filepath.Dir(socket))
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.stop)
	rdb := goredis.NewClient(&goredis.Options{Network: "unix", Addr: socket, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.stop()
			tb.Fatalf("redis-server on %s did not answer:\n%s", socket, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func (s *redisServer) url() string { return "unix://" + s.socket }

// stop kills the server and waits for it to exit.
func (s *redisServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// waitFor polls cond until it holds or 10 s pass: for what go-redis does on
// its own time (reconnecting, delivering a message).
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
