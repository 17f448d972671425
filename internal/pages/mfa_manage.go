package pages

import (
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// New recovery codes on the account page, and an admin's reset of a user's
// second factor on the user's page.

// regenFields maps the proof fields of auth.RegenerateRecoveryCodes to the
// account page's inputs for it, named apart from the disable forms' own.
var regenFields = map[string]string{"code": "regen_code", "password": "regen_password"}

// handleRegenerateCodes replaces the recovery codes
// (auth.RegenerateRecoveryCodes), given a current code from the app or the
// password, and shows the new ones: this answer is the only time they are
// shown, so it is a page, not a redirect (and no-store, as every page).
func handleRegenerateCodes(svc *auth.Service, j *jar, v *views, policy pwhash.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		code, password := r.PostFormValue("regen_code"), r.PostFormValue("regen_password")
		codes, err := svc.RegenerateRecoveryCodes(r.Context(), s.user, code, password)
		if err != nil {
			pv := accountView(j, v, r)
			status := v.explain(w, r, pv, err)
			for from, to := range regenFields {
				if msg, ok := pv.Fields[from]; ok {
					delete(pv.Fields, from)
					pv.Fields[to] = msg
				}
			}
			if len(pv.Fields) == 0 && status < 500 && status != http.StatusTooManyRequests {
				if password != "" {
					pv.Fields["regen_password"] = pv.Error
				} else {
					pv.Fields["regen_code"] = pv.Error
				}
			}
			renderAccount(svc, v, policy, w, r, status, pv)
			return
		}
		pv := totpView(j, v, r)
		pv.Data = totpData{Codes: codes, Regenerated: true}
		v.render(w, r, http.StatusOK, pv)
	})
}

// adminMFA is a user's second factor as their admin page shows it.
type adminMFA struct {
	Enabled, Pending  bool
	ConfirmedAt       time.Time
	RecoveryCodesLeft int
}

// adminMFAOf reads user id's second factors for their admin page; nil when
// second factors are not configured.
func adminMFAOf(admin *auth.AdminAPI, r *http.Request, id int64) (*adminMFA, error) {
	st, ok, err := admin.UserMFA(r.Context(), id)
	if err != nil || !ok {
		return nil, err
	}
	return &adminMFA{Enabled: st.TOTPEnabled, Pending: st.TOTPPending, ConfirmedAt: st.ConfirmedAt, RecoveryCodesLeft: st.RecoveryCodesLeft}, nil
}

// handleAdminResetMFA removes a user's TOTP and recovery codes
// (auth.AdminAPI.ResetMFA): for a user who lost their authenticator. An
// admin's own is refused and shown on the page.
func handleAdminResetMFA(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return adminAction(admin, j, v, func(r *http.Request, actor *gatehouse.User, id int64) (string, error) {
		if err := admin.ResetMFA(r.Context(), actor, id); err != nil {
			return "", err
		}
		return userPath(id) + "?m=mfa_reset", nil
	})
}
