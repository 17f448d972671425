package web

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// codeOrPassword reads the proof of a change to the caller's second factor:
// JSON {code} or {password}, each a string when given (a null counts as
// absent). Which of them must be given is the use case's to say.
func codeOrPassword(w http.ResponseWriter, r *http.Request, out *responder) (map[string]string, bool) {
	return out.jsonStringsOptional(w, r, nil, "code", "password")
}

// handleRegenerateRecoveryCodes replaces the caller's recovery codes with
// new ones, given JSON {code} (a current TOTP code) or {password}, and
// answers them; they are shown this once.
func handleRegenerateRecoveryCodes(svc *auth.Service, out *responder) http.Handler {
	type response struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := codeOrPassword(w, r, out)
		if !ok {
			return
		}
		codes, err := svc.RegenerateRecoveryCodes(r.Context(), gatehouse.UserFromContext(r.Context()), in["code"], in["password"])
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		encode(w, http.StatusOK, response{RecoveryCodes: codes})
	})
}

// handleAdminResetMFA removes a user's TOTP and recovery codes, for a user
// who lost their authenticator.
func handleAdminResetMFA(admin *auth.AdminAPI, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err == nil {
			if err = admin.ResetMFA(r.Context(), gatehouse.UserFromContext(r.Context()), id); err == nil {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		out.error(w, r, err)
	})
}
