package web

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/web/openapi"
)

type route struct {
	pattern string
	handler http.Handler
}

// routes is the one route table: every endpoint, one line each. The OpenAPI
// document lists the same operations; a test keeps the two in step. Unknown
// paths and methods get the mux's 404/405, rewritten as JSON by jsonMuxErrors.
func routes(d Deps, out *responder) []route {
	authed := requireUser(d.Auth, out)
	limit := limitBody(d.MaxBodyBytes, out)
	docs := openapi.DocsHandler(notFound(out))
	return []route{
		{"GET /{$}", handleRoot()},
		{"POST /auth/register", limit(handleRegister(d.Auth, out))},
		{"POST /auth/login", limit(handleLogin(d.Auth, out))},
		{"GET /users/me", authed(handleMe(out))},
		{"GET /users/me/items", authed(handleMyItems(out))},
		{"GET /healthz", handleHealthz()},
		{"GET /readyz", handleReadyz(d.Ready, out)},
		{"GET /openapi.json", openapi.Handler()},
		{"GET /docs", docs},
		{"GET /docs/{file}", docs},
	}
}

func addRoutes(mux *http.ServeMux, d Deps, out *responder) {
	for _, rt := range routes(d, out) {
		mux.Handle(rt.pattern, rt.handler)
	}
}
