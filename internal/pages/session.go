package pages

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// jar keeps the browser's session in cookies. The session cookie holds the
// session's access and refresh tokens ("<access>~<refresh>"; neither
// contains '~'), so the browser is signed in exactly as long as that
// server-side session lives: every page checks the access token with
// auth.Authenticate (revocation included) and, once it has expired, rotates
// the pair with auth.Refresh like any API client. Both cookies are HttpOnly
// (no script can read the tokens) and SameSite=Lax; with Secure they are
// __Host- cookies, which no other host or path can set or shadow.
type jar struct {
	svc     *auth.Service
	key     []byte
	secure  bool
	session string // cookie names
	pre     string
	path    string
}

func newJar(svc *auth.Service, key []byte, secure bool) *jar {
	j := &jar{svc: svc, key: key, secure: secure, session: "gatehouse_session", pre: "gatehouse_csrf", path: "/ui"}
	if secure {
		// __Host- requires Secure and Path=/.
		j.session, j.pre, j.path = "__Host-gatehouse_session", "__Host-gatehouse_csrf", "/"
	}
	return j
}

// session is the signed-in browser's session.
type session struct {
	user *gatehouse.User
	id   string
}

type ctxKey int

const sessionKey ctxKey = 0

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey).(*session)
	return s
}

// errNoSession: the browser has no live session (never had, signed out,
// revoked or expired).
var errNoSession = errors.New("no session")

// resolve finds the browser's live session, refreshing its tokens (and the
// cookie) when the access token has expired. A dead session's cookie is
// cleared and errNoSession returned; a deactivated user's too, with
// CodeInactiveUser. Other errors (rate limit, storage) leave the cookie be.
func (j *jar) resolve(w http.ResponseWriter, r *http.Request) (*session, error) {
	c, err := r.Cookie(j.session)
	if err != nil {
		return nil, errNoSession
	}
	access, refresh, ok := strings.Cut(c.Value, "~")
	if !ok || access == "" || refresh == "" {
		j.clear(w)
		return nil, errNoSession
	}
	u, claims, err := j.svc.Authenticate(r.Context(), access)
	switch {
	case err == nil:
		return &session{user: u, id: claims.SessionID}, nil
	case gatehouse.IsCode(err, gatehouse.CodeInactiveUser):
		j.clear(w)
		return nil, err
	case !gatehouse.IsCode(err, gatehouse.CodeInvalidToken):
		return nil, err
	}
	// Expired (or revoked, or signed by a retired key): the refresh token
	// decides, as it would for an API client.
	pair, err := j.svc.Refresh(r.Context(), refresh, clientOf(r))
	switch {
	case err == nil:
		j.set(w, pair)
		return &session{user: pair.User, id: pair.Session.ID}, nil
	case gatehouse.IsCode(err, gatehouse.CodeInvalidGrant):
		j.clear(w)
		return nil, errNoSession
	}
	return nil, err
}

// set stores a token pair; the cookie lives as long as the session may.
func (j *jar) set(w http.ResponseWriter, p *auth.TokenPair) {
	http.SetCookie(w, j.cookie(j.session, p.AccessToken+"~"+p.RefreshToken, p.Session.ExpiresAt))
}

// clear removes the session cookie.
func (j *jar) clear(w http.ResponseWriter) {
	c := j.cookie(j.session, "", time.Time{})
	c.MaxAge = -1
	http.SetCookie(w, c)
}

func (j *jar) cookie(name, value string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: j.path, Expires: expires,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode,
	}
}

// Anti-forgery tokens. A signed-in form carries HMAC(key, "session" ‖ session
// id): only pages of this server, rendered for this session, know it. A form
// shown before sign-in carries HMAC(key, "pre-session" ‖ a random value kept
// in its own HttpOnly cookie), so that another site cannot sign a browser in
// to an account of its choosing (login CSRF) either.
const csrfField = "csrf_token"

// preLen is the length of a pre-session value: rand.Text's 26 base32
// characters, 128 bits.
const preLen = 26

func (j *jar) mac(kind, value string) string {
	m := hmac.New(sha256.New, j.key)
	m.Write([]byte("gatehouse ui csrf v1\x00" + kind + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionToken is the token of a signed-in form.
func (j *jar) sessionToken(s *session) string { return j.mac("session", s.id) }

// preToken returns the token of a form shown before sign-in, setting the
// pre-session cookie when the browser has none.
func (j *jar) preToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(j.pre); err == nil && len(c.Value) >= preLen {
		return j.mac("pre-session", c.Value)
	}
	v := rand.Text()
	http.SetCookie(w, j.cookie(j.pre, v, time.Time{}))
	return j.mac("pre-session", v)
}

// checkSession reports whether the posted form carries the session's token.
func (j *jar) checkSession(r *http.Request, s *session) bool {
	return equalToken(r.PostFormValue(csrfField), j.sessionToken(s))
}

// checkPre reports whether the posted form carries the token of the
// browser's pre-session cookie.
func (j *jar) checkPre(r *http.Request) bool {
	c, err := r.Cookie(j.pre)
	if err != nil || len(c.Value) < preLen {
		return false
	}
	return equalToken(r.PostFormValue(csrfField), j.mac("pre-session", c.Value))
}

func equalToken(got, want string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// clientOf collects the request facts recorded with a new session.
func clientOf(r *http.Request) auth.Client {
	return auth.Client{IP: gatehouse.RequestInfoFrom(r.Context()).ClientIP, UserAgent: r.UserAgent()}
}

// requirePreToken guards the forms a browser posts before it is signed in
// (sign-in, sign-up, links by email, provider buttons): the form must carry
// the token of the browser's pre-session cookie, which a page of another
// site cannot read. It parses the form first; next may read it.
func requirePreToken(j *jar, v *views) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				v.fail(w, r, formError(err))
				return
			}
			if !j.checkPre(r) {
				v.forbidden(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// requireSession runs next with the browser's session in the context, after
// checking the form's token on a POST. Without a live session a GET goes to
// the sign-in page (and comes back after), a POST answers there too.
func requireSession(j *jar, v *views) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := j.resolve(w, r)
			switch {
			case errors.Is(err, errNoSession):
				to := "/ui/signin"
				if _, noCookie := r.Cookie(j.session); noCookie == nil {
					to += "?m=session_expired" // it had one, now dead
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			case err != nil:
				v.fail(w, r, err)
				return
			}
			if r.Method == http.MethodPost {
				if err := r.ParseForm(); err != nil {
					v.fail(w, r, formError(err))
					return
				}
				if !j.checkSession(r, s) {
					v.forbidden(w, r)
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey, s)))
		})
	}
}
