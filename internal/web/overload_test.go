package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// The gate runs at most Concurrency requests, queues Queue more, and turns
// the rest away at once with 503 and Retry-After.
func TestHashGate(t *testing.T) {
	g := NewHashGate(2, 1, 5*time.Second)
	out := &responder{catalog: i18n.New(i18n.English), log: slog.New(slog.DiscardHandler)}
	release := make(chan struct{})
	var running sync.WaitGroup
	running.Add(2)
	var once [2]sync.Once
	n := 0
	var mu sync.Mutex
	h := g.wrap(out)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i < 2 {
			once[i].Do(running.Done)
		}
		<-release
		w.WriteHeader(http.StatusOK)
	}))

	results := make(chan int, 10)
	send := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/auth/login", nil))
		if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		results <- rec.Code
	}
	go send()
	go send()
	running.Wait() // two run
	go send()      // one waits
	if !waitUntil(func() bool { return g.Waiting() == 1 }) {
		t.Fatalf("waiting = %d, want 1", g.Waiting())
	}
	start := time.Now()
	for range 5 { // the rest are turned away at once
		send()
		if code := <-results; code != http.StatusServiceUnavailable {
			t.Fatalf("over capacity: %d, want 503", code)
		}
	}
	if time.Since(start) > time.Second {
		t.Errorf("rejections took %v; they must not wait", time.Since(start))
	}
	if g.Rejected() != 5 || g.Running() != 2 {
		t.Errorf("rejected %d, running %d", g.Rejected(), g.Running())
	}
	close(release)
	for range 3 {
		if code := <-results; code != http.StatusOK {
			t.Errorf("admitted request: %d", code)
		}
	}
}

// A queued request waits at most MaxWait.
func TestHashGateMaxWait(t *testing.T) {
	g := NewHashGate(1, 5, 50*time.Millisecond)
	out := &responder{catalog: i18n.New(i18n.English), log: slog.New(slog.DiscardHandler)}
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := g.wrap(out)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	<-started
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	close(release)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("queued past MaxWait: %d", rec.Code)
	}
}

func waitUntil(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}
