package pages

import (
	"net/url"
	"strings"
)

// originList is the set of origins a sign-in may redirect to. Only an
// absolute http(s) URL whose origin is on the list is followed: anything else
// would make the sign-in page an open redirector, a phishing tool that
// borrows this server's name.
type originList map[string]bool

func newOriginList(origins []string) originList {
	l := originList{}
	for _, o := range origins {
		if u, err := url.Parse(strings.TrimSpace(o)); err == nil && u.Host != "" {
			l[strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host)] = true
		}
	}
	return l
}

// origins lists the allowed origins (for the Content-Security-Policy).
func (l originList) origins() []string {
	out := make([]string, 0, len(l))
	for o := range l {
		out = append(out, o)
	}
	return out
}

// check returns the redirect target's origin when raw may be redirected to.
// The empty string is allowed (no redirect) and gives "".
func (l originList) check(raw string) (origin string, ok bool) {
	if raw == "" {
		return "", true
	}
	if len(raw) > 2048 || strings.ContainsAny(raw, "\\\r\n\t") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	origin = strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
	return origin, l[origin]
}
