package openapitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/web/openapi"
)

// recorder is a testing.TB that records failures instead of failing the test,
// so that the tests can check what Validator reports. Methods it does not
// override panic (the embedded TB is nil): the validator must not use them.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = true
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// jsonHeader is the header of a JSON response, plus extra name/value pairs.
func jsonHeader(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// check runs ValidateResponse on a recorder and compares the outcome with
// wantErr: "" means the response must be accepted, otherwise the failure
// message must contain wantErr.
func check(t *testing.T, v *Validator, method, path string, status int, h http.Header, body, wantErr string) {
	t.Helper()
	rec := &recorder{}
	v.ValidateResponse(rec, method, path, status, h, []byte(body))
	for _, e := range rec.errors {
		t.Logf("reported: %s", e)
	}
	switch {
	case wantErr == "" && len(rec.errors) > 0:
		t.Errorf("rejected a conforming response: %v", rec.errors)
	case wantErr != "" && len(rec.errors) == 0:
		t.Errorf("accepted a response that should fail with %q", wantErr)
	case wantErr != "" && !strings.Contains(rec.errors[0], wantErr):
		t.Errorf("error = %q, want it to contain %q", rec.errors[0], wantErr)
	}
	if len(rec.errors) > 1 {
		t.Errorf("reported %d errors, want at most 1: %v", len(rec.errors), rec.errors)
	}
	if len(rec.errors) == 1 && !strings.HasPrefix(rec.errors[0], fmt.Sprintf("%s %s → %d: ", method, path, status)) {
		t.Errorf("error %q does not start with method, path and status", rec.errors[0])
	}
}

const validUser = `{"id": 7, "username": "john_doe", "email": "john@example.com", "is_active": true, "created_at": "2025-01-02T03:04:05.123456789+09:00"}`

// TestValidateResponseGatehouse checks responses against the real document.
func TestValidateResponseGatehouse(t *testing.T) {
	t.Parallel()
	v := New(t, openapi.Document())
	bearer := `Bearer error="invalid_token", error_description="The access token expired"`
	noStore := jsonHeader("Cache-Control", "no-store", "Pragma", "no-cache")
	jwkSet := http.Header{"Content-Type": {"application/jwk-set+json"}, "Cache-Control": {"public, max-age=300"}}
	const discovery = `{"issuer": "https://auth.example.com", "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
		"token_endpoint": "https://auth.example.com/auth/token", "grant_types_supported": ["password", "refresh_token"],
		"response_types_supported": ["token"], "token_endpoint_auth_methods_supported": ["none"], "subject_types_supported": ["public"],
		"id_token_signing_alg_values_supported": ["ES256"], "claims_supported": ["iss", "sub"],
		"service_documentation": "https://auth.example.com/docs", "revocation_feed_endpoint": "https://auth.example.com/auth/revocations"}`
	tests := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		wantErr string
	}{
		{"user", "GET", "/users/me", 200, jsonHeader(), validUser, ""},
		{"user with charset", "GET", "/users/me", 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, validUser, ""},
		{"user with hashed_password", "GET", "/users/me", 200, jsonHeader(),
			`{"id": 7, "username": "john_doe", "email": "john@example.com", "is_active": true, "created_at": "2025-01-02T03:04:05Z", "hashed_password": "$argon2id$..."}`,
			"hashed_password"},
		{"user missing created_at", "GET", "/users/me", 200, jsonHeader(),
			`{"id": 7, "username": "john_doe", "email": "john@example.com", "is_active": true}`, "created_at"},
		{"user with a bad date", "GET", "/users/me", 200, jsonHeader(),
			`{"id": 7, "username": "john_doe", "email": "john@example.com", "is_active": true, "created_at": "yesterday"}`, "date-time"},
		{"user with a bad email", "GET", "/users/me", 200, jsonHeader(),
			`{"id": 7, "username": "john_doe", "email": "john", "is_active": true, "created_at": "2025-01-02T03:04:05Z"}`, "email"},
		{"user id as a string", "GET", "/users/me", 200, jsonHeader(),
			`{"id": "7", "username": "john_doe", "email": "john@example.com", "is_active": true, "created_at": "2025-01-02T03:04:05Z"}`, "/id"},
		{"registered", "POST", "/auth/register", 201, jsonHeader(), validUser, ""},
		{"undocumented status", "POST", "/auth/register", 200, jsonHeader(), validUser, "does not match the schema"},
		{"unknown path", "GET", "/users/you", 200, jsonHeader(), validUser, "no path matching"},
		{"undocumented method", "DELETE", "/users/me", 204, http.Header{}, "", "no DELETE operation"},
		{"register conflict", "POST", "/auth/register", 400, jsonHeader(), `{"detail": "Username already registered", "code": "username_taken"}`, ""},
		{"error without code", "POST", "/auth/register", 400, jsonHeader(), `{"detail": "Username already registered"}`, "code"},
		{"validation error", "POST", "/auth/register", 422, jsonHeader(),
			`{"detail": [{"loc": ["body", "email"], "msg": "not an email", "type": "value_error"}, {"loc": ["body", 0], "msg": "m", "type": "t", "input": null}], "code": "validation_error"}`, ""},
		{"validation error with another code", "POST", "/auth/register", 422, jsonHeader(),
			`{"detail": [], "code": "invalid"}`, "validation_error"},
		{"validation error as Error", "POST", "/auth/register", 422, jsonHeader(),
			`{"detail": "invalid", "code": "validation_error"}`, "/detail"},
		{"token", "POST", "/auth/login", 200, noStore,
			`{"access_token": "a.b.c", "token_type": "bearer", "expires_in": 1800, "refresh_token": "s.0.m"}`, ""},
		{"token with scope", "POST", "/auth/token", 200, noStore,
			`{"access_token": "a.b.c", "token_type": "bearer", "expires_in": 1800, "refresh_token": "s.0.m", "scope": "read"}`, ""},
		{"token without expires_in", "POST", "/auth/login", 200, noStore,
			`{"access_token": "a.b.c", "token_type": "bearer", "refresh_token": "s.0.m"}`, "expires_in"},
		{"token without refresh_token", "POST", "/auth/refresh", 200, noStore,
			`{"access_token": "a.b.c", "token_type": "bearer", "expires_in": 1800}`, "refresh_token"},
		{"token of another type", "POST", "/auth/login", 200, noStore,
			`{"access_token": "a.b.c", "token_type": "mac", "expires_in": 1800, "refresh_token": "s.0.m"}`, "token_type"},
		{"token with an extra member", "POST", "/auth/login", 200, noStore,
			`{"access_token": "a.b.c", "token_type": "bearer", "expires_in": 1800, "refresh_token": "s.0.m", "sid": "s"}`, "sid"},
		{"token that may be cached", "POST", "/auth/login", 200, jsonHeader("Pragma", "no-cache"),
			`{"access_token": "a.b.c", "token_type": "bearer", "expires_in": 1800, "refresh_token": "s.0.m"}`, "Cache-Control is missing"},
		{"token cached privately", "POST", "/auth/login", 200, jsonHeader("Cache-Control", "private", "Pragma", "no-cache"),
			`{"access_token": "a.b.c", "token_type": "bearer", "expires_in": 1800, "refresh_token": "s.0.m"}`, "Cache-Control"},
		{"token endpoint error", "POST", "/auth/token", 400, noStore,
			`{"error": "invalid_grant", "error_description": "Incorrect username or password", "detail": "Incorrect username or password", "code": "invalid_credentials"}`, ""},
		{"token endpoint error in our shape only", "POST", "/auth/token", 400, noStore,
			`{"detail": "Incorrect username or password", "code": "invalid_credentials"}`, "error"},
		{"token endpoint error of another kind", "POST", "/auth/token", 400, noStore,
			`{"error": "invalid_scope", "error_description": "x", "detail": "x", "code": "x"}`, "error"},
		{"token endpoint error that may be cached", "POST", "/auth/token", 400, jsonHeader(),
			`{"error": "invalid_request", "error_description": "x", "detail": "x", "code": "validation_error"}`, "Cache-Control"},
		{"refresh refused", "POST", "/auth/refresh", 400, jsonHeader(), `{"detail": "The refresh token or credentials are invalid, expired or revoked", "code": "invalid_grant"}`, ""},
		{"logged out", "POST", "/auth/logout", 204, http.Header{}, "", ""},
		{"logged out with a body", "POST", "/auth/logout", 204, jsonHeader(), "{}", "documents no content"},
		{"logout without challenge", "POST", "/auth/logout", 401, jsonHeader(), `{"detail": "Not authenticated", "code": "invalid_token"}`, "WWW-Authenticate"},
		{"sessions", "GET", "/users/me/sessions", 200, noStore,
			`{"sessions": [{"id": "S1", "created_at": "2025-01-02T03:04:05Z", "last_used_at": "2025-01-02T03:04:05Z", "expires_at": "2025-02-01T03:04:05Z", "client_ip": "192.0.2.1", "user_agent": "", "current": true}]}`, ""},
		{"sessions leaking a seed", "GET", "/users/me/sessions", 200, noStore,
			`{"sessions": [{"id": "S1", "created_at": "2025-01-02T03:04:05Z", "last_used_at": "2025-01-02T03:04:05Z", "expires_at": "2025-02-01T03:04:05Z", "client_ip": "192.0.2.1", "user_agent": "", "current": true, "seed": "AAAA"}]}`, "seed"},
		{"sessions without current", "GET", "/users/me/sessions", 200, noStore,
			`{"sessions": [{"id": "S1", "created_at": "2025-01-02T03:04:05Z", "last_used_at": "2025-01-02T03:04:05Z", "expires_at": "2025-02-01T03:04:05Z", "client_ip": "192.0.2.1", "user_agent": ""}]}`, "current"},
		{"session revoked", "DELETE", "/users/me/sessions/S1", 204, http.Header{}, "", ""},
		{"session not found", "DELETE", "/users/me/sessions/S1", 404, jsonHeader(), `{"detail": "Not Found", "code": "not_found"}`, ""},
		{"password changed", "POST", "/users/me/password", 204, http.Header{}, "", ""},
		{"wrong password", "POST", "/users/me/password", 400, jsonHeader(), `{"detail": "The current password is wrong", "code": "wrong_password"}`, ""},
		{"feed", "GET", "/auth/revocations?since=3&wait=0", 200, noStore, `{"revocations": [{"sid": "S1", "exp": 1735790645}], "cursor": "4"}`, ""},
		{"feed with a bad cursor", "GET", "/auth/revocations", 200, noStore, `{"revocations": [], "cursor": "-1"}`, "cursor"},
		{"feed with exp as a date", "GET", "/auth/revocations", 200, noStore, `{"revocations": [{"sid": "S1", "exp": "2025-01-02T03:04:05Z"}], "cursor": "4"}`, "exp"},
		{"feed client refused", "GET", "/auth/revocations", 401, jsonHeader("WWW-Authenticate", `Basic realm="gatehouse revocations"`), `{"detail": "Invalid client credentials", "code": "invalid_client"}`, ""},
		{"feed client refused with a Bearer challenge", "GET", "/auth/revocations", 401, jsonHeader("WWW-Authenticate", "Bearer"), `{"detail": "Invalid client credentials", "code": "invalid_client"}`, "WWW-Authenticate"},
		{"feed disabled", "GET", "/auth/revocations", 404, jsonHeader(), `{"detail": "Not Found", "code": "not_found"}`, ""},
		{"jwks", "GET", "/.well-known/jwks.json", 200, jwkSet, `{"keys": [{"kty": "OKP", "kid": "k", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, ""},
		{"jwks leaking a private key", "GET", "/.well-known/jwks.json", 200, jwkSet,
			`{"keys": [{"kty": "OKP", "kid": "k", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": "11qY", "d": "nWGx"}]}`, "keys/0"},
		{"jwks as plain JSON", "GET", "/.well-known/jwks.json", 200, jsonHeader("Cache-Control", "public, max-age=300"), `{"keys": []}`, "application/json is not documented"},
		{"jwks without caching", "GET", "/.well-known/jwks.json", 200, http.Header{"Content-Type": {"application/jwk-set+json"}}, `{"keys": []}`, "Cache-Control is missing"},
		{"discovery", "GET", "/.well-known/oauth-authorization-server", 200, jsonHeader("Cache-Control", "public, max-age=3600"), discovery, ""},
		{"discovery with a relative URL", "GET", "/.well-known/openid-configuration", 200, jsonHeader("Cache-Control", "public, max-age=3600"),
			strings.Replace(discovery, `"https://auth.example.com/auth/token"`, `"/auth/token"`, 1), "token_endpoint"},
		{"bad login", "POST", "/auth/login", 401, jsonHeader("WWW-Authenticate", "Bearer"),
			`{"detail": "Incorrect username or password", "code": "invalid_credentials"}`, ""},
		{"bad login without challenge", "POST", "/auth/login", 401, jsonHeader(),
			`{"detail": "Incorrect username or password", "code": "invalid_credentials"}`, "WWW-Authenticate"},
		{"bad token", "GET", "/users/me/items", 401, jsonHeader("WWW-Authenticate", bearer),
			`{"detail": "Could not validate credentials", "code": "invalid_token"}`, ""},
		{"bad token with a Basic challenge", "GET", "/users/me", 401, jsonHeader("WWW-Authenticate", "Basic"),
			`{"detail": "Could not validate credentials", "code": "invalid_token"}`, "WWW-Authenticate"},
		{"items", "GET", "/users/me/items", 200, jsonHeader(), `[{"item_id": 1, "owner": "john_doe"}, {"item_id": 2, "owner": "john_doe"}]`, ""},
		{"items not an array", "GET", "/users/me/items", 200, jsonHeader(), `{"item_id": 1, "owner": "john_doe"}`, "array"},
		{"not found by default", "GET", "/users/me", 404, jsonHeader(), `{"detail": "Not Found", "code": "not_found"}`, ""},
		{"error as text", "GET", "/users/me", 500, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, "oops", "text/plain is not documented"},
		{"no content type", "GET", "/healthz", 200, http.Header{}, `{"status": "ok"}`, "no Content-Type"},
		{"body not JSON", "GET", "/healthz", 200, jsonHeader(), `{"status": "ok"`, "not JSON"},
		{"healthy", "GET", "/healthz", 200, jsonHeader(), `{"status": "ok"}`, ""},
		{"query string ignored", "GET", "/readyz?verbose=1", 503, jsonHeader(), `{"detail": "Database unavailable", "code": "not_ready"}`, ""},
		{"head", "HEAD", "/healthz", 200, jsonHeader(), "", ""},
		{"head body ignored", "HEAD", "/healthz", 200, jsonHeader(), `{"status": "ok"}`, ""},
		{"head headers checked", "HEAD", "/users/me", 401, jsonHeader(), "", "WWW-Authenticate"},
		{"docs page", "GET", "/docs", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<!DOCTYPE html>", ""},
		{"docs asset", "GET", "/docs/init.js", 200, http.Header{"Content-Type": {"text/javascript; charset=utf-8"}}, "x", ""},
		{"docs not modified", "GET", "/docs/init.js", 304, http.Header{"Etag": {`"x"`}}, "", ""},
		{"not modified with a body", "GET", "/openapi.json", 304, http.Header{}, "{}", "documents no content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, v, tt.method, tt.path, tt.status, tt.header, tt.body, tt.wantErr)
		})
	}
}

// fixture exercises what the gatehouse document does not: templates competing
// with literal paths, status ranges, responses without default, headers of
// their own, and media type wildcards.
const fixture = `{
  "openapi": "3.1.0",
  "info": {"title": "fixture", "version": "1"},
  "paths": {
    "/users/{id}": {
      "get": {"responses": {"200": {"description": "by id", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ID"}}}}}}
    },
    "/users/me": {
      "get": {"responses": {"200": {"description": "me", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Name"}}}}}}
    },
    "/users/me/sessions/{id}": {
      "delete": {"responses": {
        "204": {"description": "gone", "headers": {"X-Request-Id": {"required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]+$"}}}},
        "4XX": {"$ref": "#/components/responses/Problem"}
      }}
    },
    "/files/{name}": {
      "get": {"responses": {"200": {"description": "any image", "content": {"image/*": {}}}}}
    }
  },
  "components": {
    "schemas": {
      "ID": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
      "Name": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    },
    "responses": {
      "Problem": {"description": "problem", "content": {"application/problem+json": {"schema": {"type": "object", "required": ["title"]}}}}
    }
  }
}`

// TestValidateResponseMatching checks path, status and media type matching.
func TestValidateResponseMatching(t *testing.T) {
	t.Parallel()
	v := New(t, []byte(fixture))
	reqID := http.Header{"X-Request-Id": {"c0ffee"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		wantErr string
	}{
		{"literal wins over template", "GET", "/users/me", 200, jsonHeader(), `{"name": "me"}`, ""},
		{"literal path has its own schema", "GET", "/users/me", 200, jsonHeader(), `{"id": 1}`, "name"},
		{"template", "GET", "/users/42", 200, jsonHeader(), `{"id": 42}`, ""},
		{"template segment must not be empty", "GET", "/users/", 200, jsonHeader(), `{"id": 42}`, "no path matching"},
		{"template does not span segments", "GET", "/users/42/x", 200, jsonHeader(), `{"id": 42}`, "no path matching"},
		{"nested template", "DELETE", "/users/me/sessions/abc", 204, reqID, "", ""},
		{"no content with a body", "DELETE", "/users/me/sessions/abc", 204, reqID, `{}`, "documents no content"},
		{"required header missing", "DELETE", "/users/me/sessions/abc", 204, http.Header{}, "", "X-Request-Id is missing"},
		{"header against its schema", "DELETE", "/users/me/sessions/abc", 204, http.Header{"X-Request-Id": {"XYZ"}}, "", "X-Request-Id"},
		{"range", "DELETE", "/users/me/sessions/abc", 404, problem, `{"title": "gone"}`, ""},
		{"range with +json validated", "DELETE", "/users/me/sessions/abc", 409, problem, `{}`, "title"},
		{"no default", "DELETE", "/users/me/sessions/abc", 500, problem, `{"title": "x"}`, "status 500 is not documented"},
		{"exact code only", "GET", "/users/42", 201, jsonHeader(), `{"id": 42}`, "status 201 is not documented"},
		{"media type wildcard", "GET", "/files/a.png", 200, http.Header{"Content-Type": {"image/png"}}, "\x89PNG", ""},
		{"media type wildcard other type", "GET", "/files/a.png", 200, http.Header{"Content-Type": {"text/plain"}}, "x", "not documented"},
		{"media type case", "GET", "/users/42", 200, http.Header{"Content-Type": {"Application/JSON"}}, `{"id": 42}`, ""},
		{"bad content type", "GET", "/users/42", 200, http.Header{"Content-Type": {"/"}}, `{"id": 42}`, "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, v, tt.method, tt.path, tt.status, tt.header, tt.body, tt.wantErr)
		})
	}
}

// TestNew checks that New refuses documents it cannot check against.
func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     string
		wantErr string // "" when New must succeed
	}{
		{"gatehouse", string(openapi.Document()), ""},
		{"fixture", fixture, ""},
		{"not JSON", `{"openapi": `, "not JSON"},
		{"not an object", `[]`, "not a JSON object"},
		{"OpenAPI 3.0", `{"openapi": "3.0.3", "paths": {}}`, "want 3.1.x"},
		{"no paths", `{"openapi": "3.1.0"}`, "no paths"},
		{"no responses", `{"openapi": "3.1.0", "paths": {"/": {"get": {}}}}`, "no responses"},
		{"dangling response $ref", `{"openapi": "3.1.0", "paths": {"/": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}}`,
			"does not resolve"},
		{"remote $ref", `{"openapi": "3.1.0", "paths": {"/": {"get": {"responses": {"200": {"$ref": "https://example.com/r.json"}}}}}}`,
			"not local"},
		{"dangling schema $ref", `{"openapi": "3.1.0", "paths": {"/": {"get": {"responses": {"200": {"description": "x",
			"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}}}`, "schema"},
		{"invalid schema", `{"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"Bad": {"type": 5}}}}`, "Bad"},
		{"invalid header schema", `{"openapi": "3.1.0", "paths": {"/": {"get": {"responses": {"200": {"description": "x",
			"headers": {"X": {"schema": {"pattern": "("}}}}}}}}}`, "headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			v := New(rec, []byte(tt.doc))
			if tt.wantErr == "" {
				if rec.fatal || v == nil {
					t.Fatalf("New failed: %v", rec.errors)
				}
				return
			}
			if !rec.fatal || v != nil {
				t.Fatalf("New succeeded, want failure containing %q", tt.wantErr)
			}
			if !strings.Contains(rec.errors[0], tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", rec.errors[0], tt.wantErr)
			}
		})
	}
}

// TestValidateResponseNilValidator checks that a failed New does not turn into
// a panic in the test that ignored it.
func TestValidateResponseNilValidator(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	var v *Validator
	v.ValidateResponse(rec, "GET", "/", 200, jsonHeader(), []byte("{}"))
	if len(rec.errors) != 1 {
		t.Fatalf("errors = %v, want one", rec.errors)
	}
}
