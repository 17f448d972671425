// Package metrics is gatehouse's Prometheus instrumentation: HTTP requests by
// route, login outcomes, the password-hashing gate, rate-limit hits, active
// sessions and the revocation set, plus the Go runtime and process
// collectors, served by Handler in the text exposition format.
//
// Everything lives in the Metrics value's own registry, never in the
// prometheus default registry, so that two servers in one process (tests)
// do not collide and nothing a library registers globally leaks into our
// scrape. Every label has a bounded set of values: a label per raw path,
// user or client address would let any caller create series without limit.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every gatehouse metric, so that dashboards can tell ours
// from the go_ and process_ collectors' and from other services'.
const namespace = "gatehouse"

// Login outcomes counted by LoginOutcome. Any other value is counted as
// OutcomeOther, so that a new error code or a typo cannot add series.
const (
	OutcomeSuccess            = "success"
	OutcomeInvalidCredentials = "invalid_credentials"
	OutcomeInactiveUser       = "inactive_user"
	OutcomeMFARequired        = "mfa_required"
	OutcomeInvalidRequest     = "invalid_request"
	OutcomeRateLimited        = "rate_limited"
	OutcomeOverloaded         = "overloaded"
	OutcomeError              = "error"
	OutcomeOther              = "other"
)

var loginOutcomes = []string{
	OutcomeSuccess, OutcomeInvalidCredentials, OutcomeInactiveUser, OutcomeMFARequired,
	OutcomeInvalidRequest, OutcomeRateLimited, OutcomeOverloaded, OutcomeError, OutcomeOther,
}

// maxLimitNames bounds the distinct values of the limit label of
// gatehouse_rate_limited_total. Limit names come from code, so a handful is
// expected; past the bound they are counted as "other" rather than trusted.
const maxLimitNames = 32

// DurationBuckets are the request-latency histogram's upper bounds, in
// seconds. Most routes answer from memory in 50µs–5ms; the ones that hash a
// password (login, register, password change, token) take ~30ms–2s, so the
// buckets are dense over both ranges and stop at 5s: anything slower is an
// outage or a long poll, where the exact figure no longer matters.
var DurationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25,
	0.5, 1, 2, 5,
}

// Metrics holds gatehouse's instruments and the registry they are served
// from. Its methods are safe for concurrent use. The registering methods
// (HashQueue, ActiveSessions, RevocationSet) are meant to be called once each
// at start-up: a second call panics, as a duplicate registration is a wiring
// bug.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests *prometheus.CounterVec   // {route, code}
	duration *prometheus.HistogramVec // {route}
	inFlight *prometheus.GaugeVec     // {route}

	logins      map[string]prometheus.Counter // read-only after New
	rateLimited *prometheus.CounterVec        // {limit}
	limitsMu    sync.Mutex
	limits      sync.Map // limit name → prometheus.Counter; at most maxLimitNames entries
	limitsN     int      // guarded by limitsMu

	// now is the clock ActiveSessions uses to decide when its cached value
	// is stale; tests replace it.
	now func() time.Time
}

// New returns a Metrics with every gatehouse instrument and the Go runtime
// and process collectors registered in a fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from a request reaching its route until its handler returned, by route pattern.",
			Buckets: DurationBuckets,
		}, []string{"route"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being handled, by route pattern.",
		}, []string{"route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_total",
			Help: "Requests refused by a rate limit, by limit.",
		}, []string{"limit"}),
		now: time.Now,
	}
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "logins_total",
		Help: "Login attempts, by outcome.",
	}, []string{"outcome"})
	// Every outcome exists from the start at 0, so that rate() and alerts on
	// a rare outcome work before its first occurrence.
	m.logins = make(map[string]prometheus.Counter, len(loginOutcomes))
	for _, o := range loginOutcomes {
		m.logins[o] = logins.WithLabelValues(o)
	}
	reg.MustRegister(
		m.requests, m.duration, m.inFlight, logins, m.rateLimited,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// One failing collector (say, the session count while the database
		// is down) must not blank the whole scrape; its failures are counted
		// in promhttp_metric_handler_errors_total instead.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
		// Scrapes are few; a bound keeps a flood of them (when /metrics is
		// reachable by more than the scraper) from piling up work.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	return m
}

// Registry returns the registry the instruments live in, for tests and for
// callers that add collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats
// (negotiated; text by default). It is built once in New, so that the
// handler's own metrics are registered once however often it is asked for.
func (m *Metrics) Handler() http.Handler { return m.handler }

// LoginOutcome counts one login attempt in gatehouse_logins_total. Outcomes
// outside the Outcome* constants are counted as "other".
func (m *Metrics) LoginOutcome(outcome string) {
	c, ok := m.logins[outcome]
	if !ok {
		c = m.logins[OutcomeOther]
	}
	c.Inc()
}

// RateLimited counts one request refused by the named limit (say
// "login_ip") in gatehouse_rate_limited_total. Names should be constants;
// past maxLimitNames distinct names the rest are counted as "other".
func (m *Metrics) RateLimited(limit string) {
	if c, ok := m.limits.Load(limit); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	m.limitsMu.Lock()
	c, ok := m.limits.Load(limit)
	if !ok {
		if m.limitsN >= maxLimitNames {
			// Not remembered: the map must stay as bounded as the series.
			m.limitsMu.Unlock()
			m.rateLimited.WithLabelValues("other").Inc()
			return
		}
		c = m.rateLimited.WithLabelValues(limit)
		m.limits.Store(limit, c)
		m.limitsN++
	}
	m.limitsMu.Unlock()
	c.(prometheus.Counter).Inc()
}

// HashQueue exports the password-hashing gate: depth is how many hashes wait
// for a slot, rejected how many were refused (answered "overloaded") since
// start. Both are read at scrape time, so the gate needs no hook of ours on
// its own hot path.
func (m *Metrics) HashQueue(depth func() int, rejected func() uint64) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "password_hash", Name: "queue_depth",
			Help: "Password hashes waiting for a hashing slot.",
		}, func() float64 { return float64(depth()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "password_hash", Name: "rejected_total",
			Help: "Password hashes refused because the hashing queue was full.",
		}, func() float64 { return float64(rejected()) }),
	)
}

// RevocationSet exports the size of this instance's in-memory revocation set
// (revoked sessions whose tokens have not expired yet), read at scrape time.
// Its growth is what an operator watches for after a mass logout.
func (m *Metrics) RevocationSet(size func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "revocation_set_size",
		Help: "Entries in this instance's in-memory revocation set.",
	}, func() float64 { return float64(size()) }))
}
