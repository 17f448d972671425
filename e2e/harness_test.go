// Package e2e runs real gatehouse processes — several at once on PostgreSQL
// and Redis behind nginx, or one killed with SIGKILL mid-load — and checks
// what users see. The tests build the binary once; those that need
// PostgreSQL, Redis or nginx skip, naming what is missing, when it is not
// there (.ci/run provides all three, so CI never skips).
package e2e

import (
	"bufio"
	"bytes"

	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the gatehouse binary built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, "github.com/gatehouse-auth/gatehouse/cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testSecret is shared by every instance of one deployment.
const testSecret = "e2e-secret-e2e-secret-e2e-secret-0123456789"

// instance is one running gatehouse process.
type instance struct {
	t    testing.TB
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// start runs `gatehouse serve` with env (and nothing else from the test's
// environment) and waits until it answers /readyz.
func start(t testing.TB, env map[string]string) *instance {
	t.Helper()
	in := &instance{t: t, logs: &syncBuffer{}, done: make(chan struct{})}
	in.cmd = exec.Command(binary, "serve")
	in.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GATEHOUSE_ADDR=127.0.0.1:0", "GATEHOUSE_LOG_FORMAT=text",
		// Load from one address (the tests') would trip the rate limits;
		// a test about them sets its own, which come later and win.
		"GATEHOUSE_RATE_LIMIT_LOGIN_IP=0", "GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT=0", "GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT_ALL_IPS=0",
		"GATEHOUSE_RATE_LIMIT_REGISTER_IP=0", "GATEHOUSE_RATE_LIMIT_REFRESH_IP=0"}
	for k, v := range env {
		in.cmd.Env = append(in.cmd.Env, k+"="+v)
	}
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.cmd.Wait(); close(in.done) }()
	t.Cleanup(in.stop)
	deadline := time.Now().Add(20 * time.Second)
	for in.base == "" {
		if m := listenRE.FindStringSubmatch(in.logs.String()); m != nil {
			in.base = "http://" + m[1]
			break
		}
		select {
		case <-in.done:
			t.Fatalf("gatehouse exited early:\n%s", in.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse did not report its address:\n%s", in.logs)
		}
	}
	waitReady(t, in.base)
	return in
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

// stop ends the process gracefully (SIGTERM), as an orchestrator would.
func (in *instance) stop() {
	if in.cmd.Process == nil {
		return
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(15 * time.Second):
		in.cmd.Process.Kill()
		<-in.done
	}
}

// kill ends the process with SIGKILL: no shutdown, no flush, no goodbye.
func (in *instance) kill() {
	in.cmd.Process.Kill()
	<-in.done
}

// client has short timeouts, and no connection reuse across a kill.
var client = &http.Client{Timeout: 10 * time.Second}

type reply struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
}

func call(method, u, contentType, body, token string) (reply, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: res.StatusCode, raw: raw, header: res.Header}
	json.Unmarshal(raw, &r.body)
	return r, nil
}

func register(base, username, password string) (reply, error) {
	b, _ := json.Marshal(map[string]string{"username": username, "email": username + "@example.com", "password": password})
	return call("POST", base+"/auth/register", "application/json", string(b), "")
}

func login(base, username, password string) (reply, error) {
	return call("POST", base+"/auth/login", "application/x-www-form-urlencoded",
		url.Values{"username": {username}, "password": {password}}.Encode(), "")
}

func refresh(base, token string) (reply, error) {
	b, _ := json.Marshal(map[string]string{"refresh_token": token})
	return call("POST", base+"/auth/refresh", "application/json", string(b), "")
}

func me(base, token string) (reply, error) { return call("GET", base+"/users/me", "", "", token) }

// must fails the test on a transport error or an unexpected status.
func must(t *testing.T, want int) func(reply, error) reply {
	return func(r reply, err error) reply {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
		}
		return r
	}
}

// freePort returns a loopback port free at the time of asking.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// requireEnv returns the variable or skips, saying what is missing.
func requireEnv(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: this test needs it (see README, Tests)", name)
	}
	return v
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// lines returns the non-empty lines of s (for log assertions).
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}
