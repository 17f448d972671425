// Package pages serves gatehouse's hosted pages at /ui/: sign-up, sign-in
// (with its two-factor step), sign-out, the account page (profile, password
// change, sessions, two-factor, email verification) and the pages of the
// mailed links (password reset, email verification). They
// are server-rendered with html/template from embedded files and a single
// embedded stylesheet: no script, no CDN, no build step.
//
// The pages are another door to the same use cases as the API (internal/auth):
// a page sign-in is auth.Login, with the same rate limits and the same
// password-hashing gate, and it opens an ordinary session whose tokens are
// kept in an HttpOnly cookie. Revoking that session through the API signs the
// browser out, and revoking an API session on the account page kills its
// tokens.
//
// Every form is protected twice against cross-site request forgery: by
// http.CrossOriginProtection (Sec-Fetch-Site / Origin) and by a synchronizer
// token in a hidden field, an HMAC of the session id (or, before sign-in, of
// a random pre-session cookie) under a key derived from the server secret.
package pages

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// Deps are what the pages need.
type Deps struct {
	Auth    *auth.Service
	Catalog *i18n.Catalog
	Logger  *slog.Logger
	// Gate bounds the requests that hash a password (the API's
	// web.HashGate, so that pages and API share one bound); nil: unbounded.
	Gate Gate
	// Secure marks the cookies Secure and gives them the __Host- prefix;
	// set it whenever browsers reach the server over HTTPS (TLS served
	// directly or by a proxy in front).
	Secure bool
	// CSRFKey (at least 32 bytes, derived from the server secret) keys the
	// forms' anti-forgery tokens. It never leaves the process.
	CSRFKey []byte
	// RedirectOrigins are the origins (scheme://host[:port]) a sign-in may
	// send the browser on to with ?redirect_uri=; anything else is refused.
	RedirectOrigins []string
	// Policy is the password policy auth applies, for the forms' hints.
	Policy pwhash.Policy
	// MaxBodyBytes bounds form bodies; 0: 64 KiB.
	MaxBodyBytes int64
	// Admin runs the administration pages' use cases (/ui/admin/, for
	// users holding gatehouse.RoleAdmin); nil: those pages do not exist.
	Admin *auth.AdminAPI
	// Federation, when set, adds sign-in through its providers and the
	// account page's linked sign-in methods (oauth.go); OAuthRedirectURI
	// is the pages' redirect URI for it (the public URL and
	// OAuthCallbackPath), which the Federation must allow.
	Federation       *auth.Federation
	OAuthRedirectURI string
}

// Gate admits work that hashes a password: release gives the slot back; an
// error (CodeOverloaded) means no slot freed in time.
type Gate interface {
	Acquire(ctx context.Context) (release func(), err error)
}

type openGate struct{}

func (openGate) Acquire(context.Context) (func(), error) { return func() {}, nil }

type route struct {
	pattern string
	handler http.Handler
}

// routes is the pages' route table, one line per page. Forms post to the
// page that shows them; HTML forms have only GET and POST, so revoking is a
// POST to the session's own address.
func routes(mux *http.ServeMux, svc *auth.Service, gate Gate, j *jar, v *views, allow originList, policy pwhash.Policy) []route {
	signedIn := requireSession(j, v)
	preForm := requirePreToken(j, v)
	hashes := gated(gate, v)
	return []route{
		{"GET /ui/{$}", handleHome(j, v)},
		{"GET /ui/static/{file}", handleStatic(handleNotFound(v))},
		{"GET /ui/signin", handleSignInForm(j, v, allow)},
		{"POST /ui/signin", preForm(hashes(handleSignIn(svc, j, v, allow)))},
		{"POST /ui/signin/mfa", preForm(handleSignInMFA(svc, j, v, allow))},
		{"GET /ui/reset-password/request", handleLinkRequestForm(j, v, "reset")},
		{"POST /ui/reset-password/request", preForm(handleLinkRequest(svc, j, v, "reset"))},
		{"GET " + auth.ResetPasswordPath, handleLinkPage(svc, j, v, "reset", gatehouse.PurposePasswordReset, policy)},
		{"POST " + auth.ResetPasswordPath, preForm(hashes(handleResetPassword(svc, j, v, policy)))},
		{"GET /ui/verify-email/request", handleLinkRequestForm(j, v, "verify")},
		{"POST /ui/verify-email/request", preForm(handleLinkRequest(svc, j, v, "verify"))},
		{"GET " + auth.VerifyEmailPath, handleLinkPage(svc, j, v, "verify", gatehouse.PurposeVerifyEmail, policy)},
		{"POST " + auth.VerifyEmailPath, preForm(handleVerifyEmail(svc, j, v))},
		{"GET /ui/signup", handleSignUpForm(j, v, policy)},
		{"POST /ui/signup", preForm(hashes(handleSignUp(svc, j, v, policy)))},
		{"POST /ui/signout", signedIn(handleSignOut(svc, j, v))},
		{"GET /ui/account", signedIn(handleAccount(svc, j, v, policy))},
		{"POST /ui/account/password", signedIn(hashes(handleChangePassword(svc, j, v, policy)))},
		{"POST /ui/account/sessions/{id}/revoke", signedIn(handleRevokeSession(svc, j, v, policy))},
		{"POST /ui/account/verify-email", signedIn(handleResendVerification(svc, j, v, policy))},
		{"GET /ui/account/mfa/totp", signedIn(handleTOTPPage(svc, j, v))},
		{"POST /ui/account/mfa/totp", signedIn(handleEnrolTOTP(svc, j, v))},
		{"POST /ui/account/mfa/totp/confirm", signedIn(handleConfirmTOTP(svc, j, v))},
		{"POST /ui/account/mfa/totp/disable", signedIn(hashes(handleDisableTOTP(svc, j, v, policy)))},
		{"POST /ui/account/mfa/recovery-codes", signedIn(hashes(handleRegenerateCodes(svc, j, v, policy)))},
		{"/ui/", handleUnrouted(mux, v)},
	}
}

// New returns the pages as one handler, to be mounted at /ui/. Templates
// are parsed here, once; an error means a broken build.
func New(d Deps) (http.Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Catalog == nil {
		d.Catalog = i18n.New(i18n.English)
	}
	if d.Gate == nil {
		d.Gate = openGate{}
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 64 << 10
	}
	v, err := newViews(d.Catalog, d.Logger)
	if err != nil {
		return nil, err
	}
	allow := newOriginList(d.RedirectOrigins)
	j := newJar(d.Auth, d.CSRFKey, d.Secure)
	v.providers = newProviders(d.Federation, d.OAuthRedirectURI, j)
	v.mailOn = d.Auth.EmailEnabled()
	mux := http.NewServeMux()
	rts := routes(mux, d.Auth, d.Gate, j, v, allow, d.Policy.WithDefaults())
	rts = append(rts, providerRoutes(v.providers, d.Auth, j, v, allow, d.Policy.WithDefaults())...)
	for _, rt := range rts {
		mux.Handle(rt.pattern, rt.handler)
	}
	for _, rt := range adminRoutes(d.Admin, j, v) {
		mux.Handle(rt.pattern, rt.handler)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.forbidden(w, r)
	}))
	// Outermost first: the page headers, then the cross-origin check, then
	// the body bound, then the page.
	var h http.Handler = mux
	h = limitForm(d.MaxBodyBytes)(h)
	h = cop.Handler(h)
	if v.providers != nil {
		h = v.providers.formAction(h)
	}
	h = pageHeaders(allow)(h)
	return h, nil
}

// pageHeaders replaces the API's headers with a page's: a Content-Security-
// Policy that lets the page load its own stylesheet and images (data: images
// too, for QR codes) and nothing else — no script at all — and post forms
// only to itself and to the origins a sign-in may redirect to (form-action
// also governs the redirect after a post). Pages show personal data, so no
// cache keeps them.
func pageHeaders(allow originList) func(http.Handler) http.Handler {
	formAction := "'self'"
	for _, o := range allow.origins() {
		formAction += " " + o
	}
	csp := strings.Join([]string{
		"default-src 'none'",
		"style-src 'self'",
		"img-src 'self' data:",
		"form-action " + formAction,
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("Cache-Control", "no-store")
			h.Set("Referrer-Policy", "same-origin")
			h.Add("Vary", "Accept-Language, Cookie")
			next.ServeHTTP(w, r)
		})
	}
}

// limitForm caps request bodies; a form over the cap fails to parse, which
// the handlers answer with 413.
func limitForm(max int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// gated runs next only with a slot of the password-hashing gate, answering
// a 503 page when none frees in time.
func gated(g Gate, v *views) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			release, err := g.Acquire(r.Context())
			if err != nil {
				if r.Context().Err() != nil {
					return // the client left
				}
				w.Header().Set("Retry-After", "1")
				v.fail(w, r, err)
				return
			}
			defer release()
			next.ServeHTTP(w, r)
		})
	}
}
