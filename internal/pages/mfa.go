package pages

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// Two-factor pages: the second step of a sign-in, and TOTP enrolment and
// removal on the account page.
//
// The second step's mfa_token travels in a hidden field of the step's form,
// never in an address: POST /ui/signin answers the step page itself (200)
// rather than redirecting to it. The token is single-purpose (it only
// completes this one sign-in, with a valid code), short-lived
// (auth.MFATokenTTL), stored only as a hash, and consumed by the sign-in it
// completes; the page is no-store, and the form carries the pre-session
// anti-forgery token as well. A hidden field keeps the step stateless and
// lets two tabs sign in without clobbering each other's cookie.

// mfaStepData is the second step's own data.
type mfaStepData struct {
	MFAToken       string
	RedirectOrigin string
}

// mfaChallenge returns the second-step challenge of a sign-in error, or nil.
func mfaChallenge(err error) *gatehouse.MFARequiredError {
	var mr *gatehouse.MFARequiredError
	if !gatehouse.IsCode(err, gatehouse.CodeMFARequired) || !errors.As(err, &mr) {
		return nil
	}
	return mr
}

// renderMFAStep shows the second step of a sign-in: pv is the "signin-mfa"
// view, possibly carrying a problem with the code.
func renderMFAStep(w http.ResponseWriter, r *http.Request, j *jar, v *views, status int, pv *view, token, redirect, origin string) {
	pv.CSRF = j.preToken(w, r)
	pv.Form["redirect_uri"] = redirect
	pv.Data = mfaStepData{MFAToken: token, RedirectOrigin: origin}
	v.render(w, r, status, pv)
}

// handleSignInMFA completes a sign-in with a TOTP or recovery code through
// auth.LoginMFA (its rate limits and audit record included) and sets the
// session cookie exactly as a password sign-in does. A wrong code shows the
// step again, with the same mfa_token, which stays good until it expires;
// an expired or used token goes back to the password step.
func handleSignInMFA(svc *auth.Service, j *jar, v *views, allow originList) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirect := r.PostFormValue("redirect_uri")
		origin, ok := allow.check(redirect)
		if !ok {
			pv := v.page(r, "signin")
			pv.Error = pv.T("ui.error.redirect_uri")
			pv.CSRF = j.preToken(w, r)
			v.render(w, r, http.StatusBadRequest, pv)
			return
		}
		token := r.PostFormValue("mfa_token")
		field, code := "code", r.PostFormValue("code")
		if rc := r.PostFormValue("recovery_code"); code == "" && rc != "" {
			field, code = "recovery_code", rc
		}
		pair, err := svc.LoginMFA(r.Context(), token, code, clientOf(r))
		switch {
		case err == nil:
		case gatehouse.IsCode(err, gatehouse.CodeInvalidMFAToken), gatehouse.IsCode(err, gatehouse.CodeInactiveUser):
			// Start again from the password: the challenge is gone.
			pv := v.page(r, "signin")
			status := v.explain(w, r, pv, err)
			if gatehouse.IsCode(err, gatehouse.CodeInvalidMFAToken) {
				pv.Error = pv.T("ui.mfa.expired")
			}
			pv.CSRF = j.preToken(w, r)
			pv.Form["redirect_uri"] = redirect
			pv.Data = signInData{RedirectOrigin: origin}
			v.render(w, r, status, pv)
			return
		default:
			pv := v.page(r, "signin-mfa")
			status := v.explain(w, r, pv, err)
			if len(pv.Fields) == 0 && status < 500 && status != http.StatusTooManyRequests {
				pv.Fields[field] = pv.Error
			}
			renderMFAStep(w, r, j, v, status, pv, token, redirect, origin)
			return
		}
		if old, err := j.resolve(w, r); err == nil && old.id != pair.Session.ID {
			_ = svc.Logout(r.Context(), old.user, old.id, false) // as handleSignIn
		}
		j.set(w, pair)
		http.Redirect(w, r, afterSignIn(redirect), http.StatusSeeOther)
	})
}

// mfaSection is the account page's two-factor section; nil when second
// factors are not configured.
type mfaSection struct {
	Enabled, Pending  bool
	ConfirmedAt       time.Time
	RecoveryCodesLeft int
}

// mfaSectionOf reads the signed-in user's second factors for the account
// page.
func mfaSectionOf(svc *auth.Service, r *http.Request) (*mfaSection, error) {
	if !svc.MFAEnabled() {
		return nil, nil
	}
	st, err := svc.MFAStatus(r.Context(), sessionFrom(r.Context()).user)
	if err != nil {
		return nil, err
	}
	return &mfaSection{Enabled: st.TOTPEnabled, Pending: st.TOTPPending, ConfirmedAt: st.ConfirmedAt, RecoveryCodesLeft: st.RecoveryCodesLeft}, nil
}

// totpData is the TOTP page's own data: the pending enrolment to confirm,
// or (once confirmed) the recovery codes, shown this once.
type totpData struct {
	QR     template.URL // a data: URL of the QR code's PNG
	Secret string       // base32, in groups of four for reading
	Codes  []string
	// Regenerated: Codes replace earlier ones (not a new enrolment).
	Regenerated bool
	// HasPassword: the confirmation asks for the password (auth's
	// re-authentication); without one, a recent sign-in is what counts.
	HasPassword bool
}

// totpView starts the TOTP page's view with the session's form token.
func totpView(j *jar, v *views, r *http.Request) *view {
	pv := v.page(r, "totp")
	pv.CSRF = j.sessionToken(sessionFrom(r.Context()))
	return pv
}

// renderEnrolment shows the pending enrolment (QR code, secret, code
// field) after whatever pv already says.
func renderEnrolment(svc *auth.Service, v *views, w http.ResponseWriter, r *http.Request, status int, pv *view) {
	en, err := svc.PendingTOTP(r.Context(), sessionFrom(r.Context()).user)
	switch {
	case gatehouse.IsCode(err, gatehouse.CodeMFAAlreadyEnabled), gatehouse.IsCode(err, gatehouse.CodeMFAEnrolmentNotFound):
		http.Redirect(w, r, "/ui/account#mfa-h", http.StatusSeeOther)
		return
	case err != nil:
		v.fail(w, r, err)
		return
	}
	pv.Data = totpData{
		QR:          template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG)),
		Secret:      groupSecret(en.Secret),
		HasPassword: sessionFrom(r.Context()).user.PasswordHash != "",
	}
	v.render(w, r, status, pv)
}

// groupSecret writes a base32 secret in groups of four, as authenticator
// apps accept it typed.
func groupSecret(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// handleTOTPPage shows the pending enrolment, to scan and confirm; without
// one it goes back to the account page.
func handleTOTPPage(svc *auth.Service, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderEnrolment(svc, v, w, r, http.StatusOK, totpView(j, v, r))
	})
}

// handleEnrolTOTP starts (or starts over) a TOTP enrolment with
// auth.EnrolTOTP, then shows it. Nothing changes for sign-in until the
// enrolment is confirmed with a code.
func handleEnrolTOTP(svc *auth.Service, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.EnrolTOTP(r.Context(), sessionFrom(r.Context()).user); err != nil {
			v.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/ui/account/mfa/totp", http.StatusSeeOther)
	})
}

// handleConfirmTOTP activates the pending TOTP with a code from the app
// (auth.ConfirmTOTP) and shows the recovery codes: this answer is the only
// time they are shown, so it is a page, not a redirect (and no-store, as
// every page).
func handleConfirmTOTP(svc *auth.Service, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		codes, err := svc.ConfirmTOTP(r.Context(), s.user, s.id, r.PostFormValue("code"), r.PostFormValue("password"))
		if err != nil {
			pv := totpView(j, v, r)
			status := v.explain(w, r, pv, err)
			if len(pv.Fields) == 0 && status < 500 && status != http.StatusTooManyRequests {
				switch gatehouse.ErrorCode(err) {
				case gatehouse.CodeWrongPassword:
					pv.Fields["password"] = pv.Error
				case gatehouse.CodeReauthRequired:
					if s.user.PasswordHash != "" {
						pv.Fields["password"] = pv.Error
					}
				default:
					pv.Fields["code"] = pv.Error
				}
			}
			renderEnrolment(svc, v, w, r, status, pv)
			return
		}
		pv := totpView(j, v, r)
		pv.Data = totpData{Codes: codes}
		v.render(w, r, http.StatusOK, pv)
	})
}

// handleDisableTOTP removes the TOTP and its recovery codes
// (auth.DisableTOTP), given a current code or the password: a session
// alone cannot take the second factor away.
func handleDisableTOTP(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		if err := svc.DisableTOTP(r.Context(), s.user, s.id, r.PostFormValue("code"), r.PostFormValue("password")); err != nil {
			pv := accountView(j, v, r)
			status := v.explain(w, r, pv, err)
			for _, f := range []string{"code", "password"} {
				if r.PostFormValue(f) != "" && len(pv.Fields) == 0 && status < 500 && status != http.StatusTooManyRequests {
					pv.Fields[f] = pv.Error
				}
			}
			renderAccount(svc, v, policy, w, r, status, pv)
			return
		}
		http.Redirect(w, r, "/ui/account?m=totp_disabled", http.StatusSeeOther)
	})
}
