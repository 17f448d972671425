package web

import (
	"net/http"
	"strconv"
	"strings"
)

// CORS lets browser apps on other origins call the API. Origins are matched
// exactly (scheme, host and port, as the browser sends them); "*" allows any
// origin but never together with credentials, which the configuration
// refuses and this code would not honour anyway.
type CORS struct {
	Origins     []string // exact origins, or the single entry "*"
	Credentials bool     // allow cookies and HTTP authentication
}

// corsMaxAge is how long a browser may cache a preflight answer.
const corsMaxAge = 10 * 60

// cors answers preflight requests and marks responses for allowed origins.
// With no origins configured it does nothing: same-origin only.
func cors(c CORS) func(http.Handler) http.Handler {
	allowed := make(map[string]bool, len(c.Origins))
	any := false
	for _, o := range c.Origins {
		if o == "*" {
			any = true
		}
		allowed[o] = true
	}
	credentials := c.Credentials && !any
	return func(next http.Handler) http.Handler {
		if len(allowed) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			h := w.Header()
			h.Add("Vary", "Origin")
			if origin == "" || !(any || allowed[origin]) {
				next.ServeHTTP(w, r)
				return
			}
			if any {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			if credentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept-Language, X-Request-ID")
				h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Expose-Headers", strings.Join([]string{"Retry-After", "X-Request-ID", "WWW-Authenticate"}, ", "))
			next.ServeHTTP(w, r)
		})
	}
}
