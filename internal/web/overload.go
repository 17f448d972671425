package web

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// HashGate bounds the requests that hash a password (login, register, the
// password grant, password change). Hashing is deliberately expensive — one
// argon2id costs ~30 ms of a core and 19 MiB — so without a bound a login
// flood queues without end, every login times out, and everything else on
// the machine starves for CPU.
//
// At most Concurrency such requests run at once; up to Queue more wait, each
// at most MaxWait; anything beyond is answered 503 with Retry-After at once,
// which costs microseconds. Requests that verify a token (/users/me, refresh)
// never pass through the gate, so they never wait behind a hash.
type HashGate struct {
	slots    chan struct{} // one token per running request
	admitted chan struct{} // one token per running or waiting request
	maxWait  time.Duration
	rejected atomic.Uint64
}

// NewHashGate returns a gate; concurrency and queue below 1 become 1 and 0.
func NewHashGate(concurrency, queue int, maxWait time.Duration) *HashGate {
	concurrency = max(concurrency, 1)
	queue = max(queue, 0)
	return &HashGate{
		slots:    make(chan struct{}, concurrency),
		admitted: make(chan struct{}, concurrency+queue),
		maxWait:  maxWait,
	}
}

// Waiting returns how many requests wait for a slot (for metrics).
func (g *HashGate) Waiting() int { return max(len(g.admitted)-len(g.slots), 0) }

// Running returns how many gated requests run.
func (g *HashGate) Running() int { return len(g.slots) }

// Rejected returns how many requests the gate has turned away.
func (g *HashGate) Rejected() uint64 { return g.rejected.Load() }

var errOverloaded = &gatehouse.Error{Code: gatehouse.CodeOverloaded}

// wrap gates next. A nil gate lets everything through.
func (g *HashGate) wrap(out *responder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if g == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			release, ok := g.enter(w, r, out)
			if !ok {
				return
			}
			defer release()
			next.ServeHTTP(w, r)
		})
	}
}

// enter takes a slot for a request about to hash. Without a slot it has
// answered the request (503) and ok is false. A nil gate always admits.
func (g *HashGate) enter(w http.ResponseWriter, r *http.Request, out *responder) (release func(), ok bool) {
	release, err := g.Acquire(r.Context())
	switch {
	case err == nil:
		return release, true
	case r.Context().Err() != nil:
		return nil, false // the client left; nobody to answer
	}
	w.Header().Set("Retry-After", "1") // the time a handful of hashes takes to drain
	out.error(w, r, err)
	return nil, false
}

// Acquire takes a slot for work about to hash a password, waiting at most
// MaxWait behind at most Queue others; release gives it back. When no slot
// frees in time it returns a CodeOverloaded error (the caller answers 503
// with Retry-After: 1), and ctx's error when ctx ends first. The hosted
// pages use it directly, to answer in HTML. A nil gate always admits.
func (g *HashGate) Acquire(ctx context.Context) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	select {
	case g.admitted <- struct{}{}:
	default:
		g.rejected.Add(1)
		return nil, errOverloaded
	}
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots; <-g.admitted }, nil
	case <-timer.C:
		<-g.admitted
		g.rejected.Add(1)
		return nil, errOverloaded
	case <-ctx.Done():
		<-g.admitted
		return nil, ctx.Err()
	}
}
