package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultSessionsEvery is how often ActiveSessions counts when given no
// interval.
const DefaultSessionsEvery = time.Minute

// sessionsQueryTimeout bounds one count. It is shorter than the scrape
// handler's timeout, so a slow database costs one stale sample rather than a
// failed scrape.
const sessionsQueryTimeout = 5 * time.Second

// ActiveSessions exports gatehouse_active_sessions, the number count
// reports (the store's count of live sessions), counting at most once per
// every (DefaultSessionsEvery if every <= 0).
//
// It is a collector with a cached value, not a background loop: the count
// runs during a scrape once the cached value is older than every, so there
// is no goroutine to start and stop, no query while nobody scrapes, and any
// number of scrapers cost one query per interval. The scrape that refreshes
// waits for the query (bounded by sessionsQueryTimeout); concurrent scrapes
// wait for the same query rather than running their own.
//
// A failed count keeps the last value, counts the failure in
// gatehouse_active_sessions_refresh_errors_total and is not retried before
// the next interval, so that a struggling database is not hammered by
// scrapes. Until the first count succeeds the gauge is absent rather than a
// misleading 0.
func (m *Metrics) ActiveSessions(count func(context.Context) (int64, error), every time.Duration) {
	if every <= 0 {
		every = DefaultSessionsEvery
	}
	c := &sessionsCollector{
		desc: prometheus.NewDesc(namespace+"_active_sessions",
			"Sessions that are neither expired nor revoked, counted at most once per refresh interval.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "active_sessions_refresh_errors_total",
			Help: "Failed counts of active sessions; the gauge keeps its last value meanwhile.",
		}),
		count: count,
		every: every,
		now:   m.now,
	}
	m.reg.MustRegister(c)
}

type sessionsCollector struct {
	desc   *prometheus.Desc
	errors prometheus.Counter
	count  func(context.Context) (int64, error)
	every  time.Duration
	now    func() time.Time

	mu    sync.Mutex
	tried time.Time // when count last ran, successful or not
	value int64
	have  bool // value holds a successful count
}

// Describe and Collect cover the errors counter too: the registry runs
// collectors concurrently, so a separately registered counter could be read
// before this scrape's failed count was added to it.
func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	c.errors.Describe(ch)
}

func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.tried.IsZero() || now.Sub(c.tried) >= c.every {
		c.tried = now
		// Collect has no context of its own; the scrape handler's timeout
		// does not cancel collectors, so this one bounds itself.
		ctx, cancel := context.WithTimeout(context.Background(), sessionsQueryTimeout)
		n, err := c.count(ctx)
		cancel()
		if err != nil {
			c.errors.Inc()
		} else {
			c.value, c.have = n, true
		}
	}
	if c.have {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.value))
	}
	c.errors.Collect(ch)
}
