package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	tests := []struct {
		name            string
		cfg             CORS
		method, origin  string
		preflight       bool
		wantStatus      int
		wantAllow       string
		wantCredentials bool
	}{
		{"no configuration: nothing", CORS{}, "GET", "https://app.example", false, 200, "", false},
		{"allowed origin", CORS{Origins: []string{"https://app.example"}, Credentials: true}, "GET", "https://app.example", false, 200, "https://app.example", true},
		{"other origin", CORS{Origins: []string{"https://app.example"}, Credentials: true}, "GET", "https://evil.example", false, 200, "", false},
		{"prefix is not a match", CORS{Origins: []string{"https://app.example"}}, "GET", "https://app.example.evil", false, 200, "", false},
		{"http is not https", CORS{Origins: []string{"https://app.example"}}, "GET", "http://app.example", false, 200, "", false},
		{"preflight", CORS{Origins: []string{"https://app.example"}}, "OPTIONS", "https://app.example", true, 204, "https://app.example", false},
		{"preflight from another origin", CORS{Origins: []string{"https://app.example"}}, "OPTIONS", "https://evil.example", true, 200, "", false},
		{"wildcard never with credentials", CORS{Origins: []string{"*"}, Credentials: true}, "GET", "https://any.example", false, 200, "*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/users/me", nil)
			req.Header.Set("Origin", tt.origin)
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := httptest.NewRecorder()
			cors(tt.cfg)(ok).ServeHTTP(rec, req)
			h := rec.Header()
			if rec.Code != tt.wantStatus || h.Get("Access-Control-Allow-Origin") != tt.wantAllow ||
				(h.Get("Access-Control-Allow-Credentials") == "true") != tt.wantCredentials {
				t.Errorf("%d %v", rec.Code, h)
			}
			if tt.preflight && tt.wantStatus == 204 && h.Get("Access-Control-Allow-Headers") == "" {
				t.Errorf("preflight without allowed headers: %v", h)
			}
		})
	}
}

// Every response carries the security headers; token answers are not cached.
func TestSecurityHeaders(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "hye", "hye@example.com", goodPassword)
	r := e.login(t, "hye", goodPassword)
	for name, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	docs := e.do(t, httptest.NewRequest("GET", "/docs", nil))
	if csp := docs.header.Get("Content-Security-Policy"); csp == "default-src 'none'; frame-ancestors 'none'" {
		t.Error("the docs page got the API's policy, which would stop it from loading its scripts")
	}
}
