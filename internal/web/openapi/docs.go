package openapi

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	swaggerfiles "github.com/swaggo/files/v2"
)

//go:embed docs/docs.html docs/init.js
var docsFS embed.FS

// docsCSP is the Content-Security-Policy of the documentation page. Everything
// comes from this server: no inline script (the page starts Swagger UI from
// /docs/init.js) and no inline style element (the bundle renders none; the
// standalone preset, which does, is not loaded). Swagger UI's React style props
// are applied through the CSSOM, which style-src does not govern, so
// 'unsafe-inline' should not be needed; a browser test listening for
// securitypolicyviolation events is to confirm it. img-src allows data:
// because swagger-ui.css draws its icons as data: URLs.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// assetCacheControl lets browsers keep an asset for a year without asking: the
// page links every asset with ?v=<hash of its content>, so a new release
// changes the URL instead of waiting for the cache to expire.
const assetCacheControl = "public, max-age=31536000, immutable"

// docsAsset is one file the documentation page loads.
type docsAsset struct {
	body        []byte
	contentType string
	etag        string
}

// docsFiles names the files /docs/{file} serves and where each comes from.
// Nothing else of the Swagger UI distribution is served: not the source maps,
// the other bundles, nor its index.html and OAuth2 redirect page, which the
// password flow does not use.
var docsFiles = []struct {
	name        string
	fsys        fs.FS
	path        string
	contentType string
}{
	{"swagger-ui.css", swaggerfiles.FS, "swagger-ui.css", "text/css; charset=utf-8"},
	{"index.css", swaggerfiles.FS, "index.css", "text/css; charset=utf-8"},
	{"swagger-ui-bundle.js", swaggerfiles.FS, "swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
	{"favicon-32x32.png", swaggerfiles.FS, "favicon-32x32.png", "image/png"},
	{"favicon-16x16.png", swaggerfiles.FS, "favicon-16x16.png", "image/png"},
	{"init.js", docsFS, "docs/init.js", "text/javascript; charset=utf-8"},
}

// DocsHandler serves the interactive documentation: Swagger UI 5 from
// github.com/swaggo/files/v2, entirely from this server (no CDN), pointed at
// /openapi.json, with the Authorize button logging in through the OAuth2
// password flow of POST /auth/login.
//
// GET /docs answers the page (no-cache, with an ETag and a strict
// Content-Security-Policy); GET /docs/{file} answers the stylesheets, scripts
// and icons the page loads, cacheable for a long time. Any other path under
// /docs/ is passed to notFound, so the caller decides the body of a 404.
// The caller mounts the handler at "GET /docs" and "GET /docs/{file}".
//
// DocsHandler reads and hashes the files once; it panics if one is missing,
// which only a broken build can cause.
func DocsHandler(notFound http.Handler) http.Handler {
	assets := make(map[string]docsAsset, len(docsFiles))
	urls := make(map[string]string, len(docsFiles))
	for _, f := range docsFiles {
		body, err := fs.ReadFile(f.fsys, f.path)
		if err != nil {
			panic(fmt.Sprintf("openapi: docs file %s: %v", f.name, err))
		}
		etag := entityTag(body)
		assets[f.name] = docsAsset{body: body, contentType: f.contentType, etag: etag}
		urls[f.name] = "/docs/" + f.name + "?v=" + strings.Trim(etag, `"`)
	}

	tmpl := template.Must(template.ParseFS(docsFS, "docs/docs.html"))
	var page bytes.Buffer
	err := tmpl.Execute(&page, struct {
		Title, SpecURL                              string
		CSS, IndexCSS, Bundle, Init, Icon32, Icon16 string
	}{
		Title:    "gatehouse",
		SpecURL:  "/openapi.json",
		CSS:      urls["swagger-ui.css"],
		IndexCSS: urls["index.css"],
		Bundle:   urls["swagger-ui-bundle.js"],
		Init:     urls["init.js"],
		Icon32:   urls["favicon-32x32.png"],
		Icon16:   urls["favicon-16x16.png"],
	})
	if err != nil {
		panic(fmt.Sprintf("openapi: docs page: %v", err))
	}
	pageBody := page.Bytes()
	pageETag := entityTag(pageBody)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/docs" {
			h := w.Header()
			h.Set("Content-Security-Policy", docsCSP)
			h.Set("Referrer-Policy", "no-referrer")
			serveBytes(w, r, pageBody, "text/html; charset=utf-8", "no-cache", pageETag)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/docs/")
		a, found := assets[name]
		if !ok || !found {
			notFound.ServeHTTP(w, r)
			return
		}
		serveBytes(w, r, a.body, a.contentType, assetCacheControl, a.etag)
	})
}
