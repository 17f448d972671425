package pages

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// Email pages: asking for a password reset or verification link, and the
// pages the mailed links open (auth.ResetPasswordPath,
// auth.VerifyEmailPath).
//
// A link's page never acts on GET: it checks the token and shows a form
// whose button posts it back (in a hidden field). Mail scanners and link
// previewers fetch links; they must not use a verification link up, nor
// anything else a person did not choose to do. The link's token is in the
// address, so these pages answer with Referrer-Policy: no-referrer: no
// request they lead to carries the address on.

// requestData is a link request page's own data.
type requestData struct {
	Kind string // "reset" or "verify"
}

// requestLink returns the use case of a request page's kind.
func requestLink(svc *auth.Service, kind string) func(r *http.Request, in auth.EmailRequest) error {
	if kind == "reset" {
		return func(r *http.Request, in auth.EmailRequest) error { return svc.RequestPasswordReset(r.Context(), in) }
	}
	return func(r *http.Request, in auth.EmailRequest) error {
		return svc.RequestEmailVerification(r.Context(), in)
	}
}

// handleLinkRequestForm shows the form asking for a reset (kind "reset")
// or verification ("verify") link by email address.
func handleLinkRequestForm(j *jar, v *views, kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !v.mailOn {
			v.fail(w, r, &gatehouse.Error{Code: gatehouse.CodeEmailDisabled})
			return
		}
		pv := v.page(r, "request")
		pv.CSRF = j.preToken(w, r)
		pv.Data = requestData{Kind: kind}
		v.render(w, r, http.StatusOK, pv)
	})
}

// handleLinkRequest asks for a link (auth.RequestPasswordReset or
// auth.RequestEmailVerification, their rate limits included) and answers
// the same whether or not the address belongs to an account: the same
// notice, after the same work, since the use case leaves looking the
// account up to a mail worker.
func handleLinkRequest(svc *auth.Service, j *jar, v *views, kind string) http.Handler {
	ask := requestLink(svc, kind)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := v.page(r, "request")
		email := r.PostFormValue("email")
		err := ask(r, auth.EmailRequest{Email: email, Lang: pv.lang, ClientIP: gatehouse.RequestInfoFrom(r.Context()).ClientIP})
		if err != nil {
			status := v.explain(w, r, pv, err)
			pv.CSRF = j.preToken(w, r)
			pv.Form["email"] = email
			pv.Data = requestData{Kind: kind}
			v.render(w, r, status, pv)
			return
		}
		to := "/ui/reset-password/request?m=link_sent"
		if kind == "verify" {
			to = "/ui/verify-email/request?m=link_sent"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
}

// handleResendVerification mails a new verification link to the signed-in
// user's own address.
func handleResendVerification(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := accountView(j, v, r)
		err := svc.RequestEmailVerification(r.Context(), auth.EmailRequest{
			User: sessionFrom(r.Context()).user, Lang: pv.lang, ClientIP: gatehouse.RequestInfoFrom(r.Context()).ClientIP,
		})
		if err != nil {
			status := v.explain(w, r, pv, err)
			renderAccount(svc, v, policy, w, r, status, pv)
			return
		}
		http.Redirect(w, r, "/ui/account?m=verification_sent", http.StatusSeeOther)
	})
}

// linkData is the data of a page a mailed link opens.
type linkData struct {
	Token     string
	MinLength int
	// Dead: the link is unknown, expired or used; the page offers a new one.
	Dead bool
}

// noReferrer keeps the link's token, in the page's address, from leaving
// with any request the page leads to.
func noReferrer(w http.ResponseWriter) { w.Header().Set("Referrer-Policy", "no-referrer") }

// renderLink renders a link page, as a dead link's page when err says the
// token is no good.
func renderLink(w http.ResponseWriter, r *http.Request, j *jar, v *views, pv *view, status int, d linkData) {
	pv.CSRF = j.preToken(w, r)
	pv.Data = d
	v.render(w, r, status, pv)
}

// handleLinkPage shows the page of a mailed link (page "reset" or
// "verify"), after checking its token without using it.
func handleLinkPage(svc *auth.Service, j *jar, v *views, page, purpose string, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noReferrer(w)
		pv := v.page(r, page)
		token := r.URL.Query().Get("token")
		d := linkData{Token: token, MinLength: policy.MinLength}
		if err := svc.CheckLinkToken(r.Context(), purpose, token); err != nil {
			d.Dead = gatehouse.IsCode(err, gatehouse.CodeInvalidLinkToken)
			status := v.explain(w, r, pv, err)
			d.Token = ""
			renderLink(w, r, j, v, pv, status, d)
			return
		}
		renderLink(w, r, j, v, pv, http.StatusOK, d)
	})
}

// handleResetPassword sets the new password with auth.ResetPassword: the
// token is used up, the address counts as verified, and every session of
// the account is revoked (this browser's too). A password the policy
// refuses shows the form again, the link still good.
func handleResetPassword(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noReferrer(w)
		token := r.PostFormValue("token")
		if err := svc.ResetPassword(r.Context(), token, r.PostFormValue("new_password")); err != nil {
			pv := v.page(r, "reset")
			status := v.explain(w, r, pv, err)
			d := linkData{Token: token, MinLength: policy.MinLength}
			if gatehouse.IsCode(err, gatehouse.CodeInvalidLinkToken) {
				d.Dead, d.Token = true, ""
			}
			renderLink(w, r, j, v, pv, status, d)
			return
		}
		j.clear(w)
		http.Redirect(w, r, "/ui/signin?m=password_reset", http.StatusSeeOther)
	})
}

// handleVerifyEmail uses a verification token (auth.VerifyEmail), on the
// press of the page's button.
func handleVerifyEmail(svc *auth.Service, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noReferrer(w)
		if err := svc.VerifyEmail(r.Context(), r.PostFormValue("token")); err != nil {
			pv := v.page(r, "verify")
			status := v.explain(w, r, pv, err)
			renderLink(w, r, j, v, pv, status, linkData{Dead: gatehouse.IsCode(err, gatehouse.CodeInvalidLinkToken)})
			return
		}
		to := "/ui/signin?m=email_verified"
		if _, err := j.resolve(w, r); err == nil {
			to = "/ui/account?m=email_verified"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
}
