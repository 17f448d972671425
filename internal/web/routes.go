package web

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse"

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
	hashes := d.HashGate.wrap(out) // routes that hash a password
	docs := openapi.DocsHandler(notFound(out))
	admin := func(h http.Handler) http.Handler { return authed(requireRole(d.Admin, gatehouse.RoleAdmin, out)(h)) }
	return []route{
		{"GET /{$}", handleRoot()},
		{"POST /auth/register", limit(hashes(handleRegister(d.Auth, out)))},
		{"POST /auth/login", limit(hashes(handleLogin(d.Auth, d.Observer, out)))},
		{"POST /auth/login/mfa", limit(handleLoginMFA(d.Auth, d.Observer, out))},
		{"POST /auth/token", handleToken(d.Auth, d.Federation, d.MaxBodyBytes, d.HashGate, d.Observer, out)},
		{"POST /auth/refresh", limit(handleRefresh(d.Auth, out))},
		{"POST /auth/logout", authed(handleLogout(d.Auth, out))},
		{"GET /auth/revocations", handleRevocations(d.Auth, d.FeedClients, d.Shutdown, out)},
		{"GET /users/me", authed(handleMe(out))},
		{"GET /users/me/items", authed(handleMyItems(out))},
		{"GET /users/me/sessions", authed(handleListSessions(d.Auth, out))},
		{"DELETE /users/me/sessions/{id}", authed(handleRevokeSession(d.Auth, out))},
		{"POST /users/me/password", limit(authed(hashes(handleChangePassword(d.Auth, out))))},
		{"GET /users/me/mfa", authed(handleMFAStatus(d.Auth, out))},
		{"POST /users/me/mfa/totp", authed(handleEnrolTOTP(d.Auth, out))},
		{"POST /users/me/mfa/totp/confirm", limit(authed(hashes(handleConfirmTOTP(d.Auth, out))))},
		{"DELETE /users/me/mfa/totp", limit(authed(hashes(handleDisableTOTP(d.Auth, out))))},
		{"POST /users/me/mfa/recovery-codes", limit(authed(hashes(handleRegenerateRecoveryCodes(d.Auth, out))))},
		{"POST /auth/verify-email/request", limit(handleRequestVerification(d.Auth, out))},
		{"POST /auth/verify-email", limit(handleVerifyEmail(d.Auth, out))},
		{"POST /auth/password-reset/request", limit(handleRequestPasswordReset(d.Auth, out))},
		{"POST /auth/password-reset", limit(hashes(handleResetPassword(d.Auth, out)))},
		{"GET /admin/users", admin(handleAdminListUsers(d.Admin, out))},
		{"POST /admin/users", limit(admin(hashes(handleAdminCreateUser(d.Admin, out))))},
		{"GET /admin/users/{id}", admin(handleAdminGetUser(d.Admin, out))},
		{"DELETE /admin/users/{id}", admin(handleAdminDeleteUser(d.Admin, out))},
		{"POST /admin/users/{id}/activate", admin(handleAdminSetActive(d.Admin, true, out))},
		{"POST /admin/users/{id}/deactivate", admin(handleAdminSetActive(d.Admin, false, out))},
		{"PUT /admin/users/{id}/roles", limit(admin(handleAdminSetRoles(d.Admin, out)))},
		{"DELETE /admin/users/{id}/sessions", admin(handleAdminRevokeSessions(d.Admin, out))},
		{"DELETE /admin/users/{id}/mfa", admin(handleAdminResetMFA(d.Admin, out))},
		{"GET /admin/audit", admin(handleAdminAudit(d.Admin, out))},
		{"GET /auth/oauth", handleProviders(d.Federation)},
		{"GET /auth/oauth/{provider}", noProviders(d.Federation, out, handleOAuthStart(d.Federation, out))},
		{"GET /auth/oauth/{provider}/callback", noProviders(d.Federation, out, handleOAuthCallback(d.Federation, out))},
		{"GET /users/me/identities", authed(handleListIdentities(d.Federation, out))},
		{"POST /users/me/identities", noProviders(d.Federation, out, limit(authed(handleLinkIdentity(d.Federation, out))))},
		{"POST /users/me/identities/confirm", noProviders(d.Federation, out, limit(authed(handleConfirmLink(d.Federation, out))))},
		{"DELETE /users/me/identities/{id}", authed(handleUnlinkIdentity(d.Federation, out))},
		{"GET /.well-known/jwks.json", handleJWKS(d.Keys)},
		{"GET /.well-known/openid-configuration", handleDiscovery(d.Issuer, d.Keys, d.Federation != nil)},
		{"GET /.well-known/oauth-authorization-server", handleDiscovery(d.Issuer, d.Keys, d.Federation != nil)},
		{"GET /healthz", handleHealthz()},
		{"GET /readyz", handleReadyz(d.Ready, out)},
		{"GET /openapi.json", openapi.Handler()},
		{"GET /docs", docs},
		{"GET /docs/{file}", docs},
		{pagesPrefix, orNotFound(d.Pages, out)}, // hosted pages: documents, not API, so not in the OpenAPI document
	}
}

// pagesPrefix is where the hosted pages are mounted.
const pagesPrefix = "/ui/"

func orNotFound(h http.Handler, out *responder) http.Handler {
	if h == nil {
		return notFound(out)
	}
	return h
}

func addRoutes(mux *http.ServeMux, d Deps, out *responder) {
	for _, rt := range routes(d, out) {
		h := rt.handler
		if d.Instrument != nil {
			h = d.Instrument(rt.pattern, h)
		}
		mux.Handle(rt.pattern, h)
	}
}
