package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

// logBuffer collects a process's log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listenRE = regexp.MustCompile(`(?:msg=listening addr=|"msg":"listening","addr":")([^\s"]+)`)

// waitListening returns the address a process logged as "listening".
func waitListening(t *testing.T, logs *logBuffer, exited <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-exited:
			t.Fatalf("exited before listening: %v\nlogs:\n%s", err, logs)
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no \"listening\" line\nlogs:\n%s", logs)
	return ""
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no issuer", map[string]string{}, "GATEHOUSE_ISSUER"},
		{"feed id without secret", map[string]string{"GATEHOUSE_ISSUER": "https://auth.example.com", "NOTES_FEED_CLIENT_ID": "notes"}, "NOTES_FEED_CLIENT_SECRET"},
		{"bad refresh interval", map[string]string{"GATEHOUSE_ISSUER": "https://auth.example.com", "NOTES_MIN_REFRESH_INTERVAL": "soon"}, "NOTES_MIN_REFRESH_INTERVAL"},
		{"plain http issuer", map[string]string{"GATEHOUSE_ISSUER": "http://auth.example.com"}, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), []string{"resource-server"}, func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}

// gatehouse is a real gatehouse server process.
type gatehouse struct {
	bin  string
	env  []string
	base string
	logs *logBuffer
}

// gatehouseBin is the server binary, built once by TestMain unless -short.
var gatehouseBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "gatehouse-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatehouseBin = filepath.Join(dir, "gatehouse")
	out, err := exec.Command("go", "build", "-o", gatehouseBin, "github.com/gatehouse-auth/gatehouse/cmd/gatehouse").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build gatehouse: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// processEnv is this process's environment without gatehouse's variables
// (a developer's own settings must not leak into the test), plus env.
func processEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") && !strings.HasPrefix(kv, "SECRET_KEY=") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

func startGatehouse(t *testing.T, bin string, env []string) *gatehouse {
	t.Helper()
	g := &gatehouse{bin: bin, env: env, logs: &logBuffer{}}
	cmd := exec.Command(bin, "serve")
	cmd.Env = processEnv(env...)
	cmd.Stdout, cmd.Stderr = g.logs, g.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("gatehouse logs:\n%s", g.logs)
		}
	})
	g.base = "http://" + waitListening(t, g.logs, exited)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(g.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse not ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// command runs `gatehouse <args>` with the server's environment.
func (g *gatehouse) command(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(g.bin, args...)
	cmd.Env = processEnv(g.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// call makes one HTTP request and returns the status and the body.
func call(t *testing.T, method, u, contentType, body, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (g *gatehouse) login(t *testing.T, username, password string) string {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	status, body := call(t, "POST", g.base+"/auth/login", "application/x-www-form-urlencoded", form, "")
	var res struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.AccessToken == "" {
		t.Fatalf("gatehouse POST /auth/login: %d %s", status, body)
	}
	if res.RefreshToken == "" {
		t.Errorf("gatehouse POST /auth/login: no refresh_token in %s", body)
	}
	return res.AccessToken
}

// header returns a token's JOSE header.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	var h map[string]any
	if err != nil || json.Unmarshal(raw, &h) != nil {
		t.Fatalf("token header %q undecodable", seg)
	}
	return h
}

// TestAgainstGatehouse runs the notes service against a real gatehouse
// server over HTTP: login, logout reaching the service through the
// revocation feed, and a key rotation picked up by the verifier.
func TestAgainstGatehouse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse server")
	}
	port := freePort(t)
	issuer := "http://127.0.0.1:" + port
	const feedSecret = "notes-feed-secret-for-the-test-0123456789"
	g := startGatehouse(t, gatehouseBin, []string{
		"GATEHOUSE_ADDR=127.0.0.1:" + port,
		"GATEHOUSE_ISSUER=" + issuer,
		"GATEHOUSE_DATA_DIR=" + t.TempDir(),
		"GATEHOUSE_REVOCATION_CLIENTS=notes:" + feedSecret,
		"GATEHOUSE_KEYS_RELOAD_INTERVAL=200ms",
	})

	// The notes service, driven through run as main would.
	ctx, cancel := context.WithCancel(context.Background())
	notesLogs := &logBuffer{}
	done := make(chan error, 1)
	env := map[string]string{
		"GATEHOUSE_ISSUER":           issuer,
		"NOTES_ADDR":                 "127.0.0.1:0",
		"NOTES_FEED_CLIENT_ID":       "notes",
		"NOTES_FEED_CLIENT_SECRET":   feedSecret,
		"NOTES_MIN_REFRESH_INTERVAL": "100ms",
	}
	go func() {
		done <- run(ctx, []string{"resource-server"}, func(k string) string { return env[k] }, io.Discard, notesLogs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("notes service: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("notes service did not stop")
		}
		if t.Failed() {
			t.Logf("notes service logs:\n%s", notesLogs)
		}
	})
	notes := "http://" + waitListening(t, notesLogs, done) + "/notes"

	status, body := call(t, "POST", g.base+"/auth/register", "application/json",
		`{"username": "alice", "email": "alice@example.com", "password": "SecurePassword123"}`, "")
	if status != http.StatusCreated {
		t.Fatalf("gatehouse POST /auth/register: %d %s", status, body)
	}

	t.Run("a logged-out token is refused within 2 s", func(t *testing.T) {
		token := g.login(t, "alice", "SecurePassword123")
		if h := header(t, token); !strings.EqualFold(fmt.Sprint(h["typ"]), "at+jwt") || h["kid"] == nil {
			t.Errorf("gatehouse's access token header: %v", h)
		}
		status, body := call(t, "GET", notes, "", "", token)
		if status != http.StatusOK || !strings.Contains(body, `"username":"alice"`) {
			t.Fatalf("notes GET /notes: %d %s", status, body)
		}
		if status, body := call(t, "POST", g.base+"/auth/logout", "", "", token); status != http.StatusNoContent {
			t.Fatalf("gatehouse POST /auth/logout: %d %s", status, body)
		}
		start := time.Now()
		for {
			status, body = call(t, "GET", notes, "", "", token)
			if status == http.StatusUnauthorized {
				break
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("notes still answers %d %s two seconds after the logout", status, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("refused %v after the logout", time.Since(start).Round(time.Millisecond))
		if !strings.Contains(body, `"code":"invalid_token"`) {
			t.Errorf("refusal body: %s", body)
		}
	})

	t.Run("a key rotation is picked up", func(t *testing.T) {
		before := g.login(t, "alice", "SecurePassword123")
		oldKid := header(t, before)["kid"]
		if status, body := call(t, "GET", notes, "", "", before); status != http.StatusOK {
			t.Fatalf("notes GET /notes before the rotation: %d %s", status, body)
		}
		t.Logf("gatehouse keys rotate:\n%s", g.command(t, "keys", "rotate"))

		// The server re-reads its keys every 200 ms: log in until a token
		// carries the new kid.
		var after string
		deadline := time.Now().Add(10 * time.Second)
		for {
			after = g.login(t, "alice", "SecurePassword123")
			if header(t, after)["kid"] != oldKid {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("tokens still carry kid %v 10 s after `keys rotate`", oldKid)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if status, body := call(t, "GET", notes, "", "", after); status != http.StatusOK {
			t.Errorf("notes GET /notes with the new key's token: %d %s", status, body)
		}
		if status, body := call(t, "GET", notes, "", "", before); status != http.StatusOK {
			t.Errorf("notes GET /notes with the old key's token: %d %s", status, body)
		}
	})
}

// TestHS256DeploymentAgainstGatehouse checks the verifier's HMACSecret mode
// against a real gatehouse that signs with HS256 (the tutorial-compatible
// set-up): tokens verify with the shared secret, and logouts arrive through
// the feed.
func TestHS256DeploymentAgainstGatehouse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse server")
	}
	port := freePort(t)
	issuer := "http://127.0.0.1:" + port
	const secret = "a-shared-hs256-secret-of-at-least-32-bytes"
	const feedSecret = "notes-feed-secret-for-the-test-0123456789"
	g := startGatehouse(t, gatehouseBin, []string{
		"GATEHOUSE_ADDR=127.0.0.1:" + port,
		"GATEHOUSE_ISSUER=" + issuer,
		"GATEHOUSE_DATA_DIR=" + t.TempDir(),
		"GATEHOUSE_SECRET_KEY=" + secret,
		"GATEHOUSE_REVOCATION_CLIENTS=notes:" + feedSecret,
	})
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuer:      issuer,
		HMACSecret:  []byte(secret),
		Revocations: &verifier.RevocationConfig{ClientID: "notes", ClientSecret: feedSecret},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	status, body := call(t, "POST", g.base+"/auth/register", "application/json",
		`{"username": "bob", "email": "bob@example.com", "password": "SecurePassword123"}`, "")
	if status != http.StatusCreated {
		t.Fatalf("gatehouse POST /auth/register: %d %s", status, body)
	}
	token := g.login(t, "bob", "SecurePassword123")
	if alg := header(t, token)["alg"]; alg != "HS256" {
		t.Fatalf("gatehouse signed with %v, not HS256", alg)
	}
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Username != "bob" || c.Issuer != issuer || c.SessionID == "" {
		t.Errorf("claims = %+v", c)
	}
	if status, body := call(t, "POST", g.base+"/auth/logout", "", "", token); status != http.StatusNoContent {
		t.Fatalf("gatehouse POST /auth/logout: %d %s", status, body)
	}
	start := time.Now()
	for {
		_, err := v.Verify(context.Background(), token)
		if errors.Is(err, verifier.ErrRevoked) {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("2 s after the logout: err = %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
