package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// mfaRequiredBody is the 401 of a password step that needs a second factor:
// the error shape plus the token to finish with at POST /auth/login/mfa.
type mfaRequiredBody struct {
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	MFAToken  string `json:"mfa_token"`
	ExpiresIn int    `json:"expires_in"`
}

// mfaRequired returns the cause of a CodeMFARequired error, or nil.
func mfaRequired(ge *gatehouse.Error) *gatehouse.MFARequiredError {
	var mr *gatehouse.MFARequiredError
	if ge.Code != gatehouse.CodeMFARequired || !errors.As(ge.Err, &mr) {
		return nil
	}
	return mr
}

// writeMFARequired answers the password step of an MFA login. The body
// carries a credential, so it must not be cached.
func writeMFARequired(w http.ResponseWriter, status int, detail string, mr *gatehouse.MFARequiredError) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	encode(w, status, mfaRequiredBody{Detail: detail, Code: gatehouse.CodeMFARequired, MFAToken: mr.Token, ExpiresIn: int(mr.ExpiresIn / time.Second)})
}

// handleLoginMFA is the second step of a login: JSON {mfa_token, code},
// where code is a current TOTP code or an unused recovery code. It answers
// the token pair the password step would have.
func handleLoginMFA(svc *auth.Service, obs Observer, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStrings(w, r, "mfa_token", "code")
		if !ok {
			return
		}
		pair, err := svc.LoginMFA(r.Context(), in["mfa_token"], in["code"], clientOf(r, "", ""))
		obs.LoginOutcome(outcome(err))
		if err != nil {
			out.error(w, r, err)
			return
		}
		writeTokens(w, pair)
	})
}

// handleMFAStatus tells the caller which second factors the account has.
func handleMFAStatus(svc *auth.Service, out *responder) http.Handler {
	type totpStatus struct {
		Enabled     bool       `json:"enabled"`
		Pending     bool       `json:"pending"`
		ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	}
	type response struct {
		TOTP              totpStatus `json:"totp"`
		RecoveryCodesLeft int        `json:"recovery_codes_left"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := svc.MFAStatus(r.Context(), gatehouse.UserFromContext(r.Context()))
		if err != nil {
			out.error(w, r, err)
			return
		}
		res := response{TOTP: totpStatus{Enabled: st.TOTPEnabled, Pending: st.TOTPPending}, RecoveryCodesLeft: st.RecoveryCodesLeft}
		if st.TOTPEnabled {
			at := st.ConfirmedAt.UTC()
			res.TOTP.ConfirmedAt = &at
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, res)
	})
}

// handleEnrolTOTP starts a TOTP enrolment: a new secret, its otpauth:// URI
// and a QR code of the URI (PNG, base64 and as a data: URI). Nothing is
// active until POST /users/me/mfa/totp/confirm.
func handleEnrolTOTP(svc *auth.Service, out *responder) http.Handler {
	type response struct {
		Secret    string `json:"secret"`
		URI       string `json:"otpauth_uri"`
		QRPNG     string `json:"qr_png"`
		QRDataURI string `json:"qr_data_uri"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		en, err := svc.EnrolTOTP(r.Context(), gatehouse.UserFromContext(r.Context()))
		if err != nil {
			out.error(w, r, err)
			return
		}
		png := base64.StdEncoding.EncodeToString(en.QRPNG)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		encode(w, http.StatusOK, response{Secret: en.Secret, URI: en.URI, QRPNG: png, QRDataURI: "data:image/png;base64," + png})
	})
}

// handleConfirmTOTP activates the pending TOTP given JSON {code, password}
// (password required when the account has one; without one, the session's
// sign-in must be recent: auth.ConfirmTOTP) and answers the recovery codes,
// which are shown this once.
func handleConfirmTOTP(svc *auth.Service, out *responder) http.Handler {
	type response struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStringsOptional(w, r, []string{"code"}, "password")
		if !ok {
			return
		}
		codes, err := svc.ConfirmTOTP(r.Context(), gatehouse.UserFromContext(r.Context()), sessionIDFrom(r.Context()), in["code"], in["password"])
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		encode(w, http.StatusOK, response{RecoveryCodes: codes})
	})
}

// handleDisableTOTP removes the TOTP and its recovery codes, given JSON
// {code} (TOTP or recovery code) or {password}: exactly one of them.
func handleDisableTOTP(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := codeOrPassword(w, r, out)
		if !ok {
			return
		}
		if err := svc.DisableTOTP(r.Context(), gatehouse.UserFromContext(r.Context()), sessionIDFrom(r.Context()), in["code"], in["password"]); err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
