package verifier

import (
	"net/http"
	"slices"
	"strconv"
)

// HasRole reports whether role is one of c.Roles, the token's "roles"
// claim. Roles are what the user held when the token was issued: a change
// reaches tokens at the user's next login or refresh, so within an access
// token's lifetime (minutes) a removed role still shows here.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// RequireRole returns middleware that lets through only requests whose
// token carries role in its "roles" claim. A request already verified by
// [Verifier.Middleware] is not verified again; any other is verified first,
// answered as Middleware does. A token without the role gets 403 with code
// "forbidden" (gatehouse's own code for a missing role) and an RFC 6750 §3.1
// insufficient_scope challenge.
//
// RequireRole panics if role is not a gatehouse role name (1 to 64 bytes of
// a-z, 0-9, '_', ':' and '-'): that is a programming error, found at
// start-up.
func (v *Verifier) RequireRole(role string) func(http.Handler) http.Handler {
	if !validRole(role) {
		panic("verifier: RequireRole: invalid role " + strconv.Quote(role))
	}
	return v.require(func(c *Claims) bool { return c.HasRole(role) },
		`Bearer error="insufficient_scope"`, "forbidden", "The access token does not carry the role "+role)
}

// require returns middleware that verifies the request as Middleware does
// (unless it already has) and then lets it through only if ok holds of its
// claims, answering 403 with challenge, code and detail otherwise.
func (v *Verifier) require(ok func(*Claims) bool, challenge, code, detail string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		check := func(w http.ResponseWriter, r *http.Request, c *Claims) {
			if !ok(c) {
				writeError(w, http.StatusForbidden, challenge, code, detail)
				return
			}
			next.ServeHTTP(w, r)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, found := ClaimsFromContext(r.Context()); found {
				check(w, r, c)
				return
			}
			c, authenticated := v.authenticate(w, r)
			if !authenticated {
				return
			}
			check(w, r.WithContext(ContextWithClaims(r.Context(), c)), c)
		})
	}
}

// validRole repeats gatehouse.ValidRole: this package imports nothing of
// the server's.
func validRole(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
