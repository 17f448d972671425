package pages

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"path"
)

//go:embed static
var staticFS embed.FS

// handleStatic serves the embedded stylesheet (and any other static file).
// Each answer carries a strong ETag and is revalidated on use (no-cache), so
// a new release's stylesheet is seen at once and otherwise costs a 304.
func handleStatic(notFound http.Handler) http.Handler {
	type asset struct {
		body  []byte
		etag  string
		ctype string
	}
	assets := map[string]asset{}
	entries, _ := staticFS.ReadDir("static")
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		ctype := "application/octet-stream"
		switch path.Ext(e.Name()) {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		case ".png":
			ctype = "image/png"
		}
		assets[e.Name()] = asset{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`, ctype: ctype}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("file")]
		if !ok {
			notFound.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Set("Content-Type", a.ctype)
		if r.Header.Get("If-None-Match") == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(a.body)
	})
}
