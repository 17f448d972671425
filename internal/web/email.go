package web

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// linkRequested is the answer to every accepted link request, the same
// whether or not the address belongs to an account.
type linkRequested struct {
	Detail string `json:"detail"`
}

func (o *responder) linkRequested(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusAccepted, linkRequested{Detail: o.catalog.Message(o.catalog.Match(r.Header.Get("Accept-Language")), "link_requested", nil)})
}

// handleRequestVerification mails a verification link: to the signed-in
// caller's address when the request carries a bearer token (the body is then
// ignored), else to the account of JSON {email}, so that a user whom login
// refuses for an unverified address can still get a link. 202 either way.
func handleRequestVerification(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := auth.EmailRequest{Lang: out.catalog.Match(r.Header.Get("Accept-Language")), ClientIP: clientIPFrom(r.Context())}
		if r.Header.Get("Authorization") != "" {
			token, err := bearerToken(r)
			if err == nil {
				in.User, _, err = svc.Authenticate(r.Context(), token)
			}
			if err != nil {
				out.error(w, r, err)
				return
			}
		} else {
			body, ok := out.jsonStrings(w, r, "email")
			if !ok {
				return
			}
			in.Email = body["email"]
		}
		if err := svc.RequestEmailVerification(r.Context(), in); err != nil {
			out.error(w, r, err)
			return
		}
		out.linkRequested(w, r)
	})
}

// handleVerifyEmail consumes a verification token (JSON {token}).
func handleVerifyEmail(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStrings(w, r, "token")
		if !ok {
			return
		}
		if err := svc.VerifyEmail(r.Context(), in["token"]); err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRequestPasswordReset mails a reset link to the account of JSON
// {email}; 202 whether or not there is one.
func handleRequestPasswordReset(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := out.jsonStrings(w, r, "email")
		if !ok {
			return
		}
		err := svc.RequestPasswordReset(r.Context(), auth.EmailRequest{
			Email: body["email"], Lang: out.catalog.Match(r.Header.Get("Accept-Language")), ClientIP: clientIPFrom(r.Context()),
		})
		if err != nil {
			out.error(w, r, err)
			return
		}
		out.linkRequested(w, r)
	})
}

// handleResetPassword sets a new password with a reset token (JSON {token,
// new_password}); every session of the user is revoked.
func handleResetPassword(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStrings(w, r, "token", "new_password")
		if !ok {
			return
		}
		if err := svc.ResetPassword(r.Context(), in["token"], in["new_password"]); err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
