package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

type claimsKey struct{}

// ContextWithClaims returns a copy of ctx carrying c, as [Verifier.Middleware]
// does for a verified request. Handler tests can use it to skip tokens.
func ContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims [Verifier.Middleware] verified for the
// request whose context is ctx.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// Middleware lets through only requests with a valid gatehouse access token
// in an "Authorization: Bearer" header (RFC 6750 §2.1), and puts the token's
// claims in the request context for [ClaimsFromContext].
//
// Other requests get 401 with a JSON body {"detail": …, "code":
// "invalid_token"} and a "WWW-Authenticate: Bearer" challenge, with
// error="invalid_token" when a token was sent (§3.1). The reason a token was
// refused is logged at debug level, never told to the client. When the
// revocation data is too stale to decide ([ErrUnavailable]) the answer is
// 503 with code "temporarily_unavailable" and Retry-After, so that clients
// retry instead of logging in again.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := v.authenticate(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), c)))
	})
}

// RequireScope returns middleware that lets through only requests whose
// token grants scope (one of the space-separated values of its "scope"
// claim). A request already verified by [Verifier.Middleware] is not verified
// again; any other is verified first, answered as Middleware does. A token
// without the scope gets 403 with code "insufficient_scope" and an RFC 6750
// §3.1 challenge naming the scope.
//
// RequireScope panics if scope is not a valid scope token (RFC 6749 §3.3):
// that is a programming error, found at start-up.
func (v *Verifier) RequireScope(scope string) func(http.Handler) http.Handler {
	if !validScope(scope) {
		panic("verifier: RequireScope: invalid scope " + strconv.Quote(scope))
	}
	challenge := `Bearer error="insufficient_scope", scope="` + scope + `"`
	return v.require(func(c *Claims) bool { return c.HasScope(scope) },
		challenge, "insufficient_scope", "The access token does not grant the scope "+scope)
}

// authenticate verifies the request's bearer token, answering the request
// itself when it fails.
func (v *Verifier) authenticate(w http.ResponseWriter, r *http.Request) (*Claims, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		writeError(w, http.StatusUnauthorized, "Bearer", "invalid_token", "Not authenticated")
		return nil, false
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimLeft(token, " ")
	var err error
	var c *Claims
	if !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		err = errors.New("malformed Authorization header")
	} else {
		c, err = v.Verify(r.Context(), token)
	}
	switch {
	case err == nil:
		return c, true
	case errors.Is(err, ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "", "temporarily_unavailable", "The access token cannot be checked right now; try again shortly")
	default:
		v.log.LogAttrs(r.Context(), slog.LevelDebug, "verifier: token refused", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("reason", err.Error()))
		writeError(w, http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token", "Could not validate credentials")
	}
	return nil, false
}

// writeError answers {"detail": detail, "code": code}, gatehouse's error shape.
func writeError(w http.ResponseWriter, status int, challenge, code, detail string) {
	body, _ := json.Marshal(struct {
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}{detail, code})
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// validScope reports whether s is a scope-token: %x21 / %x23-5B / %x5D-7E,
// which is also safe inside a quoted header value.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
