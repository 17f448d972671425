package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/web/openapi"
	"github.com/gatehouse-auth/gatehouse/internal/web/openapi/openapitest"
)

// notFound stands in for the server's 404 writer.
var notFound = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"detail":"Not Found","code":"not_found"}`))
})

// get serves one GET request through h.
func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestDocsHandler(t *testing.T) {
	t.Parallel()
	v := openapitest.New(t, openapi.Document())
	h := openapi.DocsHandler(notFound)
	tests := []struct {
		path        string
		status      int
		contentType string
		cache       string
		contains    string
		routed      bool // the server's mux routes the path here, so the document covers it
	}{
		{"/docs", 200, "text/html; charset=utf-8", "no-cache", `data-spec-url="/openapi.json"`, true},
		{"/docs/swagger-ui-bundle.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "SwaggerUIBundle", true},
		{"/docs/swagger-ui-bundle.js?v=anything", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "SwaggerUIBundle", true},
		{"/docs/init.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "SwaggerUIBundle({", true},
		{"/docs/swagger-ui.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", ".swagger-ui", true},
		{"/docs/index.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "box-sizing", true},
		{"/docs/favicon-32x32.png", 200, "image/png", "public, max-age=31536000, immutable", "\x89PNG", true},
		{"/docs/favicon-16x16.png", 200, "image/png", "public, max-age=31536000, immutable", "\x89PNG", true},
		{"/docs/nope", 404, "application/json", "", "not_found", true},
		{"/docs/swagger-ui-bundle.js.map", 404, "application/json", "", "not_found", true},
		{"/docs/swagger-ui.js", 404, "application/json", "", "not_found", true},
		{"/docs/index.html", 404, "application/json", "", "not_found", true},
		{"/docs/oauth2-redirect.html", 404, "application/json", "", "not_found", true},
		{"/docs/swagger-initializer.js", 404, "application/json", "", "not_found", true},
		{"/docs/docs.html", 404, "application/json", "", "not_found", true},
		{"/docs/", 404, "application/json", "", "not_found", false},
		{"/docs/init.js/x", 404, "application/json", "", "not_found", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			rec := get(h, tt.path)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body does not contain %q", tt.contains)
			}
			if tt.routed {
				v.ValidateResponse(t, http.MethodGet, tt.path, res.StatusCode, res.Header, rec.Body.Bytes())
			}

			if tt.status != http.StatusOK {
				return
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			etag := res.Header.Get("ETag")
			again := get(h, tt.path, "If-None-Match", etag)
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Errorf("with If-None-Match: %d and %d bytes, want 304 and none", again.Code, again.Body.Len())
			}
			v.ValidateResponse(t, http.MethodGet, tt.path, again.Code, again.Result().Header, again.Body.Bytes())
		})
	}
}

// attrURL finds the URLs a page loads: src and href attributes.
var attrURL = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)

// TestDocsPage checks that the page loads only files the handler serves, from
// this server, with no inline script, under a policy that forbids the rest.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	h := openapi.DocsHandler(notFound)
	rec := get(h, "/docs")
	page := rec.Body.String()

	csp := rec.Result().Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("Content-Security-Policy %q allows %q", csp, bad)
		}
	}

	if n, m := strings.Count(page, "<script"), strings.Count(page, `<script src="/docs/`); n != m || n != 2 {
		t.Errorf("page has %d script elements, %d of them loading /docs/ files; want 2 and 2, no inline script", n, m)
	}
	if regexp.MustCompile(`<script[^>]*>[^<]+</script>`).MatchString(page) {
		t.Error("a script element has inline content")
	}
	if strings.Contains(page, "<style") || strings.Contains(page, "style=") {
		t.Error("page has inline style")
	}

	var loaded []string
	for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
		u := m[1]
		if u == "/openapi.json" { // the noscript link to the document
			continue
		}
		if strings.Contains(u, "//") || !strings.HasPrefix(u, "/docs/") {
			t.Errorf("page loads %q, want a /docs/ path of this server", u)
			continue
		}
		res := get(h, u)
		if res.Code != http.StatusOK {
			t.Errorf("page loads %q, which answers %d", u, res.Code)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(u, "/docs/"), "?")
		loaded = append(loaded, name)
	}
	for _, want := range []string{"swagger-ui.css", "swagger-ui-bundle.js", "init.js"} {
		if !slices.Contains(loaded, want) {
			t.Errorf("page does not load %s; it loads %q", want, loaded)
		}
	}

	// The document lists exactly the files the page loads.
	var enum []string
	for _, e := range lookup(parse(t), "/paths/~1docs~1{file}/get/parameters/0/schema/enum").([]any) {
		enum = append(enum, e.(string))
	}
	slices.Sort(enum)
	slices.Sort(loaded)
	if !slices.Equal(enum, loaded) {
		t.Errorf("GET /docs/{file} documents %q, the page loads %q", enum, loaded)
	}
}

// TestDocsInit checks the settings init.js gives Swagger UI.
func TestDocsInit(t *testing.T) {
	t.Parallel()
	js := get(openapi.DocsHandler(notFound), "/docs/init.js").Body.String()
	for _, want := range []string{
		"dataset.specUrl",
		"SwaggerUIBundle.presets.apis",
		"validatorUrl: null",
		"queryConfigEnabled: false",
		"persistAuthorization: false",
	} {
		if !strings.Contains(js, want) {
			t.Errorf("init.js lacks %q", want)
		}
	}
	if strings.Contains(js, "SwaggerUIStandalonePreset") {
		t.Error("init.js uses the standalone preset, whose inline <style> the CSP refuses")
	}
	if regexp.MustCompile(`https?://`).MatchString(js) {
		t.Error("init.js names an external URL")
	}
}

// TestDocsHandlerMounted mounts the handlers as the server does and checks
// that the page and everything it loads answer through the mux.
func TestDocsHandlerMounted(t *testing.T) {
	t.Parallel()
	v := openapitest.New(t, openapi.Document())
	docs := openapi.DocsHandler(notFound)
	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", openapi.Handler())
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/{file}", docs)
	mux.Handle("/", notFound)

	page := get(mux, "/docs").Body.String()
	targets := []string{"/docs", "/openapi.json", "/docs/nope", "/docs/swagger-ui-bundle.js.map"}
	for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
		targets = append(targets, m[1])
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				req := httptest.NewRequest(method, target, nil)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				want := http.StatusOK
				if strings.HasPrefix(target, "/docs/nope") || strings.HasSuffix(target, ".map") {
					want = http.StatusNotFound
				}
				if rec.Code != want {
					t.Errorf("%s: status = %d, want %d", method, rec.Code, want)
				}
				if method == http.MethodHead && rec.Code == http.StatusOK && rec.Body.Len() > 0 {
					t.Errorf("HEAD: %d bytes of body", rec.Body.Len())
				}
				if method == http.MethodHead && rec.Code == http.StatusOK && rec.Header().Get("Content-Length") == "" {
					t.Error("HEAD: no Content-Length")
				}
				v.ValidateResponse(t, method, target, rec.Code, rec.Result().Header, rec.Body.Bytes())
			}
		})
	}
}
