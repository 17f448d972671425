package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects the server's log output safely across goroutines.
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

type server struct {
	base   string
	client *http.Client
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

var listenRE = regexp.MustCompile(`(?:msg=listening addr=|"msg":"listening","addr":")([^\s"]+)`)

// startServer drives run as main would, on 127.0.0.1:0, and waits for /readyz.
func startServer(t *testing.T, env map[string]string, extraArgs ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{logs: &logBuffer{}, cancel: cancel, done: make(chan error, 1), client: &http.Client{Timeout: 10 * time.Second}}
	args := append([]string{"gatehouse", "serve", "--addr", "127.0.0.1:0"}, extraArgs...)
	getenv := func(k string) string { return env[k] }
	go func() { s.done <- run(ctx, args, getenv, strings.NewReader(""), io.Discard, s.logs) }()
	t.Cleanup(func() { s.stop(t) })

	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("server exited early: %v\nlogs:\n%s", err, s.logs)
		default:
		}
		if m := listenRE.FindStringSubmatch(s.logs.String()); m != nil {
			scheme := "http"
			if env["GATEHOUSE_TLS_CERT"] != "" {
				scheme = "https"
			}
			s.base = scheme + "://" + m[1]
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.base == "" {
		t.Fatalf("server did not report its address\nlogs:\n%s", s.logs)
	}
	return s
}

func (s *server) useTLS(pool *x509.CertPool) {
	s.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
}

func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not ready\nlogs:\n%s", s.logs)
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("server did not shut down")
	}
}

func (s *server) call(t *testing.T, method, path, contentType, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// The README's three curl calls, as HTTP requests against the real binary's run.
func tutorialFlow(t *testing.T, s *server) string {
	t.Helper()
	status, body := s.call(t, "POST", "/auth/register", "application/json",
		`{"username": "john_doe", "email": "john@example.com", "password": "SecurePassword123"}`, "")
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, body)
	}
	status, body = s.call(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=john_doe&password=SecurePassword123", "")
	if status != http.StatusOK || body["token_type"] != "bearer" {
		t.Fatalf("login: %d %v", status, body)
	}
	token := body["access_token"].(string)
	status, body = s.call(t, "GET", "/users/me", "", "", token)
	if status != http.StatusOK || body["username"] != "john_doe" {
		t.Fatalf("me: %d %v", status, body)
	}
	return token
}

func TestServeDevelopmentZeroConfig(t *testing.T) {
	dir := t.TempDir()
	// A fixed issuer: by default it is the listening address, and this test
	// listens on a new random port after the restart.
	env := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_ISSUER": "http://gatehouse.test"}
	s := startServer(t, env)
	s.waitReady(t)
	token := tutorialFlow(t, s)

	// A random secret was generated, kept with mode 0600, and announced
	// without being printed.
	path := filepath.Join(dir, "secret.key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %04o", fi.Mode().Perm())
	}
	secret, _ := os.ReadFile(path)
	if logs := s.logs.String(); !strings.Contains(logs, "generated a random 256-bit development secret") ||
		strings.Contains(logs, strings.TrimSpace(string(secret))) {
		t.Errorf("logs do not announce the generated secret, or print it:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err != nil {
		t.Errorf("database not under the data dir: %v", err)
	}
	s.stop(t)

	// After a restart, the same secret is reused: old tokens stay valid.
	s2 := startServer(t, env)
	s2.waitReady(t)
	if status, body := s2.call(t, "GET", "/users/me", "", "", token); status != http.StatusOK {
		t.Errorf("token after restart: %d %v", status, body)
	}
	if strings.Contains(s2.logs.String(), "generated a random") {
		t.Error("a second secret was generated on restart")
	}
}

func TestServeProductionRefusesUnsafeConfig(t *testing.T) {
	strong := strings.Repeat("k", 32)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no secret", map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_TRUST_TLS_PROXY": "true"}, "GATEHOUSE_SECRET_KEY"},
		{"no issuer", map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_TRUST_TLS_PROXY": "true", "GATEHOUSE_SECRET_KEY": strong}, "GATEHOUSE_ISSUER"},
		{"short secret", map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_TRUST_TLS_PROXY": "true", "SECRET_KEY": "short-secret"}, "32 bytes"},
		{"tutorial's placeholder", map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_TRUST_TLS_PROXY": "true", "SECRET_KEY": "your-secret-key-change-in-production"}, "SECRET"},
		{"no TLS", map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_SECRET_KEY": strong}, "TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["GATEHOUSE_DATA_DIR"] = t.TempDir()
			var stderr logBuffer
			err := run(context.Background(), []string{"gatehouse", "serve", "--addr", "127.0.0.1:0"}, func(k string) string { return tt.env[k] }, nil, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if s := tt.env["SECRET_KEY"]; s != "" && strings.Contains(err.Error()+stderr.String(), s) {
				t.Errorf("the secret was echoed: %v", err)
			}
			if _, statErr := os.Stat(filepath.Join(tt.env["GATEHOUSE_DATA_DIR"], "secret.key")); statErr == nil {
				t.Error("production generated a secret file")
			}
		})
	}
}

func TestServeProductionTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	env := map[string]string{
		"GATEHOUSE_ENV":        "production",
		"GATEHOUSE_DATA_DIR":   dir,
		"GATEHOUSE_SECRET_KEY": "a-production-grade-secret-of-enough-length-0123456789",
		"GATEHOUSE_TLS_CERT":   certFile,
		"GATEHOUSE_TLS_KEY":    keyFile,
		"GATEHOUSE_ISSUER":     "https://auth.example.test",
		"GATEHOUSE_SMTP_URL":   "smtps://gatehouse:relay-secret@mail.example.test",
		"GATEHOUSE_MAIL_FROM":  "auth@example.test",
	}
	s := startServer(t, env)
	s.useTLS(pool)
	s.waitReady(t)
	tutorialFlow(t, s)
	res, err := s.client.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS over TLS: %v", res.Header)
	}
}

// SIGTERM (here: the context) lets a request that is already in flight finish.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	s := startServer(t, map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir()})
	s.waitReady(t)
	u, _ := url.Parse(s.base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"username":"late","email":"late@example.com","password":"SecurePassword123"}`
	head := fmt.Sprintf("POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	// Send the headers and half the body, then ask the server to stop.
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	s.cancel()
	time.Sleep(100 * time.Millisecond)
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(reply), "HTTP/1.1 201") {
		t.Errorf("in-flight request got %q", reply)
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dir}[k] }
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr bool
	}{
		{"version", []string{"gatehouse", "version"}, "gatehouse ", false},
		{"help", []string{"gatehouse", "help"}, "GATEHOUSE_SECRET_KEY", false},
		{"migrate", []string{"gatehouse", "migrate"}, "up to date", false},
		{"migrate again", []string{"gatehouse", "migrate"}, "up to date", false},
		{"unknown command", []string{"gatehouse", "frobnicate"}, "", true},
		{"no command", []string{"gatehouse"}, "", true},
		{"bad flag value", []string{"gatehouse", "serve", "--access-token-ttl", "soon"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, getenv, nil, &out, &errOut)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q", out.String())
			}
		})
	}
	t.Run("-h is not an error", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"gatehouse", "serve", "-h"}, getenv, nil, &out, &out)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("err = %v", err)
		}
	})
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Alg, Kid, Typ string
	}
	json.Unmarshal(b, &h)
	return h.Alg + " " + h.Kid + " " + h.Typ
}

func (s *server) jwksKids(t *testing.T) []string {
	t.Helper()
	res, err := s.client.Get(s.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct{ Kid string } `json:"keys"`
	}
	json.NewDecoder(res.Body).Decode(&set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// With no configuration the server signs with ES256 keys it keeps in the
// database; `gatehouse keys rotate`, run beside the live server, adds a key
// the server picks up: new tokens use it, old tokens still verify, and the
// JWKS lists both.
func TestKeysRotateWhileServing(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_ISSUER": "http://gatehouse.test", "GATEHOUSE_KEYS_RELOAD_INTERVAL": "100ms"}
	getenv := func(k string) string { return env[k] }
	s := startServer(t, env)
	s.waitReady(t)
	old := tutorialFlow(t, s)
	oldHeader := kidOf(t, old)
	if !strings.HasPrefix(oldHeader, "ES256 ") || !strings.HasSuffix(oldHeader, " at+jwt") {
		t.Fatalf("default token header: %s", oldHeader)
	}
	if kids := s.jwksKids(t); len(kids) != 1 {
		t.Fatalf("JWKS before rotation: %v", kids)
	}

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"gatehouse", "keys", "rotate"}, getenv, nil, &out, &errOut); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "current") || !strings.Contains(out.String(), "retiring") {
		t.Errorf("keys rotate output:\n%s", out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(s.jwksKids(t)) != 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if kids := s.jwksKids(t); len(kids) != 2 {
		t.Fatalf("JWKS after rotation: %v", kids)
	}
	status, body := s.call(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=john_doe&password=SecurePassword123", "")
	if status != http.StatusOK {
		t.Fatalf("login after rotation: %d %v", status, body)
	}
	fresh := body["access_token"].(string)
	if kidOf(t, fresh) == oldHeader {
		t.Errorf("new token still signed with the old key: %s", kidOf(t, fresh))
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if status, body := s.call(t, "GET", "/users/me", "", "", tok); status != http.StatusOK {
			t.Errorf("%s token after rotation: %d %v", name, status, body)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"gatehouse", "keys", "list"}, getenv, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "ES256") != 2 {
		t.Errorf("keys list:\n%s", out.String())
	}
}

func TestKeysRotateRefusesHS256(t *testing.T) {
	env := map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "SECRET_KEY": strings.Repeat("s", 32)}
	err := run(context.Background(), []string{"gatehouse", "keys", "rotate"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HS256") {
		t.Errorf("err = %v", err)
	}
}

// Listing keys only reads: on a fresh data directory it creates no key and
// no secret.
func TestKeysListCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dir}[k] }
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"gatehouse", "keys", "list"}, getenv, nil, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "no signing keys yet") {
			t.Errorf("keys list on a fresh database:\n%s", out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); err == nil {
		t.Error("keys list created a secret")
	}
}

var metricsRE = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)

// Metrics are served on their own address, never on the API's port, and
// count requests by route pattern and logins by outcome.
func TestMetricsListener(t *testing.T) {
	s := startServer(t, map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_METRICS_ADDR": "127.0.0.1:0"})
	s.waitReady(t)
	token := tutorialFlow(t, s)
	s.call(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=john_doe&password=wrong-password", "")
	s.call(t, "GET", "/users/me", "", "", token)
	m := metricsRE.FindStringSubmatch(s.logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the logs:\n%s", s.logs)
	}
	res, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`gatehouse_http_requests_total{code="200",route="GET /users/me"}`,
		`gatehouse_logins_total{outcome="success"} 1`,
		`gatehouse_logins_total{outcome="invalid_credentials"} 1`,
		`gatehouse_password_hash_rejected_total 0`,
		`gatehouse_revocation_set_size`,
		`gatehouse_active_sessions 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if status, _ := s.call(t, "GET", "/metrics", "", "", ""); status != http.StatusNotFound {
		t.Errorf("/metrics on the API port: %d", status)
	}
}
