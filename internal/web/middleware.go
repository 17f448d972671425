package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	sessionIDKey
)

// clientIPFrom returns the client address found by realIP.
func clientIPFrom(ctx context.Context) string {
	return gatehouse.RequestInfoFrom(ctx).ClientIP
}

// realIP finds the client's address once per request. X-Forwarded-For is
// believed only from a trusted proxy, and then read from the right: each
// trusted hop appended the address it saw, so the right-most address that
// is not a trusted proxy is the client; anything left of it could have been
// written by the client itself.
func realIP(trusted []netip.Prefix, header string) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	hopsOf := forwardedForHops
	if header == ProxyHeaderForwarded {
		hopsOf = forwardedHops
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := peerAddr(r)
			if len(trusted) > 0 && isTrusted(ip) {
				hops := hopsOf(r.Header)
				for i := len(hops) - 1; i >= 0; i-- {
					a, err := netip.ParseAddr(hops[i])
					if err != nil {
						break // garbage (or "unknown"): stop at the last address we could trust
					}
					ip = a.Unmap()
					if !isTrusted(ip) {
						break
					}
				}
			}
			s := ""
			if ip.IsValid() {
				s = ip.String()
			}
			// One value carries the request facts the use cases record.
			ri := &gatehouse.RequestInfo{ID: requestIDFrom(r.Context()), ClientIP: s, UserAgent: r.UserAgent()}
			next.ServeHTTP(w, r.WithContext(gatehouse.NewContextWithRequestInfo(r.Context(), ri)))
		})
	}
}

// The headers a trusted proxy may name the client in. Only the one the
// proxy writes is read: a proxy that writes one header passes the other
// through from the client untouched, so believing both would let any client
// choose its address.
const (
	ProxyHeaderXForwardedFor = "x-forwarded-for"
	ProxyHeaderForwarded     = "forwarded" // RFC 7239
)

// forwardedForHops lists the addresses of X-Forwarded-For, left to right.
func forwardedForHops(h http.Header) []string {
	hops := strings.Split(strings.Join(h.Values("X-Forwarded-For"), ","), ",")
	for i := range hops {
		hops[i] = strings.TrimSpace(hops[i])
	}
	return hops
}

// forwardedHops lists the for= addresses of RFC 7239 Forwarded headers, left
// to right: `for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`. A hop
// without a for= parameter, or with an obfuscated or "unknown" one, yields a
// value that does not parse as an address, which stops the walk there.
func forwardedHops(h http.Header) []string {
	var hops []string
	for _, elem := range strings.Split(strings.Join(h.Values("Forwarded"), ","), ",") {
		node := ""
		for _, pair := range strings.Split(elem, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "for") {
				node = strings.Trim(v, `"`)
			}
		}
		// Strip a port: "[2001:db8::1]:4711" or "192.0.2.60:8080".
		if strings.HasPrefix(node, "[") {
			if end := strings.IndexByte(node, ']'); end > 0 {
				node = node[1:end]
			}
		} else if host, _, err := net.SplitHostPort(node); err == nil {
			node = host
		}
		hops = append(hops, node)
	}
	return hops
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// sessionIDFrom returns the session id of the request's access token.
func sessionIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(sessionIDKey).(string)
	return id
}

// requestIDFrom returns the request id carried by ctx, or "".
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// requestID takes the caller's X-Request-ID when it is a short token of safe
// characters (it ends up in logs, so nothing that could forge a log line), or
// makes one, and echoes it in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// securityHeaders sets the headers every response carries. API responses are
// never meant to be framed, sniffed or cached by shared caches.
func securityHeaders(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			// API answers are data, never documents: nothing may run,
			// load or frame them. The docs page replaces this with a
			// policy of its own.
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Referrer-Policy", "no-referrer")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// recoverPanics turns a panic into a logged 500 JSON error instead of a
// dropped connection. http.ErrAbortHandler keeps its meaning.
func recoverPanics(out *responder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				out.log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("request_id", requestIDFrom(r.Context())),
					slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
				out.error(w, r, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// jsonMuxErrors rewrites the ServeMux's own plain-text 404 and 405 answers as
// JSON errors, keeping the Allow header of a 405. Our handlers never answer
// text/plain, so a text/plain 404/405 can only come from the mux (or from
// http.Error in a file server), and nothing else is touched.
func jsonMuxErrors(out *responder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r, out: out}, r)
		})
	}
}

type muxErrorWriter struct {
	http.ResponseWriter
	r         *http.Request
	out       *responder
	swallowed bool
}

func (m *muxErrorWriter) WriteHeader(status int) {
	if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(m.Header().Get("Content-Type"), "text/plain") {
		m.swallowed = true
		code := gatehouse.CodeNotFound
		if status == http.StatusMethodNotAllowed {
			code = gatehouse.CodeMethodNotAllowed
		}
		m.Header().Del("Content-Length")
		m.out.error(m.ResponseWriter, m.r, &gatehouse.Error{Code: code})
		return
	}
	m.ResponseWriter.WriteHeader(status)
}

func (m *muxErrorWriter) Write(b []byte) (int, error) {
	if m.swallowed {
		return len(b), nil
	}
	return m.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (m *muxErrorWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// notFound answers 404 as JSON.
func notFound(out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeNotFound})
	})
}

// limitBody caps the request body at max bytes. A declared Content-Length
// over the cap is refused before reading anything.
func limitBody(max int64, out *responder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				out.error(w, r, bodyError(&http.MaxBytesError{Limit: max}))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

var errNoCredentials = errors.New("no bearer credentials")

// requireUser authenticates the request's bearer token and puts the user in
// the context; without a valid token it answers 401 with a WWW-Authenticate
// challenge.
func requireUser(svc *auth.Service, out *responder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := bearerToken(r)
			if err != nil {
				out.error(w, r, err)
				return
			}
			u, claims, err := svc.Authenticate(r.Context(), token)
			if err != nil {
				out.error(w, r, err)
				return
			}
			ctx := gatehouse.NewContextWithUser(r.Context(), u)
			ctx = context.WithValue(ctx, sessionIDKey, claims.SessionID)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// bearerToken extracts the token of an "Authorization: Bearer …" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", &gatehouse.Error{Code: gatehouse.CodeInvalidToken, Key: "not_authenticated", Err: errNoCredentials}
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", &gatehouse.Error{Code: gatehouse.CodeInvalidToken, Err: errors.New("malformed Authorization header")}
	}
	return token, nil
}
