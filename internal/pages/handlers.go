package pages

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// After a successful post the browser is sent on with 303 See Other, so
// that reloading the next page never posts the form again.

// handleHome sends the browser to its account, or to the sign-in page.
func handleHome(j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := j.resolve(w, r)
		switch {
		case err == nil:
			http.Redirect(w, r, "/ui/account", http.StatusSeeOther)
		case errors.Is(err, errNoSession), gatehouse.IsCode(err, gatehouse.CodeInactiveUser):
			http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
		default:
			v.fail(w, r, err)
		}
	})
}

// signInData is the sign-in page's own data.
type signInData struct {
	// RedirectOrigin is where the browser goes after signing in, when a
	// redirect_uri was given ("" otherwise).
	RedirectOrigin string
}

// handleSignInForm shows the sign-in form. A browser already signed in goes
// straight on: to redirect_uri when it is allowed, else to its account.
func handleSignInForm(j *jar, v *views, allow originList) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := v.page(r, "signin")
		redirect := r.URL.Query().Get("redirect_uri")
		origin, ok := allow.check(redirect)
		if !ok {
			pv.Error = pv.T("ui.error.redirect_uri")
			pv.CSRF = j.preToken(w, r)
			v.render(w, r, http.StatusBadRequest, pv)
			return
		}
		if _, err := j.resolve(w, r); err == nil {
			http.Redirect(w, r, afterSignIn(redirect), http.StatusSeeOther)
			return
		}
		pv.CSRF = j.preToken(w, r)
		pv.Form["redirect_uri"] = redirect
		pv.Data = signInData{RedirectOrigin: origin}
		v.render(w, r, http.StatusOK, pv)
	})
}

func afterSignIn(redirect string) string {
	if redirect != "" {
		return redirect
	}
	return "/ui/account"
}

// handleSignIn signs the browser in with auth.Login — the API's login, its
// rate limits and audit record included — and keeps the new session's
// tokens in the session cookie. A session the browser had before is ended:
// one browser, one session.
//
// When Login asks for a second factor, the answer is the second step's page
// (its form carrying the challenge, see mfa.go) instead of the cookie.
func handleSignIn(svc *auth.Service, j *jar, v *views, allow originList) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := v.page(r, "signin")
		redirect := r.PostFormValue("redirect_uri")
		origin, ok := allow.check(redirect)
		if !ok {
			pv.Error = pv.T("ui.error.redirect_uri")
			pv.CSRF = j.preToken(w, r)
			v.render(w, r, http.StatusBadRequest, pv)
			return
		}
		username := r.PostFormValue("username")
		pair, err := svc.Login(r.Context(), username, r.PostFormValue("password"), clientOf(r))
		if mr := mfaChallenge(err); mr != nil {
			renderMFAStep(w, r, j, v, http.StatusOK, v.page(r, "signin-mfa"), mr.Token, redirect, origin)
			return
		}
		if err != nil {
			status := v.explain(w, r, pv, err)
			pv.CSRF = j.preToken(w, r)
			pv.Form["username"] = username
			pv.Form["redirect_uri"] = redirect
			pv.Data = signInData{RedirectOrigin: origin}
			v.render(w, r, status, pv)
			return
		}
		if old, err := j.resolve(w, r); err == nil && old.id != pair.Session.ID {
			// Best effort: the old session's tokens leave the browser now
			// either way, and it expires on its own.
			_ = svc.Logout(r.Context(), old.user, old.id, false)
		}
		j.set(w, pair)
		http.Redirect(w, r, afterSignIn(redirect), http.StatusSeeOther)
	})
}

// signUpData is the sign-up page's own data.
type signUpData struct {
	MinLength int
}

// handleSignUpForm shows the registration form.
func handleSignUpForm(j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := j.resolve(w, r); err == nil {
			http.Redirect(w, r, "/ui/account", http.StatusSeeOther)
			return
		}
		pv := v.page(r, "signup")
		pv.CSRF = j.preToken(w, r)
		pv.Data = signUpData{MinLength: policy.MinLength}
		v.render(w, r, http.StatusOK, pv)
	})
}

// handleSignUp registers with auth.Register (its validation, password
// policy and per-address limit) and sends the new user to sign in.
func handleSignUp(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := r.PostForm
		_, err := svc.Register(r.Context(), auth.RegisterInput{
			Username: f.Get("username"), Email: f.Get("email"), Password: f.Get("password"),
			ClientIP: gatehouse.RequestInfoFrom(r.Context()).ClientIP,
		})
		if err != nil {
			pv := v.page(r, "signup")
			status := v.explain(w, r, pv, err)
			pv.CSRF = j.preToken(w, r)
			pv.Form["username"], pv.Form["email"] = f.Get("username"), f.Get("email")
			pv.Data = signUpData{MinLength: policy.MinLength}
			v.render(w, r, status, pv)
			return
		}
		http.Redirect(w, r, "/ui/signin?m=registered", http.StatusSeeOther)
	})
}

// handleSignOut ends the browser's session (all=1: every session of the
// user) with auth.Logout, exactly as POST /auth/logout does.
func handleSignOut(svc *auth.Service, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		all := r.PostFormValue("all") == "1"
		if err := svc.Logout(r.Context(), s.user, s.id, all); err != nil {
			v.fail(w, r, err)
			return
		}
		j.clear(w)
		m := "signed_out"
		if all {
			m = "signed_out_all"
		}
		http.Redirect(w, r, "/ui/signin?m="+m, http.StatusSeeOther)
	})
}

// sessionRow is one line of the account page's session list.
type sessionRow struct {
	ID         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ClientIP   string
	UserAgent  string
	ClientID   string
	Current    bool
}

// accountData is the account page's own data.
type accountData struct {
	Sessions  []sessionRow
	MinLength int
	MFA       *mfaSection // nil: second factors are not configured
	// Unverified: the address is not verified and a link can be mailed.
	Unverified bool
	// Identities are the linked sign-in methods; nil: no providers.
	Identities *identitySection
	// NoPassword: the account has no password (made through a provider),
	// so the password form sets one, without asking for a current one.
	NoPassword bool
}

// renderAccount shows the account page with status, after whatever pv
// already says (a notice, or a problem with a form).
func renderAccount(svc *auth.Service, v *views, policy pwhash.Policy, w http.ResponseWriter, r *http.Request, status int, pv *view) {
	s := sessionFrom(r.Context())
	list, err := svc.Sessions(r.Context(), s.user)
	if err != nil {
		v.fail(w, r, err)
		return
	}
	rows := make([]sessionRow, 0, len(list))
	for _, ss := range list {
		rows = append(rows, sessionRow{
			ID: ss.ID, CreatedAt: ss.CreatedAt, LastUsedAt: ss.LastUsedAt, ClientIP: ss.ClientIP,
			UserAgent: ss.UserAgent, ClientID: ss.ClientID, Current: ss.ID == s.id,
		})
	}
	mfa, err := mfaSectionOf(svc, r)
	if err != nil {
		v.fail(w, r, err)
		return
	}
	ids, err := v.providers.section(r)
	if err != nil {
		v.fail(w, r, err)
		return
	}
	pv.Data = accountData{Sessions: rows, MinLength: policy.MinLength, MFA: mfa,
		Unverified: s.user.EmailVerifiedAt.IsZero() && svc.EmailEnabled(), Identities: ids, NoPassword: s.user.PasswordHash == ""}
	v.render(w, r, status, pv)
}

// accountView starts the account page's view with the session's form token.
func accountView(j *jar, v *views, r *http.Request) *view {
	pv := v.page(r, "account")
	pv.CSRF = j.sessionToken(sessionFrom(r.Context()))
	return pv
}

// handleAccount shows the profile, the password form and the sessions.
func handleAccount(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderAccount(svc, v, policy, w, r, http.StatusOK, accountView(j, v, r))
	})
}

// handleChangePassword changes the password with auth.ChangePassword: every
// other session is revoked, this one stays.
func handleChangePassword(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		err := svc.ChangePassword(r.Context(), s.user, s.id, r.PostFormValue("current_password"), r.PostFormValue("new_password"))
		if err != nil {
			pv := accountView(j, v, r)
			status := v.explain(w, r, pv, err)
			renderAccount(svc, v, policy, w, r, status, pv)
			return
		}
		if s.user.PasswordHash == "" {
			http.Redirect(w, r, "/ui/account?m=password_set", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/ui/account?m=password_changed", http.StatusSeeOther)
	})
}

// handleRevokeSession revokes one of the user's sessions with
// auth.RevokeSession, as DELETE /users/me/sessions/{id} does; its access
// tokens are refused from the next request on. Revoking the browser's own
// session is signing out.
func handleRevokeSession(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		id := r.PathValue("id")
		if err := svc.RevokeSession(r.Context(), s.user, id); err != nil {
			pv := accountView(j, v, r)
			status := v.explain(w, r, pv, err)
			renderAccount(svc, v, policy, w, r, status, pv)
			return
		}
		if id == s.id {
			j.clear(w)
			http.Redirect(w, r, "/ui/signin?m=signed_out", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/ui/account?m=session_revoked", http.StatusSeeOther)
	})
}

// handleUnrouted answers what no page route matched: 405 with Allow for a
// page's address asked with another method, else 404 — as pages, where the
// API's mux would answer in plain text.
func handleUnrouted(mux *http.ServeMux, v *views) http.Handler {
	notFound := handleNotFound(v)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
			if _, pattern := mux.Handler(probe); pattern != "/ui/" && pattern != "" {
				allow = append(allow, m)
				if m == http.MethodGet {
					allow = append(allow, http.MethodHead)
				}
			}
		}
		if len(allow) == 0 {
			notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		pv := v.page(r, "error")
		pv.Error = v.catalog.Message(pv.lang, gatehouse.CodeMethodNotAllowed, nil)
		v.render(w, r, http.StatusMethodNotAllowed, pv)
	})
}

// handleNotFound answers any other address under /ui/ with a 404 page.
func handleNotFound(v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := v.page(r, "error")
		pv.Error = pv.T("ui.error.not_found")
		v.render(w, r, http.StatusNotFound, pv)
	})
}
