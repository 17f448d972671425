package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse"
)

// Sign-in through upstream providers works like this:
//
//  1. The app sends the browser to GET /auth/oauth/{provider} with its
//     redirect_uri (one of GATEHOUSE_OAUTH_REDIRECT_URIS), its state and its
//     own PKCE S256 code_challenge. Begin stores a login under the SHA-256
//     of a fresh state, with a nonce and our PKCE verifier for the provider,
//     and sends the browser to the provider.
//  2. The provider sends the browser back to /auth/oauth/{provider}/callback.
//     Callback takes the login once (a forged or replayed state finds
//     nothing), redeems the provider's code with our verifier, verifies the
//     ID token (signature, issuer, audience, expiry, nonce) or reads the
//     user-info API, and finds or creates the user through the identities
//     table. The browser goes back to the app with a one-time code, never a
//     token.
//  3. The app redeems the code at POST /auth/token (grant_type
//     authorization_code) with its redirect_uri and PKCE verifier, within 60
//     seconds, once; it gets the same token pair as a password login.
const (
	oauthLoginTTL = 10 * time.Minute
	authCodeTTL   = 60 * time.Second
	maxAppState   = 512
)

// oauthStartIP bounds the sign-ins an address may start (each stores a
// row until its callback or its expiry).
var oauthStartIP = gatehouse.Limit{N: 30, Per: time.Minute}

const scopeOAuthStartIP = "oauth_start_ip"

// Federation runs sign-in through upstream providers, and the linking and
// unlinking of identities. It is safe for concurrent use.
type Federation struct {
	svc       *Service
	store     gatehouse.IdentityStore
	upstreams map[string]gatehouse.Upstream
	redirects map[string]bool
	labels    map[string]string
}

// FederationDeps are what a Federation needs beside the Service.
type FederationDeps struct {
	Identities gatehouse.IdentityStore
	// Upstreams are the configured providers by name.
	Upstreams map[string]gatehouse.Upstream
	// RedirectURIs are the app redirect URIs a sign-in may return to,
	// compared exactly (RFC 9700 §4.1.3: no patterns, no prefixes).
	RedirectURIs []string
	// Labels are the providers' names for people ("Google", "Corp SSO"),
	// by provider; a provider without one is shown by its name.
	Labels map[string]string
}

// NewFederation returns the provider sign-in use cases of svc.
func NewFederation(svc *Service, d FederationDeps) *Federation {
	f := &Federation{svc: svc, store: d.Identities, upstreams: d.Upstreams, redirects: map[string]bool{}, labels: d.Labels}
	for _, u := range d.RedirectURIs {
		f.redirects[u] = true
	}
	return f
}

// Providers returns the names of the configured providers, sorted.
func (f *Federation) Providers() []string {
	names := make([]string, 0, len(f.upstreams))
	for n := range f.upstreams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Label returns the provider's name for people, for buttons.
func (f *Federation) Label(provider string) string {
	if l := f.labels[provider]; l != "" {
		return l
	}
	return provider
}

// AuthOrigin returns the origin (scheme://host[:port]) of the provider's
// authorization endpoint, where Begin sends browsers: pages that post forms
// answered by that redirect must allow it (CSP form-action). For an OpenID
// provider it may have to read the discovery document (CodeUpstreamFailed
// when that fails).
func (f *Federation) AuthOrigin(ctx context.Context, provider string) (string, error) {
	up, ok := f.upstreams[provider]
	if !ok {
		return "", &gatehouse.Error{Code: gatehouse.CodeNotFound, Err: fmt.Errorf("no provider %q", provider)}
	}
	raw, err := up.AuthURL(ctx, "origin", "origin", s256("origin"))
	if err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", &gatehouse.Error{Code: gatehouse.CodeUpstreamFailed, Err: fmt.Errorf("authorization URL %q has no origin", truncate(raw, 64))}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}

// BeginInput starts a provider sign-in or link.
type BeginInput struct {
	Provider            string
	RedirectURI         string
	AppState            string
	CodeChallenge       string
	CodeChallengeMethod string
	// LinkUser is the signed-in user linking a new identity; nil for a
	// sign-in.
	LinkUser *gatehouse.User
	ClientIP string
}

// Begin stores a new sign-in (or link) and returns the provider URL to
// send the browser to. An unknown provider is CodeNotFound; a redirect_uri
// that is not allowed is CodeInvalidRedirectURI (the caller must not
// redirect to it); a missing or malformed PKCE challenge is
// CodeInvalidRequest.
func (f *Federation) Begin(ctx context.Context, in BeginInput) (string, error) {
	up, ok := f.upstreams[in.Provider]
	if !ok {
		return "", &gatehouse.Error{Code: gatehouse.CodeNotFound, Err: fmt.Errorf("no provider %q", in.Provider)}
	}
	if in.RedirectURI == "" {
		return "", oauthParam(gatehouse.CodeInvalidRequest, "redirect_uri", "missing")
	}
	if !f.redirects[in.RedirectURI] {
		return "", &gatehouse.Error{Code: gatehouse.CodeInvalidRedirectURI}
	}
	if len(in.AppState) > maxAppState {
		return "", oauthParam(gatehouse.CodeInvalidRequest, "state", "too_long")
	}
	if in.CodeChallenge == "" {
		return "", oauthParam(gatehouse.CodeInvalidRequest, "code_challenge", "missing")
	}
	if in.CodeChallengeMethod != "S256" {
		return "", oauthParam(gatehouse.CodeInvalidRequest, "code_challenge_method", "s256_required")
	}
	if !validChallenge(in.CodeChallenge) {
		return "", oauthParam(gatehouse.CodeInvalidRequest, "code_challenge", "invalid")
	}
	if err := f.svc.limitIP(ctx, scopeOAuthStartIP, oauthStartIP, in.ClientIP); err != nil {
		return "", err
	}
	state, nonce, verifier := rand.Text(), rand.Text(), newVerifier()
	l := &gatehouse.OAuthLogin{
		StateHash: hashHex(state), Provider: in.Provider, Nonce: nonce, Verifier: verifier,
		RedirectURI: in.RedirectURI, AppState: in.AppState, CodeChallenge: in.CodeChallenge,
		ExpiresAt: f.svc.now().UTC().Add(oauthLoginTTL),
	}
	if in.LinkUser != nil {
		l.LinkUserID = in.LinkUser.ID
	}
	if err := f.store.SaveOAuthLogin(ctx, l); err != nil {
		return "", err
	}
	return up.AuthURL(ctx, state, nonce, s256(verifier))
}

func oauthParam(code, name, typ string) error {
	return &gatehouse.Error{Code: code, Fields: []gatehouse.FieldError{{Loc: []string{"query", name}, Type: typ}}}
}

// newVerifier returns a PKCE code verifier: 256 random bits, base64url
// (RFC 7636 §4.1).
func newVerifier() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// validChallenge: an S256 challenge is 32 bytes, base64url without padding.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// validVerifier: RFC 7636 §4.1, 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// CallbackInput is what the provider sent back.
type CallbackInput struct {
	Provider string
	State    string
	Code     string
	// Error is the provider's error parameter (the user declined).
	Error string
}

// CallbackResult says where to send the browser: back to the app's
// RedirectURI with AppState and Code, the one-time code of the sign-in or
// link.
type CallbackResult struct {
	RedirectURI string
	AppState    string
	Code        string
}

// Callback finishes a provider sign-in. With no result the state was
// unknown, expired, used already or of another provider (CodeInvalidState),
// and the browser cannot be sent anywhere; with a result and an error the
// browser goes back to the app with the error.
//
// Linking rules: an identity already linked signs its user in (or, in a
// link, must be linked to the linking user: else CodeIdentityTaken). A new
// identity in a link is linked to the signed-in user, who proved they own
// the account by being signed in — when the app, signed in as that user,
// redeems the link's code with its PKCE verifier (ConfirmLink), so that a
// link URL sent to someone else links nothing. A new identity otherwise
// creates a new user, unless an account has the provider's email: then nothing happens
// and CodeAccountExists tells the user to sign in to that account and link
// from there. That holds whether or not the provider says it verified the
// email, so no provider, and no one who controls an account at one, can
// take over an account by its email.
func (f *Federation) Callback(ctx context.Context, in CallbackInput) (*CallbackResult, error) {
	ev := &gatehouse.AuditEvent{Event: gatehouse.EventProviderLogin, Outcome: gatehouse.OutcomeSuccess, Detail: map[string]string{"provider": in.Provider}}
	defer func() {
		// A link is recorded when it is confirmed (or here, when it fails).
		if ev.Event != gatehouse.EventIdentityLinked || ev.Outcome == gatehouse.OutcomeFailure {
			f.svc.record(ctx, ev)
		}
	}()
	fail := func(err error) error {
		ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
		return err
	}
	up, ok := f.upstreams[in.Provider]
	if !ok || in.State == "" {
		return nil, fail(&gatehouse.Error{Code: gatehouse.CodeInvalidState})
	}
	l, err := f.store.TakeOAuthLogin(ctx, hashHex(in.State), f.svc.now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, fail(&gatehouse.Error{Code: gatehouse.CodeInvalidState, Err: err})
	}
	if err != nil {
		return nil, fail(err)
	}
	if l.Provider != in.Provider {
		return nil, fail(&gatehouse.Error{Code: gatehouse.CodeInvalidState, Err: errors.New("state of another provider")})
	}
	res := &CallbackResult{RedirectURI: l.RedirectURI, AppState: l.AppState}
	if l.LinkUserID != 0 {
		ev.Event, ev.UserID = gatehouse.EventIdentityLinked, l.LinkUserID
	}
	if in.Error != "" || in.Code == "" {
		return res, fail(&gatehouse.Error{Code: gatehouse.CodeUpstreamFailed, Err: fmt.Errorf("provider answered error %q", truncate(in.Error, 64))})
	}
	uu, err := up.Exchange(ctx, in.Code, l.Verifier, l.Nonce)
	if err != nil {
		return res, fail(err)
	}
	ev.Detail["subject"] = uu.Subject
	code := rand.Text() + rand.Text()
	ac := &gatehouse.AuthCode{
		CodeHash: hashHex(code), Provider: in.Provider, RedirectURI: l.RedirectURI,
		CodeChallenge: l.CodeChallenge, ExpiresAt: f.svc.now().UTC().Add(authCodeTTL),
	}
	if l.LinkUserID != 0 {
		existing, err := f.store.IdentityBySubject(ctx, uu.Provider, uu.Subject)
		if err == nil && existing.UserID != l.LinkUserID {
			return res, fail(&gatehouse.Error{Code: gatehouse.CodeIdentityTaken})
		}
		if err != nil && !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
			return res, fail(err)
		}
		ac.UserID, ac.Link, ac.Subject, ac.Email, ac.EmailVerified = l.LinkUserID, true, uu.Subject, uu.Email, uu.EmailVerified
		if err := f.store.SaveAuthCode(ctx, ac); err != nil {
			return res, fail(err)
		}
		res.Code = code
		return res, nil
	}
	u, created, err := f.findOrCreate(ctx, uu)
	if u != nil {
		ev.UserID, ev.Login = u.ID, u.UsernameKey
	}
	if err != nil {
		return res, fail(err)
	}
	if created {
		ev.Detail["created"] = "true"
	}
	if !u.IsActive {
		return res, fail(&gatehouse.Error{Code: gatehouse.CodeInactiveUser})
	}
	if err := f.svc.checkVerified(u); err != nil {
		return res, fail(err)
	}
	ac.UserID = u.ID
	if err := f.store.SaveAuthCode(ctx, ac); err != nil {
		return res, fail(err)
	}
	res.Code = code
	return res, nil
}

// findOrCreate returns the user linked to uu, or a new one.
func (f *Federation) findOrCreate(ctx context.Context, uu *gatehouse.UpstreamUser) (*gatehouse.User, bool, error) {
	ident, err := f.store.IdentityBySubject(ctx, uu.Provider, uu.Subject)
	if err == nil {
		u, err := f.svc.users.UserByID(ctx, ident.UserID)
		return u, false, err
	}
	if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, false, err
	}
	email, emailKey := "", ""
	if uu.Email != "" {
		e, key, p := normalizeEmail(uu.Email)
		if p == nil {
			if _, err := f.svc.users.UserByEmail(ctx, key); err == nil {
				return nil, false, &gatehouse.Error{Code: gatehouse.CodeAccountExists}
			} else if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
				return nil, false, err
			}
			if uu.EmailVerified {
				email, emailKey = e, key
			}
		}
	}
	if emailKey == "" && f.svc.email.RequireVerified {
		// With verified emails required, every account has one: a
		// provider that vouches for no address creates no account (an
		// account without an address could never verify one).
		return nil, false, &gatehouse.Error{Code: gatehouse.CodeEmailNotVerified}
	}
	var verifiedAt time.Time
	if emailKey != "" {
		// The provider vouched for the address: it counts as verified.
		verifiedAt = f.svc.now().UTC().Truncate(time.Microsecond)
	}
	if emailKey == "" {
		// The email column is unique and required; an account without
		// an email gets a key no address can have (no '@'), so that it
		// can never be found, or collide, by email.
		emailKey = "!" + rand.Text()
	}
	base := usernameBase(uu.Username, uu.Name, localPart(uu.Email))
	for attempt := range 8 {
		name := base
		if attempt > 0 {
			name = base + "-" + randomDigits(4+attempt/2)
		}
		display, key, p := normalizeUsername(name)
		if p != nil {
			display, key, _ = normalizeUsername("user-" + randomDigits(6))
		}
		u := &gatehouse.User{Username: display, UsernameKey: key, Email: email, EmailKey: emailKey, IsActive: true, EmailVerifiedAt: verifiedAt}
		ident := &gatehouse.Identity{Provider: uu.Provider, Subject: uu.Subject, Email: uu.Email, EmailVerified: uu.EmailVerified}
		err := f.store.CreateUserWithIdentity(ctx, u, ident)
		switch {
		case err == nil:
			return u, true, nil
		case gatehouse.IsCode(err, gatehouse.CodeUsernameTaken):
			continue
		case gatehouse.IsCode(err, gatehouse.CodeEmailTaken):
			return nil, false, &gatehouse.Error{Code: gatehouse.CodeAccountExists, Err: err}
		case gatehouse.IsCode(err, gatehouse.CodeIdentityTaken):
			// A concurrent callback for the same account won: sign in
			// the user it made.
			ident, err := f.store.IdentityBySubject(ctx, uu.Provider, uu.Subject)
			if err != nil {
				return nil, false, err
			}
			u, err := f.svc.users.UserByID(ctx, ident.UserID)
			return u, false, err
		default:
			return nil, false, err
		}
	}
	return nil, false, &gatehouse.Error{Code: gatehouse.CodeConflict, Err: errors.New("no free username found")}
}

func localPart(email string) string {
	local, _, _ := strings.Cut(email, "@")
	return local
}

// usernameBase makes a username from the first usable hint: the characters
// a username may have, at most 48 of them (room for a suffix).
func usernameBase(hints ...string) string {
	for _, h := range hints {
		var b strings.Builder
		n := 0
		for _, r := range h {
			if n == 48 {
				break
			}
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-':
				b.WriteRune(r)
				n++
			case r == ' ' && n > 0:
				b.WriteRune('.')
				n++
			}
		}
		s := strings.Trim(b.String(), ".")
		if s == "" || !utf8.ValidString(s) {
			continue
		}
		if _, _, p := normalizeUsername(s); p == nil {
			return s
		}
	}
	return "user"
}

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// ExchangeCode redeems a provider sign-in's one-time code (grant_type
// authorization_code): within its 60 seconds, once, at the redirect_uri it
// was issued for, with the PKCE verifier of the challenge the app sent.
// Any failure is CodeInvalidGrant, and spends the code.
func (f *Federation) ExchangeCode(ctx context.Context, code, redirectURI, verifier string, client Client) (pair *TokenPair, err error) {
	ev := &gatehouse.AuditEvent{Event: gatehouse.EventCodeExchanged, Outcome: gatehouse.OutcomeSuccess}
	defer func() {
		switch {
		case gatehouse.IsCode(err, gatehouse.CodeMFARequired):
			// The provider step succeeded; the sign-in completes (or
			// not) as an mfa_login event.
			ev.Reason = gatehouse.CodeMFARequired
		case err != nil:
			ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
		default:
			ev.SessionID = pair.Session.ID
		}
		f.svc.record(ctx, ev)
	}()
	c, err := f.takeCode(ctx, code, redirectURI, verifier, ev)
	if err != nil {
		return nil, err
	}
	if c.Link {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: errors.New("a link's code at the token endpoint")}
	}
	u, err := f.svc.users.UserByID(ctx, c.UserID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: err}
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInactiveUser}
	}
	ev.Login = u.UsernameKey
	if err := f.svc.checkVerified(u); err != nil {
		return nil, err
	}
	// The provider's sign-in stands in for the password, not for the
	// second factor: a user with TOTP on still passes the TOTP step (as
	// Keycloak can require OTP after a brokered login).
	if err := f.svc.secondFactor(ctx, u, client, gatehouse.AMRFed); err != nil {
		return nil, err
	}
	return f.svc.startSession(ctx, u, client, gatehouse.AMRFed)
}

// takeCode takes a one-time code (spending it whatever follows) and checks
// it against the redirect URI and PKCE verifier; every failure is
// CodeInvalidGrant.
func (f *Federation) takeCode(ctx context.Context, code, redirectURI, verifier string, ev *gatehouse.AuditEvent) (*gatehouse.AuthCode, error) {
	if len(code) > 256 {
		return nil, errInvalidGrant
	}
	c, err := f.store.TakeAuthCode(ctx, hashHex(code), f.svc.now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: err}
	}
	if err != nil {
		return nil, err
	}
	ev.UserID, ev.Detail = c.UserID, map[string]string{"provider": c.Provider}
	if subtle.ConstantTimeCompare([]byte(redirectURI), []byte(c.RedirectURI)) != 1 {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: errors.New("redirect_uri differs")}
	}
	if !validVerifier(verifier) || subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(c.CodeChallenge)) != 1 {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: errors.New("PKCE verifier does not match")}
	}
	return c, nil
}

// ConfirmLink completes a link: u, signed in, redeems the link's code with
// the PKCE verifier of the link it started. A code of another user's link,
// or of a sign-in, is CodeInvalidGrant; a provider account linked to
// another user meanwhile is CodeIdentityTaken. Confirming a link that
// exists already returns it.
func (f *Federation) ConfirmLink(ctx context.Context, u *gatehouse.User, code, redirectURI, verifier string) (ident *gatehouse.Identity, err error) {
	ev := &gatehouse.AuditEvent{Event: gatehouse.EventIdentityLinked, Outcome: gatehouse.OutcomeSuccess}
	defer func() {
		if err != nil {
			if gatehouse.IsCode(err, gatehouse.CodeValidation) {
				return
			}
			ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
		}
		ev.UserID, ev.Login = u.ID, u.UsernameKey
		f.svc.record(ctx, ev)
	}()
	c, err := f.takeCode(ctx, code, redirectURI, verifier, ev)
	if err != nil {
		return nil, err
	}
	if !c.Link || c.UserID != u.ID {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: errors.New("not a link code of this user")}
	}
	ev.Detail["subject"] = c.Subject
	existing, err := f.store.IdentityBySubject(ctx, c.Provider, c.Subject)
	switch {
	case err == nil && existing.UserID == u.ID:
		return existing, nil
	case err == nil:
		return nil, &gatehouse.Error{Code: gatehouse.CodeIdentityTaken}
	case !gatehouse.IsCode(err, gatehouse.CodeNotFound):
		return nil, err
	}
	ident = &gatehouse.Identity{UserID: u.ID, Provider: c.Provider, Subject: c.Subject, Email: c.Email, EmailVerified: c.EmailVerified}
	if err := f.store.CreateIdentity(ctx, ident); err != nil {
		return nil, err
	}
	return ident, nil
}

// Identities lists the user's linked identities.
func (f *Federation) Identities(ctx context.Context, u *gatehouse.User) ([]*gatehouse.Identity, error) {
	return f.store.ListIdentities(ctx, u.ID)
}

// Unlink removes an identity of u, unless it is the last way u can sign in
// (no password and no other identity): CodeLastSignInMethod.
func (f *Federation) Unlink(ctx context.Context, u *gatehouse.User, id int64) (err error) {
	ev := &gatehouse.AuditEvent{Event: gatehouse.EventIdentityUnlinked, Outcome: gatehouse.OutcomeSuccess, UserID: u.ID, Login: u.UsernameKey}
	defer func() {
		if err != nil {
			ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
		}
		f.svc.record(ctx, ev)
	}()
	ident, err := f.store.DeleteIdentity(ctx, u.ID, id)
	if err != nil {
		return err
	}
	ev.Detail = map[string]string{"provider": ident.Provider, "subject": ident.Subject}
	f.svc.log.LogAttrs(ctx, slog.LevelInfo, "identity unlinked", slog.Int64("user_id", u.ID), slog.String("provider", ident.Provider))
	return nil
}
