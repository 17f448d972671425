package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLoginOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		given   []string
		counted string
		want    float64
	}{
		{"known outcome", []string{"success", "success"}, "success", 2},
		{"rate limited", []string{"rate_limited"}, "rate_limited", 1},
		{"unknown collapses to other", []string{"bogus", "Success", ""}, "other", 3},
		{"unknown leaves known alone", []string{"bogus"}, "success", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			for _, o := range tt.given {
				m.LoginOutcome(o)
			}
			c := m.logins[tt.counted]
			if got := testutil.ToFloat64(c); got != tt.want {
				t.Errorf("logins_total{outcome=%q} = %v, want %v", tt.counted, got, tt.want)
			}
			// The series set is the fixed outcome list whatever was passed.
			if n := testutil.CollectAndCount(m.Registry(), "gatehouse_logins_total"); n != len(loginOutcomes) {
				t.Errorf("logins_total has %d series, want %d", n, len(loginOutcomes))
			}
		})
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	m := New()
	m.RateLimited("login_ip")
	m.RateLimited("login_ip")
	m.RateLimited("login_user")
	want := `
# HELP gatehouse_rate_limited_total Requests refused by a rate limit, by limit.
# TYPE gatehouse_rate_limited_total counter
gatehouse_rate_limited_total{limit="login_ip"} 2
gatehouse_rate_limited_total{limit="login_user"} 1
`
	if err := testutil.CollectAndCompare(m.rateLimited, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	t.Run("names past the bound count as other", func(t *testing.T) {
		t.Parallel()
		m := New()
		for i := range maxLimitNames + 10 {
			m.RateLimited(fmt.Sprintf("limit_%d", i))
		}
		if n := testutil.CollectAndCount(m.rateLimited); n != maxLimitNames+1 {
			t.Errorf("%d series, want %d", n, maxLimitNames+1)
		}
		if got := testutil.ToFloat64(m.rateLimited.WithLabelValues("other")); got != 10 {
			t.Errorf("other = %v, want 10", got)
		}
	})
}

func TestGaugeFuncs(t *testing.T) {
	t.Parallel()
	m := New()
	depth, rejected, size := 3, uint64(7), 42
	m.HashQueue(func() int { return depth }, func() uint64 { return rejected })
	m.RevocationSet(func() int { return size })
	want := `
# HELP gatehouse_password_hash_queue_depth Password hashes waiting for a hashing slot.
# TYPE gatehouse_password_hash_queue_depth gauge
gatehouse_password_hash_queue_depth 3
# HELP gatehouse_password_hash_rejected_total Password hashes refused because the hashing queue was full.
# TYPE gatehouse_password_hash_rejected_total counter
gatehouse_password_hash_rejected_total 7
# HELP gatehouse_revocation_set_size Entries in this instance's in-memory revocation set.
# TYPE gatehouse_revocation_set_size gauge
gatehouse_revocation_set_size 42
`
	names := []string{"gatehouse_password_hash_queue_depth", "gatehouse_password_hash_rejected_total", "gatehouse_revocation_set_size"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Read at scrape time, not copied at registration.
	depth = 0
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(strings.Replace(want, "queue_depth 3", "queue_depth 0", 1)), names...); err != nil {
		t.Error(err)
	}
}

func TestHandlerServesExposition(t *testing.T) {
	t.Parallel()
	m := New()
	m.HashQueue(func() int { return 0 }, func() uint64 { return 0 })
	m.RevocationSet(func() int { return 0 })
	m.ActiveSessions(countOf(5, nil), 0)
	api := m.Route("GET /users/me", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/me", nil))
	m.RateLimited("login_ip")

	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text exposition format", ct)
	}
	for _, name := range []string{
		"gatehouse_http_requests_total",
		"gatehouse_http_request_duration_seconds",
		"gatehouse_http_requests_in_flight",
		"gatehouse_logins_total",
		"gatehouse_rate_limited_total",
		"gatehouse_password_hash_queue_depth",
		"gatehouse_password_hash_rejected_total",
		"gatehouse_active_sessions",
		"gatehouse_active_sessions_refresh_errors_total",
		"gatehouse_revocation_set_size",
		"go_goroutines",
		"process_open_fds",
		"promhttp_metric_handler_requests_total",
	} {
		if !strings.Contains(string(body), "\n# TYPE "+name+" ") {
			t.Errorf("exposition lacks %s", name)
		}
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	t.Parallel()
	// Two servers in one process (parallel tests) must not share or collide:
	// nothing is registered in the global default registry.
	a, b := New(), New()
	a.LoginOutcome(OutcomeSuccess)
	a.HashQueue(func() int { return 1 }, func() uint64 { return 1 })
	b.HashQueue(func() int { return 2 }, func() uint64 { return 2 })
	if got := testutil.ToFloat64(b.logins[OutcomeSuccess]); got != 0 {
		t.Errorf("b saw a's login: %v", got)
	}
}

// countOf returns a session count func answering n, err.
func countOf(n int64, err error) func(context.Context) (int64, error) {
	return func(context.Context) (int64, error) { return n, err }
}

var errDown = errors.New("database down")
