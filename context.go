package gatehouse

import "context"

type contextKey int

const userKey contextKey = iota

// NewContextWithUser returns a copy of ctx carrying the authenticated user.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey, u)
}

// UserFromContext returns the authenticated user carried by ctx, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userKey).(*User)
	return u
}

const requestInfoKey contextKey = iota + 1

// RequestInfo is what the HTTP layer knows about who is asking, carried in
// the context so that use cases can record it (audit log, sessions) without
// knowing HTTP.
type RequestInfo struct {
	ID        string // the request id (X-Request-ID)
	ClientIP  string // the client's address, proxies accounted for
	UserAgent string
}

// NewContextWithRequestInfo returns a copy of ctx carrying ri.
func NewContextWithRequestInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey, ri)
}

// RequestInfoFrom returns the request facts carried by ctx, or the zero value.
func RequestInfoFrom(ctx context.Context) RequestInfo {
	if ri, ok := ctx.Value(requestInfoKey).(*RequestInfo); ok {
		return *ri
	}
	return RequestInfo{}
}
