package e2e

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// deployment is two gatehouse instances sharing PostgreSQL and Redis.
type deployment struct {
	env  map[string]string
	a, b *instance
}

// newDeployment starts the two instances; extra settings (applied last,
// so they win) let a test tune one, e.g. a lower rate limit or a mail relay.
func newDeployment(t *testing.T, redisURL string, extra ...map[string]string) *deployment {
	t.Helper()
	env := map[string]string{
		"GATEHOUSE_DATABASE_URL":             postgresURL(t),
		"GATEHOUSE_REDIS_URL":                redisURL,
		"GATEHOUSE_REDIS_PREFIX":             "e2e-" + rand.Text()[:10] + ":",
		"GATEHOUSE_SECRET_KEY":               testSecret,
		"GATEHOUSE_ISSUER":                   "http://gatehouse.test",
		"GATEHOUSE_TRUSTED_PROXIES":          "127.0.0.1",
		"GATEHOUSE_PASSWORD_MIN_STRENGTH":    "0",
		"GATEHOUSE_REVOCATION_SYNC_INTERVAL": "1s",
		// These tests are about shared state, not overload: let bursts of
		// registrations queue for the hashing slot rather than get 503.
		"GATEHOUSE_HASH_QUEUE":      "64",
		"GATEHOUSE_HASH_QUEUE_WAIT": "10s",
	}
	for _, m := range extra {
		maps.Copy(env, m)
	}
	d := &deployment{env: env}
	env["GATEHOUSE_DATA_DIR"] = t.TempDir()
	d.a = start(t, env)
	env["GATEHOUSE_DATA_DIR"] = t.TempDir()
	d.b = start(t, env)
	return d
}

const password = "scale-out-password-123"

func TestScaleOut(t *testing.T) {
	redisURL := requireEnv(t, "GATEHOUSE_TEST_REDIS_URL")
	d := newDeployment(t, redisURL)

	t.Run("a user registered on A logs in on B", func(t *testing.T) {
		must(t, http.StatusCreated)(register(d.a.base, "amy", password))
		tok := must(t, http.StatusOK)(login(d.b.base, "amy", password)).body["access_token"].(string)
		must(t, http.StatusOK)(me(d.a.base, tok))
	})

	t.Run("a session revoked through A is refused by B on the next request", func(t *testing.T) {
		must(t, http.StatusCreated)(register(d.a.base, "ben", password))
		for i := range 20 { // many times, so a race would show
			tok := must(t, http.StatusOK)(login(d.a.base, "ben", password)).body["access_token"].(string)
			must(t, http.StatusOK)(me(d.b.base, tok)) // B has seen (and cached) the token
			must(t, http.StatusNoContent)(call("POST", d.a.base+"/auth/logout", "", "", tok))
			if r, err := me(d.b.base, tok); err != nil || r.status != http.StatusUnauthorized {
				t.Fatalf("round %d: B answered %d after the logout on A: %s", i, r.status, r.raw)
			}
		}
	})

	t.Run("20 concurrent registrations of one name over two instances create one user", func(t *testing.T) {
		statuses := make([]int, 20)
		var wg sync.WaitGroup
		for i := range statuses {
			base := d.a.base
			if i%2 == 1 {
				base = d.b.base
			}
			wg.Go(func() {
				r, err := call("POST", base+"/auth/register", "application/json",
					fmt.Sprintf(`{"username":"racer","email":"racer%d@example.com","password":%q}`, i, password), "")
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = r.status
			})
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated:
				created++
			case http.StatusBadRequest:
			default:
				t.Errorf("status %d", s)
			}
		}
		if created != 1 {
			t.Errorf("%d registrations succeeded (%v), want 1", created, statuses)
		}
	})

	t.Run("through nginx with the example config", func(t *testing.T) {
		proxy := startNginx(t, d.a.base, d.b.base)
		must(t, http.StatusCreated)(register(proxy, "cat", password))
		seen := map[string]bool{}
		for range 6 {
			r := must(t, http.StatusOK)(login(proxy, "cat", password))
			tok := r.body["access_token"].(string)
			must(t, http.StatusOK)(me(proxy, tok))
			seen[r.header.Get("X-Request-ID")] = true
		}
		if len(seen) < 2 {
			t.Errorf("request ids not passed through: %v", seen)
		}
		// A client's own X-Forwarded-For is not believed: nginx appends the
		// real peer, which gatehouse reads from the right.
		req, _ := http.NewRequest("POST", proxy+"/auth/login", strings.NewReader("username=cat&password="+password))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "203.0.113.66")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("login through nginx: %d", res.StatusCode)
		}
	})
}

// TestRedisOutage stops the deployment's Redis mid-run: revocations made on
// one instance must still reach the other (through the database, within the
// sync interval), and once Redis is back, at once again.
func TestRedisOutage(t *testing.T) {
	requireEnv(t, "GATEHOUSE_TEST_POSTGRES_URL")
	redis := startRedis(t)
	d := newDeployment(t, redis.url)
	must(t, http.StatusCreated)(register(d.a.base, "dora", password))

	revokeAndCheck := func(t *testing.T, within time.Duration) time.Duration {
		t.Helper()
		tok := must(t, http.StatusOK)(login(d.a.base, "dora", password)).body["access_token"].(string)
		must(t, http.StatusOK)(me(d.b.base, tok))
		must(t, http.StatusNoContent)(call("POST", d.a.base+"/auth/logout", "", "", tok))
		start := time.Now()
		ok := waitFor(within, func() bool {
			r, err := me(d.b.base, tok)
			return err == nil && r.status == http.StatusUnauthorized
		})
		if !ok {
			t.Fatalf("B still accepts the token %v after the logout on A", within)
		}
		return time.Since(start)
	}

	revokeAndCheck(t, 0) // with Redis: refused on the very next request
	redis.stop()
	took := revokeAndCheck(t, 3*time.Second)
	t.Logf("Redis down: B refused the revoked token after %v (database sync interval 1s)", took)
	must(t, http.StatusOK)(call("GET", d.b.base+"/readyz", "", "", ""))
	must(t, http.StatusOK)(login(d.b.base, "dora", password)) // logins keep working

	redis.restart(t)
	// Give the instances a moment to notice Redis is back.
	ok := waitFor(10*time.Second, func() bool {
		tok := must(t, http.StatusOK)(login(d.a.base, "dora", password)).body["access_token"].(string)
		must(t, http.StatusOK)(me(d.b.base, tok))
		must(t, http.StatusNoContent)(call("POST", d.a.base+"/auth/logout", "", "", tok))
		r, err := me(d.b.base, tok)
		return err == nil && r.status == http.StatusUnauthorized
	})
	if !ok {
		t.Fatal("after Redis came back, revocations are not seen at once again")
	}
}

// redisServer is a Redis of the test's own, which it can stop and restart.
// It listens on a Unix socket: no port to race other processes for between
// a stop and the restart.
type redisServer struct {
	sock string
	url  string
	cmd  *exec.Cmd
	dir  string
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed: this test runs a Redis of its own")
	}
	r := &redisServer{dir: t.TempDir()}
	r.sock = filepath.Join(r.dir, "redis.sock")
	r.url = "unix://" + r.sock
	r.restart(t)
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) restart(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", "0", "--unixsocket", r.sock, "--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool {
		out, err := exec.Command("redis-cli", "-s", r.sock, "ping").Output()
		return err == nil && strings.TrimSpace(string(out)) == "PONG"
	}) {
		t.Fatal("redis-server did not start")
	}
}

func (r *redisServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// startNginx runs nginx with deploy/nginx/gatehouse.conf, the instance
// addresses and listen port replaced, and returns its base URL.
func startNginx(t *testing.T, upstreams ...string) string {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx is not installed (Debian package nginx; .ci/run installs it)")
		}
		nginx = "/usr/sbin/nginx"
	}
	example, err := os.ReadFile(filepath.Join("..", "deploy", "nginx", "gatehouse.conf"))
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := strings.NewReplacer(
		"127.0.0.1:8001", strings.TrimPrefix(upstreams[0], "http://"),
		"127.0.0.1:8002", strings.TrimPrefix(upstreams[1], "http://"),
		"listen 127.0.0.1:8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
	).Replace(string(example))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gatehouse.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/gatehouse.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	// A file, not a pipe: nginx's workers inherit the descriptors, and a
	// pipe held open by them would keep Wait from returning.
	logFile, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM: nginx's fast shutdown, which stops the workers too.
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if !waitFor(5*time.Second, func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}) {
		errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		out, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		t.Fatalf("nginx did not come up:\n%s\n%s", out, errLog)
	}
	return base
}
