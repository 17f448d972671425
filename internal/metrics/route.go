package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Route wraps the handler of one route so that its requests are counted in
// gatehouse_http_requests_total{route,code}, timed in
// gatehouse_http_request_duration_seconds{route} and tracked in
// gatehouse_http_requests_in_flight{route}.
//
// The route label is pattern, the ServeMux pattern the handler is registered
// under ("GET /users/me/sessions/{id}"), never the request's path: paths are
// chosen by clients, and a label per path would let anyone grow the series
// without bound. Requests the mux answers itself (404, 405) reach no route
// and are not counted here.
//
// A request whose handler panics before writing a status is counted as 500,
// which is what the panic-recovery middleware answers.
func (m *Metrics) Route(pattern string, h http.Handler) http.Handler {
	// The label values are fixed per route, so the series are looked up once
	// here rather than hashed on every request.
	rm := &routeMetrics{
		requests: m.requests.MustCurryWith(prometheus.Labels{"route": pattern}),
		duration: m.duration.WithLabelValues(pattern),
		inFlight: m.inFlight.WithLabelValues(pattern),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rm.inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		start := time.Since(epoch)
		defer rm.done(sw, start)
		h.ServeHTTP(sw, r)
		sw.returned = true
	})
}

// routeMetrics are one route's series.
type routeMetrics struct {
	requests *prometheus.CounterVec // curried with the route; only code left
	duration prometheus.Observer
	inFlight prometheus.Gauge
	// byCode caches the counter of each status code 100–599 once seen, so
	// that the common case costs one atomic load instead of formatting the
	// code and hashing the labels. Codes are filled lazily: a series exists
	// only for codes the route has actually answered.
	byCode [500]atomic.Pointer[prometheus.Counter]
}

// epoch is the reference that request start times are measured from. Since
// on a time carrying a monotonic reading reads only the monotonic clock,
// where time.Now also reads the wall clock; on virtual machines each clock
// read is the bulk of the wrapper's cost.
var epoch = time.Now()

// done records one request that started at start (since epoch).
func (rm *routeMetrics) done(sw *statusWriter, start time.Duration) {
	code := sw.code
	if code == 0 {
		code = http.StatusOK // net/http answers 200 for a handler that wrote nothing
		if !sw.returned {
			code = http.StatusInternalServerError
		}
	}
	rm.counter(code).Inc()
	rm.duration.Observe((time.Since(epoch) - start).Seconds())
	rm.inFlight.Dec()
}

func (rm *routeMetrics) counter(code int) prometheus.Counter {
	if code < 100 || code > 599 {
		return rm.requests.WithLabelValues(strconv.Itoa(code))
	}
	slot := &rm.byCode[code-100]
	if c := slot.Load(); c != nil {
		return *c
	}
	// Two first requests may race here; both get the same child from the
	// vector, so whichever store wins is right.
	c := rm.requests.WithLabelValues(strconv.Itoa(code))
	slot.Store(&c)
	return c
}

// statusWriter records the final status code written through it. It is kept
// minimal: every optional capability (deadlines, hijacking, full duplex) is
// reached by http.ResponseController through Unwrap, so nothing is hidden
// from a handler and no combination of interfaces has to be generated.
// Flush is implemented directly only because handlers may still assert
// http.Flusher, and a flush sends the header (200 if none was set).
type statusWriter struct {
	http.ResponseWriter
	code     int  // final status; 0 until the header is written
	returned bool // the handler returned rather than panicked
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx answers other than 101 are informational (103 Early Hints) and
	// are followed by the real status.
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// FlushError is what http.ResponseController.Flush calls; it reports, rather
// than hides, a writer underneath that cannot flush.
func (w *statusWriter) FlushError() error {
	if err := http.NewResponseController(w.ResponseWriter).Flush(); err != nil {
		return err
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return nil
}

// Flush implements http.Flusher for handlers that assert it.
func (w *statusWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
