package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// serve registers each route under its pattern, wrapped by m.Route, on a
// fresh mux, as routes.go will.
func serve(m *Metrics, routes map[string]http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, m.Route(pattern, h))
	}
	return mux
}

func status(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
}

func TestRouteCountsByPatternAndCode(t *testing.T) {
	t.Parallel()
	type req struct{ method, path string }
	tests := []struct {
		name     string
		routes   map[string]http.Handler
		requests []req
		want     string // exposition of gatehouse_http_requests_total
	}{
		{
			name:     "route label is the pattern, not the path",
			routes:   map[string]http.Handler{"GET /a/{id}": status(http.StatusOK)},
			requests: []req{{"GET", "/a/1"}, {"GET", "/a/2"}, {"GET", "/a/3"}},
			want:     `gatehouse_http_requests_total{code="200",route="GET /a/{id}"} 3`,
		},
		{
			name: "codes are separate series",
			routes: map[string]http.Handler{
				"POST /auth/login": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Has("bad") {
						http.Error(w, "no", http.StatusUnauthorized)
						return
					}
					io.WriteString(w, "ok")
				}),
			},
			requests: []req{{"POST", "/auth/login"}, {"POST", "/auth/login?bad"}, {"POST", "/auth/login?bad"}},
			want: `
gatehouse_http_requests_total{code="200",route="POST /auth/login"} 1
gatehouse_http_requests_total{code="401",route="POST /auth/login"} 2
`,
		},
		{
			name: "routes are separate series",
			routes: map[string]http.Handler{
				"GET /users/me":                  status(http.StatusOK),
				"DELETE /users/me/sessions/{id}": status(http.StatusNoContent),
			},
			requests: []req{{"GET", "/users/me"}, {"DELETE", "/users/me/sessions/x"}, {"DELETE", "/users/me/sessions/y"}},
			want: `
gatehouse_http_requests_total{code="200",route="GET /users/me"} 1
gatehouse_http_requests_total{code="204",route="DELETE /users/me/sessions/{id}"} 2
`,
		},
		{
			name: "a handler that writes nothing answered 200",
			routes: map[string]http.Handler{
				"GET /empty": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
			},
			requests: []req{{"GET", "/empty"}},
			want:     `gatehouse_http_requests_total{code="200",route="GET /empty"} 1`,
		},
		{
			name: "informational headers are not the status",
			routes: map[string]http.Handler{
				"POST /hint": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusEarlyHints)
					w.WriteHeader(http.StatusCreated)
				}),
			},
			requests: []req{{"POST", "/hint"}},
			want:     `gatehouse_http_requests_total{code="201",route="POST /hint"} 1`,
		},
		{
			name: "a flush before the header sends 200",
			routes: map[string]http.Handler{
				"GET /feed": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.(http.Flusher).Flush()
					w.WriteHeader(http.StatusTeapot) // superfluous: too late
				}),
			},
			requests: []req{{"GET", "/feed"}},
			want:     `gatehouse_http_requests_total{code="200",route="GET /feed"} 1`,
		},
		{
			name:     "requests the mux answers itself are not counted",
			routes:   map[string]http.Handler{"GET /users/me": status(http.StatusOK)},
			requests: []req{{"GET", "/nope"}, {"POST", "/users/me"}},
			want:     ``,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			h := serve(m, tt.routes)
			for _, r := range tt.requests {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
			}
			want := ""
			if tt.want != "" {
				want = "# HELP gatehouse_http_requests_total HTTP requests answered, by route pattern and status code.\n" +
					"# TYPE gatehouse_http_requests_total counter\n" + strings.TrimSpace(tt.want) + "\n"
			}
			if err := testutil.CollectAndCompare(m.requests, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRouteOneSeriesPerPattern(t *testing.T) {
	t.Parallel()
	m := New()
	h := serve(m, map[string]http.Handler{"GET /a/{id}": status(http.StatusOK)})
	for _, p := range []string{"/a/1", "/a/2", "/a/%2e%2e", "/a/" + strings.Repeat("x", 500)} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	for name, want := range map[string]int{
		"gatehouse_http_requests_total":           1,
		"gatehouse_http_request_duration_seconds": 1,
		"gatehouse_http_requests_in_flight":       1,
	} {
		if n := testutil.CollectAndCount(m.Registry(), name); n != want {
			t.Errorf("%s: %d series, want %d", name, n, want)
		}
	}
}

func TestRouteDurationAndInFlight(t *testing.T) {
	t.Parallel()
	m := New()
	entered, release := make(chan struct{}), make(chan struct{})
	h := m.Route("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/slow", nil))
	}()
	<-entered
	inFlight := m.inFlight.WithLabelValues("GET /slow")
	if got := testutil.ToFloat64(inFlight); got != 1 {
		t.Errorf("in flight during the request = %v, want 1", got)
	}
	close(release)
	<-done
	if got := testutil.ToFloat64(inFlight); got != 0 {
		t.Errorf("in flight after the request = %v, want 0", got)
	}
	// The observed value depends on the machine; that there is one does not.
	if body := scrape(t, m); !strings.Contains(body, `gatehouse_http_request_duration_seconds_count{route="GET /slow"} 1`+"\n") {
		t.Errorf("no duration observed for GET /slow:\n%s", body)
	}
}

// scrape returns m's text exposition.
func scrape(tb testing.TB, m *Metrics) string {
	tb.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestRoutePanicCountsAs500(t *testing.T) {
	t.Parallel()
	m := New()
	h := m.Route("GET /boom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	// Stand-in for web's recoverPanics, which sits outside the mux.
	recovering := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
	recovering.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /boom", "500")); got != 1 {
		t.Errorf("requests{code=500} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.inFlight.WithLabelValues("GET /boom")); got != 0 {
		t.Errorf("in flight after a panic = %v, want 0", got)
	}
}

// TestRouteKeepsResponseController checks, on a real server (a recorder
// supports no deadlines at all), that the wrapper hides none of the
// connection's capabilities from http.ResponseController.
func TestRouteKeepsResponseController(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		use  func(w http.ResponseWriter) error
	}{
		{"SetWriteDeadline", func(w http.ResponseWriter) error {
			return http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
		}},
		{"SetReadDeadline", func(w http.ResponseWriter) error {
			return http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Minute))
		}},
		{"EnableFullDuplex", func(w http.ResponseWriter) error {
			return http.NewResponseController(w).EnableFullDuplex()
		}},
		{"Flush", func(w http.ResponseWriter) error {
			return http.NewResponseController(w).Flush()
		}},
		{"Flusher assertion", func(w http.ResponseWriter) error {
			if _, ok := w.(http.Flusher); !ok {
				return errors.New("not an http.Flusher")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			got := make(chan error, 1)
			srv := httptest.NewServer(m.Route("GET /x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- tt.use(w)
			})))
			t.Cleanup(srv.Close)
			resp, err := http.Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := <-got; err != nil {
				t.Errorf("through Route: %v", err)
			}
		})
	}

	t.Run("Hijack", func(t *testing.T) {
		t.Parallel()
		m := New()
		srv := httptest.NewServer(m.Route("GET /x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("Hijack through Route: %v", err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			buf.Flush()
		})))
		t.Cleanup(srv.Close)
		resp, err := http.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status %d, want 204 from the hijacked connection", resp.StatusCode)
		}
	})

	t.Run("unsupported stays unsupported", func(t *testing.T) {
		t.Parallel()
		// A recorder cannot set deadlines; the wrapper must say so rather
		// than pretend.
		m := New()
		var got error
		m.Route("GET /x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = http.NewResponseController(w).SetWriteDeadline(time.Now())
		})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		if !errors.Is(got, http.ErrNotSupported) {
			t.Errorf("SetWriteDeadline on a recorder = %v, want ErrNotSupported", got)
		}
	})
}
