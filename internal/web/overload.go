package web

import (
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

// enter takes a slot for a request about to hash, waiting at most MaxWait
// behind at most Queue others. Without a slot it has answered the request
// (503) and ok is false. A nil gate always admits.
func (g *HashGate) enter(w http.ResponseWriter, r *http.Request, out *responder) (release func(), ok bool) {
	if g == nil {
		return func() {}, true
	}
	select {
	case g.admitted <- struct{}{}:
	default:
		g.reject(w, r, out)
		return nil, false
	}
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots; <-g.admitted }, true
	case <-timer.C:
		<-g.admitted
		g.reject(w, r, out)
		return nil, false
	case <-r.Context().Done():
		<-g.admitted
		return nil, false // the client left; nobody to answer
	}
}

func (g *HashGate) reject(w http.ResponseWriter, r *http.Request, out *responder) {
	g.rejected.Add(1)
	// One second: the time a handful of hashes takes to drain.
	w.Header().Set("Retry-After", "1")
	out.error(w, r, errOverloaded)
}
