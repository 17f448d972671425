package web

import (
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// handleRefresh exchanges a refresh token (JSON {refresh_token}) for a new
// pair. It is the JSON twin of the token endpoint's refresh_token grant.
func handleRefresh(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStrings(w, r, "refresh_token")
		if !ok {
			return
		}
		pair, err := svc.Refresh(r.Context(), in["refresh_token"], clientOf(r, "", ""))
		if err != nil {
			out.error(w, r, err)
			return
		}
		writeTokens(w, pair)
	})
}

// handleLogout revokes the caller's session (?all=true: every session of the
// user). The access token used here is refused from the next request on, here
// and, through the revocation feed, at resource servers.
func handleLogout(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all := false
		switch v := r.URL.Query().Get("all"); v {
		case "", "false", "0":
		case "true", "1":
			all = true
		default:
			out.error(w, r, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"query", "all"}, Type: "bool_parsing"}))
			return
		}
		if err := svc.Logout(r.Context(), gatehouse.UserFromContext(r.Context()), sessionIDFrom(r.Context()), all); err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleListSessions lists the caller's live sessions, marking the one the
// request's token belongs to.
func handleListSessions(svc *auth.Service, out *responder) http.Handler {
	type session struct {
		ID         string    `json:"id"`
		CreatedAt  time.Time `json:"created_at"`
		LastUsedAt time.Time `json:"last_used_at"`
		ExpiresAt  time.Time `json:"expires_at"`
		ClientIP   string    `json:"client_ip"`
		UserAgent  string    `json:"user_agent"`
		ClientID   string    `json:"client_id,omitempty"`
		Current    bool      `json:"current"`
	}
	type response struct {
		Sessions []session `json:"sessions"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.Sessions(r.Context(), gatehouse.UserFromContext(r.Context()))
		if err != nil {
			out.error(w, r, err)
			return
		}
		current := sessionIDFrom(r.Context())
		res := response{Sessions: make([]session, 0, len(list))}
		for _, s := range list {
			res.Sessions = append(res.Sessions, session{
				ID: s.ID, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt,
				ClientIP: s.ClientIP, UserAgent: s.UserAgent, ClientID: s.ClientID, Current: s.ID == current,
			})
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, res)
	})
}

// handleRevokeSession revokes one of the caller's sessions; 404 for an id
// that is not one of the caller's live sessions (whether it exists for
// someone else is not told).
func handleRevokeSession(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.RevokeSession(r.Context(), gatehouse.UserFromContext(r.Context()), r.PathValue("id")); err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleChangePassword changes the caller's password; every other session of
// the user is revoked, the caller's stays.
func handleChangePassword(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStrings(w, r, "current_password", "new_password")
		if !ok {
			return
		}
		err := svc.ChangePassword(r.Context(), gatehouse.UserFromContext(r.Context()), sessionIDFrom(r.Context()),
			in["current_password"], in["new_password"])
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
