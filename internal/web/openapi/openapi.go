// Package openapi holds the OpenAPI 3.1 document of the gatehouse HTTP API and
// serves it, with interactive documentation (Swagger UI) that works offline.
//
// openapi.json is the single source of truth for the API: handler tests check
// every response against it (see package openapitest), and a test compares
// Operations with the server's route table, so the document cannot drift from
// the code without a test failing.
package openapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

//go:embed openapi.json
var document []byte

// Document returns the embedded OpenAPI document (JSON bytes). The caller owns
// the returned slice.
func Document() []byte {
	return bytes.Clone(document)
}

// Handler serves the document as application/json. It is revalidated on every
// use (Cache-Control: no-cache) against an ETag computed once, so a client
// sees a new release of the API at once and otherwise gets a 304.
func Handler() http.Handler {
	etag := entityTag(document)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveBytes(w, r, document, "application/json", "no-cache", etag)
	})
}

// httpMethods are the operation keys of an OpenAPI Path Item Object.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations is computed once: the document is fixed at build time.
var operations = sync.OnceValue(func() []string {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(document, &doc); err != nil {
		// The document is embedded and tested; this is a build defect.
		panic(fmt.Sprintf("openapi: embedded openapi.json: %v", err))
	}
	var ops []string
	for path, item := range doc.Paths {
		for _, m := range httpMethods {
			if _, ok := item[m]; ok {
				ops = append(ops, strings.ToUpper(m)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
})

// Operations lists "METHOD /path" for every operation in the document (for
// example "GET /users/me"), sorted, so a test can compare it with the route
// table. The caller owns the returned slice.
func Operations() []string {
	return slices.Clone(operations())
}

// entityTag returns a strong ETag for body: a quoted, truncated SHA-256.
func entityTag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// serveBytes writes body with the given headers, or 304 Not Modified when the
// request's If-None-Match already names etag. Range requests are not
// supported on purpose: every body here is small enough, or cached for long
// enough, that partial content is not worth a 206 the API does not document.
func serveBytes(w http.ResponseWriter, r *http.Request, body []byte, contentType, cacheControl, etag string) {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // an error means the client went away
	}
}

// etagMatches reports whether an If-None-Match header value names etag, with
// the weak comparison RFC 9110 §13.1.2 prescribes for If-None-Match.
func etagMatches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for candidate := range strings.SplitSeq(ifNoneMatch, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}
