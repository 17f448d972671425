package upstream

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// fakeOAuth is a plain OAuth 2.0 provider with a user-info API: GitHub's
// or Naver's shape, as the handlers given answer.
func fakeOAuth(tb testing.TB, api map[string]http.HandlerFunc) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.PostForm.Get("code") != "good-code" || r.PostForm.Get("code_verifier") != "the-verifier" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"api-token","token_type":"bearer"}`))
	})
	for pattern, h := range api {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer api-token" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h(w, r)
		})
	}
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

func jsonHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}
}

func newFake(tb testing.TB, typ string, srv *httptest.Server) *Provider {
	tb.Helper()
	p, err := New(Config{
		Name: typ, Type: typ, ClientID: "id", ClientSecret: "secret", RedirectURL: "https://auth.test/auth/oauth/" + typ + "/callback",
		AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/token", UserInfoURL: srv.URL + "/user", EmailsURL: srv.URL + "/user/emails",
	}, srv.Client(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestGitHubUserMapping(t *testing.T) {
	t.Parallel()
	user := `{"id": 583231, "login": "octocat", "name": "The Octocat", "email": "public@example.com"}`
	tests := []struct {
		name      string
		emails    http.HandlerFunc
		wantEmail string
		verified  bool
	}{
		{"primary verified", jsonHandler(`[{"email":"other@example.com","primary":false,"verified":true},{"email":"octo@example.com","primary":true,"verified":true}]`), "octo@example.com", true},
		{"primary unverified", jsonHandler(`[{"email":"other@example.com","primary":false,"verified":true},{"email":"octo@example.com","primary":true,"verified":false}]`), "octo@example.com", false},
		{"no primary", jsonHandler(`[{"email":"other@example.com","primary":false,"verified":true}]`), "", false},
		{"emails refused (no user:email scope)", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "forbidden", 403) }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeOAuth(t, map[string]http.HandlerFunc{"GET /user": jsonHandler(user), "GET /user/emails": tt.emails})
			u, err := newFake(t, TypeGitHub, srv).Exchange(t.Context(), "good-code", "the-verifier", "")
			if err != nil {
				t.Fatal(err)
			}
			want := gatehouse.UpstreamUser{Provider: "github", Subject: "583231", Username: "octocat", Name: "The Octocat", Email: tt.wantEmail, EmailVerified: tt.verified}
			if *u != want {
				t.Errorf("user %+v, want %+v", *u, want)
			}
		})
	}
}

func TestNaverUserMapping(t *testing.T) {
	t.Parallel()
	srv := fakeOAuth(t, map[string]http.HandlerFunc{"GET /user": jsonHandler(
		`{"resultcode":"00","message":"success","response":{"id":"32742776","nickname":"OPENAPI","name":"오픈 API","email":"openapi@naver.com"}}`)})
	u, err := newFake(t, TypeNaver, srv).Exchange(t.Context(), "good-code", "the-verifier", "")
	if err != nil {
		t.Fatal(err)
	}
	// Naver does not say the email is verified: it never counts as such.
	want := gatehouse.UpstreamUser{Provider: "naver", Subject: "32742776", Username: "OPENAPI", Name: "오픈 API", Email: "openapi@naver.com"}
	if *u != want {
		t.Errorf("user %+v, want %+v", *u, want)
	}
}

// Every failure of a provider is upstream_failed, never a panic or a 5xx.
func TestExchangeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		typ  string
		api  map[string]http.HandlerFunc
		code string
	}{
		{"code refused", TypeGitHub, nil, "bad-code"},
		{"user API down", TypeGitHub, map[string]http.HandlerFunc{"GET /user": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 502) }}, "good-code"},
		{"user API not JSON", TypeGitHub, map[string]http.HandlerFunc{"GET /user": jsonHandler(`<html>`)}, "good-code"},
		{"github user without id", TypeGitHub, map[string]http.HandlerFunc{"GET /user": jsonHandler(`{"login":"x"}`)}, "good-code"},
		{"naver error result", TypeNaver, map[string]http.HandlerFunc{"GET /user": jsonHandler(`{"resultcode":"024","message":"Authentication failed"}`)}, "good-code"},
		{"naver without id", TypeNaver, map[string]http.HandlerFunc{"GET /user": jsonHandler(`{"resultcode":"00","response":{}}`)}, "good-code"},
		{"huge answer", TypeNaver, map[string]http.HandlerFunc{"GET /user": jsonHandler(`{"resultcode":"00","message":"` + strings.Repeat("x", 2<<20) + `"}`)}, "good-code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeOAuth(t, tt.api)
			_, err := newFake(t, tt.typ, srv).Exchange(t.Context(), tt.code, "the-verifier", "")
			if !gatehouse.IsCode(err, gatehouse.CodeUpstreamFailed) {
				t.Errorf("err = %v, want upstream_failed", err)
			}
		})
	}
}

func TestAuthURL(t *testing.T) {
	t.Parallel()
	srv := fakeOAuth(t, nil)
	raw, err := newFake(t, TypeGitHub, srv).AuthURL(t.Context(), "the-state", "the-nonce", "the-challenge")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if !strings.HasPrefix(raw, srv.URL+"/authorize?") || q.Get("state") != "the-state" || q.Get("code_challenge") != "the-challenge" ||
		q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "id" || q.Get("response_type") != "code" ||
		q.Get("redirect_uri") != "https://auth.test/auth/oauth/github/callback" || q.Get("scope") != "read:user user:email" {
		t.Errorf("AuthURL = %s", raw)
	}
	if q.Has("nonce") {
		t.Errorf("a nonce sent to a plain OAuth 2.0 provider: %s", raw)
	}
	// An OpenID provider whose discovery fails: upstream_failed, and tried
	// again on the next use.
	down := httptest.NewServer(http.NotFoundHandler())
	defer down.Close()
	p, err := New(Config{Name: "corp", Type: TypeOIDC, Issuer: down.URL, ClientID: "id", RedirectURL: "https://auth.test/cb"}, down.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AuthURL(t.Context(), "s", "n", "c"); !gatehouse.IsCode(err, gatehouse.CodeUpstreamFailed) {
		t.Errorf("discovery failure: %v", err)
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	for _, typ := range Types {
		p, err := New(Config{Name: typ, Type: typ, ClientID: "id", RedirectURL: "https://auth.test/cb", Issuer: map[bool]string{true: "https://idp.example"}[typ == TypeOIDC]}, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if p.OpenID() != (typ == TypeOIDC || typ == TypeGoogle || typ == TypeKakao) {
			t.Errorf("%s: OpenID() = %v", typ, p.OpenID())
		}
	}
	if presets[TypeGoogle].issuer != "https://accounts.google.com" || presets[TypeKakao].issuer != "https://kauth.kakao.com" {
		t.Error("preset issuers changed")
	}
	for _, bad := range []Config{
		{Name: "x", Type: "myspace", ClientID: "id", RedirectURL: "https://a/cb"},
		{Name: "x", Type: TypeOIDC, ClientID: "id", RedirectURL: "https://a/cb"}, // no issuer
		{Name: "x", Type: TypeGoogle, RedirectURL: "https://a/cb"},               // no client id
		{Name: "x", Type: TypeGoogle, ClientID: "id"},                            // no callback
	} {
		if _, err := New(bad, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
	var v flexBool
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `false`: false, `"false"`: false, `null`: false} {
		if err := json.Unmarshal([]byte(in), &v); err != nil || bool(v) != want {
			t.Errorf("flexBool(%s) = %v, %v", in, v, err)
		}
	}
	if err := json.Unmarshal([]byte(`"yes"`), &v); err == nil {
		t.Error(`flexBool("yes") accepted`)
	}
}
