package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// Sign-in through upstream providers (see internal/auth/oauth_login.go for
// the flow). With no provider configured, fed is nil and every route here
// answers 404.

// noProviders answers 404 for the provider routes of a server without
// providers.
func noProviders(fed *auth.Federation, out *responder, h http.Handler) http.Handler {
	if fed != nil {
		return h
	}
	return notFound(out)
}

// handleProviders lists the configured providers, for sign-in pages.
func handleProviders(fed *auth.Federation) http.Handler {
	type detail struct {
		Name  string `json:"name"`
		Label string `json:"label"`
	}
	// providers (the names) came first and stays for existing clients;
	// details carries what a sign-in button shows.
	type response struct {
		Providers []string `json:"providers"`
		Details   []detail `json:"details"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := response{Providers: []string{}, Details: []detail{}}
		if fed != nil {
			res.Providers = fed.Providers()
			for _, n := range res.Providers {
				res.Details = append(res.Details, detail{Name: n, Label: fed.Label(n)})
			}
		}
		encode(w, http.StatusOK, res)
	})
}

// redirectHeaders mark an answer carrying a code or state: never cached,
// and its URL never sent on as a Referer.
func redirectHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// redirect answers 302 to target with no body: http.Redirect would repeat
// the URL, and the code in it, in an HTML body.
func redirect(w http.ResponseWriter, target string) {
	redirectHeaders(w)
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

// handleOAuthStart sends the browser to the provider. The app passes
// redirect_uri, state and its PKCE code_challenge (S256) in the query.
// Errors are JSON: the redirect_uri is not trusted until checked.
func handleOAuthStart(fed *auth.Federation, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for name, vs := range q {
			if len(vs) > 1 {
				out.oauthError(w, r, invalidQuery(name, "repeated"))
				return
			}
		}
		target, err := fed.Begin(r.Context(), auth.BeginInput{
			Provider: r.PathValue("provider"), RedirectURI: q.Get("redirect_uri"), AppState: q.Get("state"),
			CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
			ClientIP: clientIPFrom(r.Context()),
		})
		if err != nil {
			out.oauthError(w, r, err)
			return
		}
		redirect(w, target)
	})
}

func invalidQuery(name, typ string) error {
	return &gatehouse.Error{Code: gatehouse.CodeInvalidRequest, Fields: []gatehouse.FieldError{{Loc: []string{"query", name}, Type: typ}}}
}

// callbackErrors maps our codes to the error codes RFC 6749 §4.1.2.1 lets
// an authorization response carry; our own code travels beside it as
// error_code.
var callbackErrors = map[string]string{
	gatehouse.CodeInternal:    "server_error",
	gatehouse.CodeRateLimited: "temporarily_unavailable",
	gatehouse.CodeNotReady:    "temporarily_unavailable",
}

// handleOAuthCallback is where the provider sends the browser back. The
// browser then goes to the app's redirect_uri with ?code&state (of a
// sign-in or a link) or ?error&error_description&error_code&state; with a state that names no sign-in there is nowhere safe to send
// it, and the answer is a JSON 400.
func handleOAuthCallback(fed *auth.Federation, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		provider := r.PathValue("provider")
		res, err := fed.Callback(r.Context(), auth.CallbackInput{
			Provider: provider, State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		})
		if res == nil {
			redirectHeaders(w)
			out.error(w, r, err)
			return
		}
		target, perr := url.Parse(res.RedirectURI)
		if perr != nil {
			out.error(w, r, perr)
			return
		}
		v := target.Query()
		switch {
		case err != nil:
			code := gatehouse.ErrorCode(err)
			if code == gatehouse.CodeInternal {
				out.log.LogAttrs(r.Context(), slog.LevelError, "provider sign-in failed",
					slog.String("request_id", requestIDFrom(r.Context())), slog.String("error", err.Error()))
			}
			rfc := callbackErrors[code]
			if rfc == "" {
				rfc = "access_denied"
			}
			ge := &gatehouse.Error{Code: code}
			v.Set("error", rfc)
			v.Set("error_code", code)
			v.Set("error_description", out.catalog.Message(i18n.English, ge.MessageKey(), nil))
		default:
			v.Set("code", res.Code)
		}
		if res.AppState != "" {
			v.Set("state", res.AppState)
		}
		target.RawQuery = v.Encode()
		redirect(w, target.String())
	})
}

// identityResponse is the public view of a linked identity.
type identityResponse struct {
	ID            int64     `json:"id"`
	Provider      string    `json:"provider"`
	Subject       string    `json:"subject"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	CreatedAt     time.Time `json:"created_at"`
}

// handleListIdentities lists the caller's linked identities.
func handleListIdentities(fed *auth.Federation, out *responder) http.Handler {
	type response struct {
		Identities []identityResponse `json:"identities"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := response{Identities: []identityResponse{}}
		if fed != nil {
			list, err := fed.Identities(r.Context(), gatehouse.UserFromContext(r.Context()))
			if err != nil {
				out.error(w, r, err)
				return
			}
			for _, i := range list {
				res.Identities = append(res.Identities, identityResponse{
					ID: i.ID, Provider: i.Provider, Subject: i.Subject, Email: i.Email, EmailVerified: i.EmailVerified, CreatedAt: i.CreatedAt.UTC(),
				})
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, res)
	})
}

// handleLinkIdentity starts linking a provider account to the caller: JSON
// {provider, redirect_uri, code_challenge, code_challenge_method, state?};
// the answer's authorization_url is where the app sends the browser. The
// browser comes back to redirect_uri with ?code&state, and the app, still
// signed in as the caller, confirms the link with the code and its PKCE
// verifier (handleConfirmLink): being signed in is the proof that the user
// owns this account, and the verifier that this browser is the one that
// started the link.
func handleLinkIdentity(fed *auth.Federation, out *responder) http.Handler {
	type response struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStringsOptional(w, r, []string{"provider", "redirect_uri", "code_challenge", "code_challenge_method"}, "state")
		if !ok {
			return
		}
		target, err := fed.Begin(r.Context(), auth.BeginInput{
			Provider: in["provider"], RedirectURI: in["redirect_uri"], AppState: in["state"],
			CodeChallenge: in["code_challenge"], CodeChallengeMethod: in["code_challenge_method"],
			LinkUser: gatehouse.UserFromContext(r.Context()), ClientIP: clientIPFrom(r.Context()),
		})
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, response{AuthorizationURL: target})
	})
}

// handleConfirmLink completes a link: JSON {code, redirect_uri,
// code_verifier}; the answer is the linked identity.
func handleConfirmLink(fed *auth.Federation, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStringsOptional(w, r, []string{"code", "redirect_uri", "code_verifier"})
		if !ok {
			return
		}
		i, err := fed.ConfirmLink(r.Context(), gatehouse.UserFromContext(r.Context()), in["code"], in["redirect_uri"], in["code_verifier"])
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, identityResponse{
			ID: i.ID, Provider: i.Provider, Subject: i.Subject, Email: i.Email, EmailVerified: i.EmailVerified, CreatedAt: i.CreatedAt.UTC(),
		})
	})
}

// handleUnlinkIdentity unlinks one of the caller's identities; 404 for an
// id that is not one of theirs, 409 last_sign_in_method when it is the
// only way left to sign in.
func handleUnlinkIdentity(fed *auth.Federation, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 || fed == nil {
			out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeNotFound})
			return
		}
		if err := fed.Unlink(r.Context(), gatehouse.UserFromContext(r.Context()), id); err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
