package pages

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// Sign-in through upstream providers on the pages, and the account page's
// linked sign-in methods.
//
// The pages are an app of the provider flow like any other (see
// internal/auth/oauth_login.go), with a redirect URI of their own,
// OAuthCallbackPath, so that no token ever travels in a URL:
//
//  1. A provider button posts (with the form token) to /ui/oauth/{provider}.
//     The page makes a PKCE verifier and a state, keeps them in a
//     short-lived HttpOnly cookie (flowCookie) MACed under the pages' key,
//     and sends the browser to auth.Federation.Begin's provider URL.
//  2. The provider sends the browser back to /auth/oauth/{provider}/callback,
//     which sends it on to OAuthCallbackPath with the one-time code and the
//     state.
//  3. The pages' callback takes the cookie (once), compares the state, and
//     redeems the code server-side with the verifier: a sign-in opens the
//     session cookie as a password sign-in does (or shows the two-factor
//     step), a link is confirmed for the signed-in user.
//
// A state that does not match the cookie (a code delivered to another
// browser, a replay, a forged callback) redeems nothing.

// OAuthCallbackPath is where providers' sign-ins come back to the pages:
// the pages' redirect URI is the public URL and this path, allowed by the
// Federation without the operator listing it.
const OAuthCallbackPath = "/ui/oauth/callback"

// flowTTL is how long a started provider flow's cookie lives: as long as
// the server-side sign-in it goes with.
const flowTTL = 10 * time.Minute

// originTimeout bounds the look-up of a provider's authorization origin
// (an OpenID discovery) while a page is served; originRetry is how long a
// failed look-up is not tried again.
const (
	originTimeout = 3 * time.Second
	originRetry   = time.Minute
)

// providers is the pages' side of the provider flows; nil when no provider
// is configured.
type providers struct {
	fed         *auth.Federation
	redirectURI string
	j           *jar
	flowCookie  string

	mu      sync.Mutex
	origins map[string]string    // provider → origin of its authorization endpoint
	retry   map[string]time.Time // provider → when to look its origin up again
}

func newProviders(fed *auth.Federation, redirectURI string, j *jar) *providers {
	if fed == nil || len(fed.Providers()) == 0 {
		return nil
	}
	name := "gatehouse_oauth"
	if j.secure {
		name = "__Host-gatehouse_oauth"
	}
	return &providers{fed: fed, redirectURI: redirectURI, j: j, flowCookie: name, origins: map[string]string{}, retry: map[string]time.Time{}}
}

// providerButton is one provider as the pages show it.
type providerButton struct {
	Name, Label string
}

// Providers lists the configured providers for the pages' buttons.
func (v *view) Providers() []providerButton {
	if v.providers == nil {
		return nil
	}
	var out []providerButton
	for _, n := range v.providers.fed.Providers() {
		out = append(out, providerButton{Name: n, Label: v.providers.fed.Label(n)})
	}
	return out
}

// formOrigins returns the origins of the providers' authorization
// endpoints that are known, looking up those not known yet (at most once a
// minute each, briefly, and outside the lock: a provider that is down
// delays only the requests that look it up).
func (p *providers) formOrigins(ctx context.Context) []string {
	var out, lookup []string
	now := time.Now()
	p.mu.Lock()
	for _, n := range p.fed.Providers() {
		if o, ok := p.origins[n]; ok {
			out = append(out, o)
		} else if !now.Before(p.retry[n]) {
			p.retry[n] = now.Add(originRetry) // one look-up at a time
			lookup = append(lookup, n)
		}
	}
	p.mu.Unlock()
	for _, n := range lookup {
		lctx, cancel := context.WithTimeout(ctx, originTimeout)
		o, err := p.fed.AuthOrigin(lctx, n)
		cancel()
		if err != nil {
			continue
		}
		p.mu.Lock()
		p.origins[n] = o
		p.mu.Unlock()
		out = append(out, o)
	}
	return out
}

// formAction lets the pages' forms be answered by a redirect to a
// provider: a browser applies the Content-Security-Policy's form-action to
// the redirects after a post too, so the providers' authorization origins
// join 'self' there.
func (p *providers) formAction(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csp := w.Header().Get("Content-Security-Policy"); csp != "" {
			if extra := p.formOrigins(r.Context()); len(extra) > 0 {
				w.Header().Set("Content-Security-Policy",
					strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(extra, " "), 1))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// flow is a started provider flow as its cookie keeps it.
type flow struct {
	kind     string // "signin" or "link"
	provider string
	state    string
	verifier string
	redirect string // a sign-in's redirect_uri, checked again on return
}

const (
	flowSignIn = "signin"
	flowLink   = "link"
)

func (p *providers) flowMAC(payload string) string {
	return p.j.mac("provider-flow", payload)
}

// setFlow keeps f in the flow cookie.
func (p *providers) setFlow(w http.ResponseWriter, f flow) {
	enc := base64.RawURLEncoding.EncodeToString
	payload := strings.Join([]string{f.kind, f.provider, f.state, f.verifier, enc([]byte(f.redirect))}, ".")
	c := p.j.cookie(p.flowCookie, payload+"."+p.flowMAC(payload), time.Time{})
	c.MaxAge = int(flowTTL / time.Second)
	http.SetCookie(w, c)
}

// takeFlow reads and clears the flow cookie; false when there is none or
// it does not verify.
func (p *providers) takeFlow(w http.ResponseWriter, r *http.Request) (flow, bool) {
	c, err := r.Cookie(p.flowCookie)
	if err != nil {
		return flow{}, false
	}
	gone := p.j.cookie(p.flowCookie, "", time.Time{})
	gone.MaxAge = -1
	http.SetCookie(w, gone)
	payload, mac, ok := cutLast(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(p.flowMAC(payload))) {
		return flow{}, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 5 {
		return flow{}, false
	}
	redirect, err := base64.RawURLEncoding.DecodeString(parts[4])
	if err != nil {
		return flow{}, false
	}
	return flow{kind: parts[0], provider: parts[1], state: parts[2], verifier: parts[3], redirect: string(redirect)}, true
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// newPKCE returns a verifier (256 random bits) and its S256 challenge.
func newPKCE() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// begin starts f's flow at the provider and sends the browser there.
func (p *providers) begin(w http.ResponseWriter, r *http.Request, f flow, linkUser *gatehouse.User) error {
	verifier, challenge := newPKCE()
	f.state, f.verifier = rand.Text(), verifier
	target, err := p.fed.Begin(r.Context(), auth.BeginInput{
		Provider: f.provider, RedirectURI: p.redirectURI, AppState: f.state,
		CodeChallenge: challenge, CodeChallengeMethod: "S256",
		LinkUser: linkUser, ClientIP: gatehouse.RequestInfoFrom(r.Context()).ClientIP,
	})
	if err != nil {
		return err
	}
	p.setFlow(w, f)
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// handleProviderSignIn starts a sign-in through a provider: a button of the
// sign-in page, carrying the pre-session form token and the page's
// redirect_uri.
func handleProviderSignIn(p *providers, j *jar, v *views, allow originList) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirect := r.PostFormValue("redirect_uri")
		if _, ok := allow.check(redirect); !ok {
			pv := v.page(r, "signin")
			pv.Error = pv.T("ui.error.redirect_uri")
			pv.CSRF = j.preToken(w, r)
			v.render(w, r, http.StatusBadRequest, pv)
			return
		}
		err := p.begin(w, r, flow{kind: flowSignIn, provider: r.PathValue("provider"), redirect: redirect}, nil)
		if err != nil {
			v.fail(w, r, err)
		}
	})
}

// handleLinkProvider starts linking a provider account to the signed-in
// user: a button of the account page.
func handleLinkProvider(p *providers, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		if err := p.begin(w, r, flow{kind: flowLink, provider: r.PathValue("provider")}, s.user); err != nil {
			v.fail(w, r, err)
		}
	})
}

// callbackErrors are the error codes the provider callback may send the
// pages back with, each shown with its own message; any other is shown as
// upstream_failed.
var callbackErrors = map[string]bool{
	gatehouse.CodeAccountExists: true, gatehouse.CodeUpstreamFailed: true, gatehouse.CodeInactiveUser: true,
	gatehouse.CodeIdentityTaken: true, gatehouse.CodeEmailNotVerified: true, gatehouse.CodeRateLimited: true,
	gatehouse.CodeInternal: true, gatehouse.CodeNotReady: true,
}

// providerErrorData is the provider error page's own data.
type providerErrorData struct {
	Label string
	// LinkHint: the account exists; tell the user to sign in and link.
	LinkHint bool
	Link     bool // the flow was a link (back to the account page)
}

// renderProviderError shows what went wrong with a provider flow.
func (p *providers) renderProviderError(w http.ResponseWriter, r *http.Request, v *views, f flow, err error) {
	pv := v.page(r, "provider-error")
	status := v.explain(w, r, pv, err)
	label := f.provider
	if label != "" {
		label = p.fed.Label(f.provider)
	}
	pv.Data = providerErrorData{Label: label, LinkHint: gatehouse.IsCode(err, gatehouse.CodeAccountExists), Link: f.kind == flowLink}
	v.render(w, r, status, pv)
}

// handleProviderCallback finishes a provider flow the pages started.
func handleProviderCallback(p *providers, svc *auth.Service, j *jar, v *views, allow originList) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f, ok := p.takeFlow(w, r)
		if !ok || q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(f.state)) {
			// Not started in this browser, started long ago, or already
			// finished.
			p.renderProviderError(w, r, v, flow{}, &gatehouse.Error{Code: gatehouse.CodeInvalidState})
			return
		}
		if code := q.Get("error_code"); code != "" || q.Get("error") != "" {
			if !callbackErrors[code] {
				code = gatehouse.CodeUpstreamFailed
			}
			p.renderProviderError(w, r, v, f, &gatehouse.Error{Code: code})
			return
		}
		switch f.kind {
		case flowSignIn:
			p.finishSignIn(w, r, svc, j, v, allow, f, q.Get("code"))
		case flowLink:
			p.finishLink(w, r, j, v, f, q.Get("code"))
		default:
			p.renderProviderError(w, r, v, flow{}, &gatehouse.Error{Code: gatehouse.CodeInvalidState})
		}
	})
}

// finishSignIn redeems a sign-in's code and signs the browser in, as
// handleSignIn does after a password; with TOTP on, the answer is the
// second step's page.
func (p *providers) finishSignIn(w http.ResponseWriter, r *http.Request, svc *auth.Service, j *jar, v *views, allow originList, f flow, code string) {
	origin, ok := allow.check(f.redirect)
	if !ok {
		f.redirect, origin = "", ""
	}
	pair, err := p.fed.ExchangeCode(r.Context(), code, p.redirectURI, f.verifier, clientOf(r))
	if mr := mfaChallenge(err); mr != nil {
		renderMFAStep(w, r, j, v, http.StatusOK, v.page(r, "signin-mfa"), mr.Token, f.redirect, origin)
		return
	}
	if err != nil {
		p.renderProviderError(w, r, v, f, err)
		return
	}
	if old, err := j.resolve(w, r); err == nil && old.id != pair.Session.ID {
		_ = svc.Logout(r.Context(), old.user, old.id, false) // as handleSignIn
	}
	j.set(w, pair)
	http.Redirect(w, r, afterSignIn(f.redirect), http.StatusSeeOther)
}

// finishLink confirms a link for the signed-in user: the session, the
// cookie's verifier and the code together prove that this user, in this
// browser, started it.
func (p *providers) finishLink(w http.ResponseWriter, r *http.Request, j *jar, v *views, f flow, code string) {
	s, err := j.resolve(w, r)
	if errors.Is(err, errNoSession) {
		http.Redirect(w, r, "/ui/signin?m=session_expired", http.StatusSeeOther)
		return
	}
	if err != nil {
		v.fail(w, r, err)
		return
	}
	if _, err := p.fed.ConfirmLink(r.Context(), s.user, code, p.redirectURI, f.verifier); err != nil {
		p.renderProviderError(w, r.WithContext(context.WithValue(r.Context(), sessionKey, s)), v, f, err)
		return
	}
	http.Redirect(w, r, "/ui/account?m=identity_linked#identities-h", http.StatusSeeOther)
}

// identityRow is one linked sign-in method on the account page.
type identityRow struct {
	ID             int64
	Label, Email   string
	LinkedAt       time.Time
	Provider       string
	EmailConfirmed bool
}

// identitySection is the account page's linked sign-in methods: the
// identities, and the providers that can be linked.
type identitySection struct {
	Linked   []identityRow
	Linkable []providerButton
}

// section reads the signed-in user's identities for the account page.
func (p *providers) section(r *http.Request) (*identitySection, error) {
	if p == nil {
		return nil, nil
	}
	u := sessionFrom(r.Context()).user
	list, err := p.fed.Identities(r.Context(), u)
	if err != nil {
		return nil, err
	}
	sec := &identitySection{}
	linked := map[string]bool{}
	for _, i := range list {
		linked[i.Provider] = true
		sec.Linked = append(sec.Linked, identityRow{ID: i.ID, Label: p.fed.Label(i.Provider), Provider: i.Provider,
			Email: i.Email, EmailConfirmed: i.EmailVerified, LinkedAt: i.CreatedAt})
	}
	for _, n := range p.fed.Providers() {
		if !linked[n] {
			sec.Linkable = append(sec.Linkable, providerButton{Name: n, Label: p.fed.Label(n)})
		}
	}
	return sec, nil
}

// handleUnlinkIdentity unlinks one of the user's identities; the last way
// to sign in is refused (last_sign_in_method), shown on the account page.
func handleUnlinkIdentity(p *providers, svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			err = &gatehouse.Error{Code: gatehouse.CodeNotFound}
		} else {
			err = p.fed.Unlink(r.Context(), s.user, id)
		}
		if err != nil {
			pv := accountView(j, v, r)
			status := v.explain(w, r, pv, err)
			renderAccount(svc, v, policy, w, r, status, pv)
			return
		}
		http.Redirect(w, r, "/ui/account?m=identity_unlinked#identities-h", http.StatusSeeOther)
	})
}

// providerRoutes are the pages of provider sign-in and linking; none when
// no provider is configured.
func providerRoutes(p *providers, svc *auth.Service, j *jar, v *views, allow originList, policy pwhash.Policy) []route {
	if p == nil {
		return nil
	}
	signedIn := requireSession(j, v)
	return []route{
		{"POST /ui/oauth/{provider}", requirePreToken(j, v)(handleProviderSignIn(p, j, v, allow))},
		{"GET " + OAuthCallbackPath, handleProviderCallback(p, svc, j, v, allow)},
		{"POST /ui/account/link/{provider}", signedIn(handleLinkProvider(p, v))},
		{"POST /ui/account/identities/{id}/unlink", signedIn(handleUnlinkIdentity(p, svc, j, v, policy))},
	}
}
