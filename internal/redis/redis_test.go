package redis

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		wantErr     string
		wantTLS     bool
		wantRetries int
	}{
		{name: "redis", url: "redis://127.0.0.1:6379/0", wantRetries: -1},
		{name: "rediss", url: "rediss://user:secret@redis.example:6380/1", wantTLS: true, wantRetries: -1},
		{name: "retries from the URL", url: "redis://127.0.0.1:6379/0?max_retries=2", wantRetries: 2},
		{name: "wrong scheme", url: "http://127.0.0.1:6379", wantErr: "invalid URL"},
		// url.Parse's error quotes the URL, password and all.
		{name: "password not echoed", url: "redis://user:pa%zzword@127.0.0.1:6379", wantErr: "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pa%zz") || strings.Contains(err.Error(), "secret") {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !o.ContextTimeoutEnabled {
				t.Error("context deadlines not enabled: go-redis would wait its own read timeout")
			}
			if o.MaxRetries != tt.wantRetries {
				t.Errorf("MaxRetries = %d, want %d", o.MaxRetries, tt.wantRetries)
			}
			if (o.TLSConfig != nil) != tt.wantTLS {
				t.Errorf("TLS %v, want %v", o.TLSConfig != nil, tt.wantTLS)
			}
		})
	}
}

// A Redis that accepts connections but never answers (a hung server, a
// proxy in front of a dead one, a TLS handshake that never ends) costs a
// check CommandTimeout, not go-redis's own timeouts of several seconds.
func TestUnansweredCommandTimesOut(t *testing.T) {
	for _, scheme := range []string{"redis", "rediss"} {
		t.Run(scheme, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close() // held open, never answered
				}
			}()
			o, err := parseURL(scheme + "://" + ln.Addr().String() + "/0")
			if err != nil {
				t.Fatal(err)
			}
			if o.TLSConfig != nil {
				o.TLSConfig = &tls.Config{InsecureSkipVerify: true}
			}
			c := newClient(o, Options{CommandTimeout: 50 * time.Millisecond})
			defer c.Close()
			r := c.Revocations(newLocalSet(&logStore{}, newClock().now), &logStore{})

			start := time.Now()
			if r.Revoked("s") {
				t.Error("revoked without an answer")
			}
			// Generous: the point is not go-redis's 3–5 s.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("check took %v with a 50ms command timeout", d)
			}
			if st := c.Stats(); st.Failures != 1 || st.LastError == "" {
				t.Errorf("stats = %+v, want one failure recorded", st)
			}
		})
	}
}

// TestBreaker needs no Redis: a Client pointed at a socket nothing listens on
// fails every command, and the pinned clock and counters show what an outage costs.
func TestBreaker(t *testing.T) {
	clk := newClock()
	logs := &logRecorder{}
	o, err := parseURL("unix://" + filepath.Join(t.TempDir(), "none.sock"))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(o, Options{Logger: slog.New(logs), Now: clk.now})
	defer c.Close()
	store := &logStore{}
	local := newLocalSet(store, clk.now)
	r := c.Revocations(local, store)
	store.add("known", clk.now().Add(time.Hour))
	local.Sync(context.Background())

	for i := range failureThreshold {
		if st := c.Stats(); !st.Healthy {
			t.Fatalf("down after %d failures: %+v", i, st)
		}
		if r.Revoked("unknown") {
			t.Fatal("an unanswered check said revoked")
		}
	}
	st := c.Stats()
	if st.Healthy || st.Failures != failureThreshold || st.LastError == "" || st.Since != clk.now() {
		t.Fatalf("after %d failures: %+v", failureThreshold, st)
	}
	failures := st.Failures

	// Down: checks no longer touch Redis, so they cost no timeout; the local
	// set still answers.
	for range 100 {
		if r.Revoked("unknown") {
			t.Fatal("revoked")
		}
	}
	if !r.Revoked("known") {
		t.Error("the local set no longer answers")
	}
	// A revocation made here while Redis is down: Sync succeeds on the
	// database alone and does not wait for Redis.
	store.add("new", clk.now().Add(time.Hour))
	if err := r.Sync(context.Background()); err != nil {
		t.Errorf("Sync with Redis down: %v (the database answered)", err)
	}
	if !r.Revoked("new") {
		t.Error("Sync did not reach the local set")
	}
	st = c.Stats()
	if st.Failures != failures || st.Skipped != 101 {
		t.Errorf("while down: failures %d→%d, skipped %d; want no command sent, 101 skipped", failures, st.Failures, st.Skipped)
	}

	// After the back-off one command probes; the others keep skipping while
	// it is in flight, and a failed probe starts another back-off.
	clk.add(backOff)
	if !c.breaker.allow() {
		t.Fatal("no probe after the back-off")
	}
	if c.breaker.allow() {
		t.Error("a second probe while the first is in flight")
	}
	c.breaker.record(errDown)
	if c.breaker.allow() {
		t.Error("a probe right after a failed probe")
	}
	clk.add(backOff)
	r.Revoked("unknown") // the next probe, through the real path
	if st := c.Stats(); st.Failures != failures+2 {
		t.Errorf("failures = %d, want %d (one per probe)", st.Failures, failures+2)
	}

	if n := logs.count(slog.LevelError); n != 1 {
		t.Errorf("%d error logs for one outage, want 1", n)
	}
}
