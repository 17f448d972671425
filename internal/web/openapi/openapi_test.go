package openapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/web/openapi"
	"github.com/gatehouse-auth/gatehouse/internal/web/openapi/openapitest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// parse decodes the document into generic JSON values.
func parse(tb testing.TB) map[string]any {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		tb.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// obj returns v[key] as a JSON object, or nil.
func obj(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	o, _ := m[key].(map[string]any)
	return o
}

// lookup returns the value at a JSON pointer, or nil.
func lookup(v any, ptr string) any {
	if ptr == "" {
		return v
	}
	for tok := range strings.SplitSeq(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// operation is one operation of the document.
type operation struct {
	key string // "GET /users/me"
	op  map[string]any
}

// operations lists the document's operations, in document-independent order.
func operations(doc map[string]any) []operation {
	var ops []operation
	for path, item := range obj(doc, "paths") {
		for _, m := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			if op := obj(item, m); op != nil {
				ops = append(ops, operation{strings.ToUpper(m) + " " + path, op})
			}
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.key, b.key) })
	return ops
}

func TestDocumentHeader(t *testing.T) {
	t.Parallel()
	doc := parse(t)
	tests := []struct {
		ptr  string
		want string
	}{
		{"/openapi", "3.1.0"},
		{"/info/title", "gatehouse"},
		{"/components/securitySchemes/OAuth2PasswordBearer/type", "oauth2"},
		{"/components/securitySchemes/OAuth2PasswordBearer/flows/password/tokenUrl", "/auth/login"},
		{"/paths/~1auth~1login/post/requestBody/content/application~1x-www-form-urlencoded/schema/$ref", "#/components/schemas/LoginForm"},
		{"/components/schemas/LoginForm/properties/grant_type/pattern", "^password$"},
		{"/components/schemas/Token/properties/token_type/const", "bearer"},
		{"/components/schemas/ValidationError/properties/code/const", "validation_error"},
		{"/components/schemas/UserRegister/properties/email/format", "email"},
		{"/components/schemas/User/properties/created_at/format", "date-time"},
		{"/components/schemas/Token/required/3", "refresh_token"},
		{"/components/securitySchemes/revocationFeedBasic/type", "http"},
		{"/components/securitySchemes/revocationFeedBasic/scheme", "basic"},
		{"/paths/~1auth~1token/post/requestBody/content/application~1x-www-form-urlencoded/schema/$ref", "#/components/schemas/TokenRequest"},
		{"/paths/~1auth~1token/post/responses/400/$ref", "#/components/responses/OAuthFailed"},
		{"/paths/~1.well-known~1jwks.json/get/responses/200/content/application~1jwk-set+json/schema/$ref", "#/components/schemas/JWKS"},
		{"/components/headers/CacheControlNoStore/schema/const", "no-store"},
	}
	for _, tt := range tests {
		if got, _ := lookup(doc, tt.ptr).(string); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.ptr, got, tt.want)
		}
	}
	if d, _ := lookup(doc, "/info/description").(string); len(d) < 100 {
		t.Errorf("info.description = %q, want a real description", d)
	}
	if _, ok := lookup(doc, "/components/schemas/User/properties/hashed_password").(map[string]any); ok {
		t.Error("User has a hashed_password property")
	}
	if ap, ok := lookup(doc, "/components/schemas/User/additionalProperties").(bool); !ok || ap {
		t.Error("User must set additionalProperties: false")
	}
	if wo, _ := lookup(doc, "/components/schemas/UserRegister/properties/password/writeOnly").(bool); !wo {
		t.Error("UserRegister.password must be writeOnly")
	}
	// Schemas of answers that must never grow a secret refuse unknown members.
	for _, name := range []string{"User", "Token", "Session", "SessionList", "RevocationFeed", "Revocation"} {
		if ap, ok := lookup(doc, "/components/schemas/"+name+"/additionalProperties").(bool); !ok || ap {
			t.Errorf("%s must set additionalProperties: false", name)
		}
	}
	// RFC 6749 §3.2: the token endpoint takes form-encoded requests only.
	if c := obj(lookup(doc, "/paths/~1auth~1token/post/requestBody"), "content"); len(c) != 1 {
		t.Errorf("POST /auth/token accepts %d media types, want only application/x-www-form-urlencoded", len(c))
	}
}

// TestDocumentRefsResolve walks every $ref, schema references and OpenAPI
// Reference Objects alike.
func TestDocumentRefsResolve(t *testing.T) {
	t.Parallel()
	doc := parse(t)
	n := 0
	var walk func(ptr string, v any)
	walk = func(ptr string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				n++
				target, local := strings.CutPrefix(ref, "#")
				if !local || lookup(doc, target) == nil {
					t.Errorf("%s: $ref %q does not resolve", ptr, ref)
				}
			}
			for k, e := range x {
				walk(ptr+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(ptr+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("", doc)
	if n == 0 {
		t.Error("no $ref found; the document is expected to use components")
	}
}

// TestDocumentSchemasCompile compiles every components schema and every
// response schema (openapitest.New fails the test otherwise), and checks
// every schema's examples against the schema.
func TestDocumentSchemasCompile(t *testing.T) {
	t.Parallel()
	if v := openapitest.New(t, openapi.Document()); v == nil {
		t.Fatal("New returned nil")
	}

	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.Document()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("urn:test:openapi.json", inst); err != nil {
		t.Fatal(err)
	}
	schemas := obj(obj(inst, "components"), "schemas")
	for name, s := range schemas {
		t.Run(name, func(t *testing.T) {
			sch, err := c.Compile("urn:test:openapi.json#/components/schemas/" + name)
			if err != nil {
				t.Fatal(err)
			}
			examples, _ := s.(map[string]any)["examples"].([]any)
			for i, ex := range examples {
				if err := sch.Validate(ex); err != nil {
					t.Errorf("examples[%d] does not match: %v", i, err)
				}
			}
		})
	}
}

// TestDocumentOperations checks what every operation must carry.
func TestDocumentOperations(t *testing.T) {
	t.Parallel()
	doc := parse(t)
	tags := map[string]bool{}
	for _, tag := range lookup(doc, "/tags").([]any) {
		tags[tag.(map[string]any)["name"].(string)] = true
	}
	// secured maps each operation that requires credentials to its security
	// scheme and the challenge its 401 must carry; every other one is public.
	type scheme struct{ name, challenge string }
	bearer := scheme{"OAuth2PasswordBearer", "Bearer"}
	secured := map[string]scheme{
		"GET /users/me":                     bearer,
		"GET /users/me/items":               bearer,
		"GET /users/me/sessions":            bearer,
		"DELETE /users/me/sessions/{id}":    bearer,
		"POST /users/me/password":           bearer,
		"POST /auth/logout":                 bearer,
		"GET /admin/users":                  bearer,
		"POST /admin/users":                 bearer,
		"GET /admin/users/{id}":             bearer,
		"DELETE /admin/users/{id}":          bearer,
		"POST /admin/users/{id}/activate":   bearer,
		"POST /admin/users/{id}/deactivate": bearer,
		"PUT /admin/users/{id}/roles":       bearer,
		"DELETE /admin/users/{id}/sessions": bearer,
		"DELETE /admin/users/{id}/mfa":      bearer,
		"GET /admin/audit":                  bearer,

		"GET /users/me/mfa":                 bearer,
		"POST /users/me/mfa/totp":           bearer,
		"POST /users/me/mfa/totp/confirm":   bearer,
		"DELETE /users/me/mfa/totp":         bearer,
		"POST /users/me/mfa/recovery-codes": bearer,
		"GET /users/me/identities":          bearer,
		"POST /users/me/identities":         bearer,
		"POST /users/me/identities/confirm": bearer,
		"DELETE /users/me/identities/{id}":  bearer,
		"GET /auth/revocations":             {"revocationFeedBasic", "Basic"},
	}
	ids := map[string]string{}
	for _, o := range operations(doc) {
		t.Run(o.key, func(t *testing.T) {
			id, _ := o.op["operationId"].(string)
			if id == "" {
				t.Error("no operationId")
			} else if other, dup := ids[id]; dup {
				t.Errorf("operationId %q is also used by %s", id, other)
			}
			ids[id] = o.key
			if s, _ := o.op["summary"].(string); s == "" {
				t.Error("no summary")
			}
			opTags, _ := o.op["tags"].([]any)
			if len(opTags) == 0 {
				t.Error("no tags")
			}
			for _, tag := range opTags {
				if !tags[tag.(string)] {
					t.Errorf("tag %v is not declared at the top level", tag)
				}
			}
			responses := obj(o.op, "responses")
			if _, ok := responses["default"]; !ok {
				t.Error("no default response")
			}
			for code, r := range responses {
				if ref, _ := r.(map[string]any)["$ref"].(string); ref != "" {
					r = lookup(doc, strings.TrimPrefix(ref, "#"))
				}
				if d, _ := r.(map[string]any)["description"].(string); d == "" {
					t.Errorf("response %s has no description", code)
				}
			}
			security, _ := o.op["security"].([]any)
			want, isSecured := secured[o.key]
			if !isSecured {
				if len(security) > 0 {
					t.Errorf("security = %v on a public operation", security)
				}
				return
			}
			if len(security) != 1 {
				t.Errorf("security = %v, want [{%s: []}]", security, want.name)
			} else if _, ok := security[0].(map[string]any)[want.name]; !ok {
				t.Errorf("security = %v, want [{%s: []}]", security, want.name)
			}
			r401, ok := responses["401"].(map[string]any)
			if !ok {
				t.Fatal("a secured operation must document 401")
			}
			if ref, _ := r401["$ref"].(string); ref != "" {
				r401, _ = lookup(doc, strings.TrimPrefix(ref, "#")).(map[string]any)
			}
			h, _ := obj(r401, "headers")["WWW-Authenticate"].(map[string]any)
			if ref, _ := h["$ref"].(string); ref != "" {
				h, _ = lookup(doc, strings.TrimPrefix(ref, "#")).(map[string]any)
			}
			if req, _ := h["required"].(bool); !req {
				t.Error("401 must require a WWW-Authenticate header")
			}
			if p, _ := lookup(h, "/schema/pattern").(string); !strings.HasPrefix(p, "^"+want.challenge) {
				t.Errorf("401 WWW-Authenticate pattern = %q, want a %s challenge", p, want.challenge)
			}
		})
	}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	want := []string{
		"DELETE /admin/users/{id}",
		"DELETE /admin/users/{id}/mfa",
		"DELETE /admin/users/{id}/sessions",
		"DELETE /users/me/identities/{id}",
		"DELETE /users/me/mfa/totp",
		"DELETE /users/me/sessions/{id}",
		"GET /",
		"GET /.well-known/jwks.json",
		"GET /.well-known/oauth-authorization-server",
		"GET /.well-known/openid-configuration",
		"GET /admin/audit",
		"GET /admin/users",
		"GET /admin/users/{id}",
		"GET /auth/oauth",
		"GET /auth/oauth/{provider}",
		"GET /auth/oauth/{provider}/callback",
		"GET /auth/revocations",
		"GET /docs",
		"GET /docs/{file}",
		"GET /healthz",
		"GET /openapi.json",
		"GET /readyz",
		"GET /users/me",
		"GET /users/me/identities",
		"GET /users/me/items",
		"GET /users/me/mfa",
		"GET /users/me/sessions",
		"POST /admin/users",
		"POST /admin/users/{id}/activate",
		"POST /admin/users/{id}/deactivate",
		"POST /auth/login",
		"POST /auth/login/mfa",
		"POST /auth/logout",
		"POST /auth/password-reset",
		"POST /auth/password-reset/request",
		"POST /auth/refresh",
		"POST /auth/register",
		"POST /auth/token",
		"POST /auth/verify-email",
		"POST /auth/verify-email/request",
		"POST /users/me/identities",
		"POST /users/me/identities/confirm",
		"POST /users/me/mfa/recovery-codes",
		"POST /users/me/mfa/totp",
		"POST /users/me/mfa/totp/confirm",
		"POST /users/me/password",
		"PUT /admin/users/{id}/roles",
	}
	got := openapi.Operations()
	if !slices.Equal(got, want) {
		t.Errorf("Operations() = %q, want %q", got, want)
	}
	var fromDoc []string
	for _, o := range operations(parse(t)) {
		fromDoc = append(fromDoc, o.key)
	}
	if !slices.Equal(got, fromDoc) {
		t.Errorf("Operations() = %q, the document has %q", got, fromDoc)
	}
	got[0] = "changed"
	if openapi.Operations()[0] != want[0] {
		t.Error("Operations shares its slice with callers")
	}
}

func TestDocumentIsACopy(t *testing.T) {
	t.Parallel()
	d := openapi.Document()
	d[0] = 'x'
	if openapi.Document()[0] != '{' {
		t.Error("Document shares its bytes with callers")
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	v := openapitest.New(t, openapi.Document())
	h := openapi.Handler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	res := rec.Result()
	v.ValidateResponse(t, "GET", "/openapi.json", res.StatusCode, res.Header, rec.Body.Bytes())
	etag := res.Header.Get("ETag")
	tests := []struct {
		name   string
		header string // If-None-Match
		status int
	}{
		{"plain", "", http.StatusOK},
		{"current", etag, http.StatusNotModified},
		{"weak current", "W/" + etag, http.StatusNotModified},
		{"list", `"other", ` + etag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"stale", `"stale"`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
			if tt.header != "" {
				req.Header.Set("If-None-Match", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			v.ValidateResponse(t, "GET", "/openapi.json", res.StatusCode, res.Header, rec.Body.Bytes())
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if got := res.Header.Get("ETag"); got != etag || !strings.HasPrefix(got, `"`) {
				t.Errorf("ETag = %q, want the stable strong tag %q", got, etag)
			}
			if tt.status == http.StatusOK {
				if ct := res.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				if !bytes.Equal(rec.Body.Bytes(), openapi.Document()) {
					t.Error("body is not the document")
				}
			}
		})
	}
}

// compileSchema compiles one components schema of the document.
func compileSchema(tb testing.TB, name string) *jsonschema.Schema {
	tb.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.Document()))
	if err != nil {
		tb.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("urn:test:openapi.json", inst); err != nil {
		tb.Fatal(err)
	}
	sch, err := c.Compile("urn:test:openapi.json#/components/schemas/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return sch
}

// TestJWKSRefusesPrivateKeys checks that the JWKS schema is a guard, not only
// a description: a key set that leaks a private or symmetric key member, or
// misdescribes a key, fails validation.
func TestJWKSRefusesPrivateKeys(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t, "JWKS")
	const (
		ec  = `"kty": "EC", "kid": "k1", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"`
		rsa = `"kty": "RSA", "kid": "k2", "use": "sig", "alg": "RS256", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4", "e": "AQAB"`
		okp = `"kty": "OKP", "kid": "k3", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"`
	)
	tests := []struct {
		name  string
		set   string
		valid bool
	}{
		{"empty (HS256)", `{"keys": []}`, true},
		{"EC", `{"keys": [{` + ec + `}]}`, true},
		{"RSA", `{"keys": [{` + rsa + `}]}`, true},
		{"Ed25519", `{"keys": [{` + okp + `}]}`, true},
		{"rotation", `{"keys": [{` + ec + `}, {` + strings.Replace(ec, `"k1"`, `"k0"`, 1) + `}]}`, true},
		{"unknown public member", `{"keys": [{` + okp + `, "x5t#S256": "abc"}]}`, true},
		{"EC private d", `{"keys": [{` + ec + `, "d": "jpsQnnGQmL-YBIffH1136cLSG0_eiQ5Y3Ms-ahvF6vM"}]}`, false},
		{"Ed25519 private d", `{"keys": [{` + okp + `, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`, false},
		{"RSA private d", `{"keys": [{` + rsa + `, "d": "X4cTteJY"}]}`, false},
		{"RSA prime p", `{"keys": [{` + rsa + `, "p": "83i-7IvM"}]}`, false},
		{"RSA prime q", `{"keys": [{` + rsa + `, "q": "3dfOR9cu"}]}`, false},
		{"RSA dp", `{"keys": [{` + rsa + `, "dp": "G4sPXkc6"}]}`, false},
		{"RSA dq", `{"keys": [{` + rsa + `, "dq": "s9lAH9fg"}]}`, false},
		{"RSA qi", `{"keys": [{` + rsa + `, "qi": "GyM_p6JR"}]}`, false},
		{"RSA other primes", `{"keys": [{` + rsa + `, "oth": []}]}`, false},
		{"HMAC secret", `{"keys": [{"kty": "oct", "kid": "h", "use": "sig", "alg": "HS256", "k": "c2VjcmV0"}]}`, false},
		{"HMAC secret under a public kty", `{"keys": [{` + okp + `, "k": "c2VjcmV0"}]}`, false},
		{"no kid", `{"keys": [{"kty": "OKP", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": "11qY"}]}`, false},
		{"EC without y", `{"keys": [{"kty": "EC", "kid": "k", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "f83O"}]}`, false},
		{"RSA key named ES256", `{"keys": [{` + strings.Replace(rsa, "RS256", "ES256", 1) + `}]}`, false},
		{"encryption key", `{"keys": [{` + strings.Replace(okp, `"sig"`, `"enc"`, 1) + `}]}`, false},
		{"no keys", `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.set))
			if err != nil {
				t.Fatal(err)
			}
			err = sch.Validate(inst)
			if tt.valid && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("accepted")
			}
		})
	}
}
