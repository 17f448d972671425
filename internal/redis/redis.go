// Package redis keeps the state that several gatehouse instances must share at
// once in Redis: which sessions were just revoked, and news that a user changed.
//
// Redis is optional and never the source of truth. The revocation log in the
// database is; each instance follows it into an in-process set (a
// LocalRevocations) every sync interval. Redis only closes the gap between a
// revocation committed through one instance and the next sync of the others:
// the revoking instance writes a key per revoked session before its request
// returns, and every instance asks Redis about a session its local set does
// not know. So a session revoked through instance A is refused by instance B
// on the very next request, at the cost of one Redis round trip per
// authenticated request.
//
// When Redis fails, a check it does not answer within Options.CommandTimeout
// counts as "not revoked as far as Redis knows", and after three failures in
// a row Redis is not asked at all for a second (then one command probes it),
// so an outage costs a request a map look-up, not a timeout. That is neither
// failing open for good nor failing closed: revocations made through other
// instances are seen after those instances' next database sync (the sync
// interval) instead of at once, the bound gatehouse has without Redis.
// Failing closed (refusing every token Redis cannot vouch for) would turn an
// outage of an optional cache into an outage of every service that
// authenticates through gatehouse. An outage is logged once when it starts and
// once when it ends; Stats reports it.
//
// Pub/sub carries two kinds of news between instances: "revocations changed"
// (each instance syncs its local set at once, which also wakes the
// revocation feed's long polls) and "user changed" (each instance's user cache
// forgets the user at once instead of within its TTL). Messages published
// while an instance is disconnected are lost, so the subscriber syncs once
// more whenever it has (re)subscribed; a user cache's TTL bounds what a lost
// "user changed" can cost. Users announces the writes made through it.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
)

// Defaults for Options.
const (
	DefaultPrefix         = "gatehouse:"
	DefaultCommandTimeout = 100 * time.Millisecond
	DefaultLeeway         = time.Minute
)

const (
	// openTimeout bounds the ping Open makes, so that a misconfigured or
	// unreachable Redis stops the start-up instead of hanging it.
	openTimeout = 5 * time.Second
	// failureThreshold consecutive failures mark Redis down; one success
	// marks it up again.
	failureThreshold = 3
	// backOff is how long Redis is not asked once it is down; then one
	// command probes it. Of the order of the revocation sync interval, so a
	// recovered Redis is used again about as fast as the database is re-read.
	backOff = time.Second
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Prefix starts every key and the pub/sub channel, so that several
	// deployments (or tests) can share one Redis. Default DefaultPrefix.
	Prefix string
	// CommandTimeout bounds each command, including the per-request
	// revocation check. Default DefaultCommandTimeout.
	CommandTimeout time.Duration
	// Leeway is how long after its ExpiresAt a revocation is remembered: the
	// clock skew the token verifier tolerates on exp, during which an access
	// token of the revoked session still verifies. Default DefaultLeeway
	// (the largest leeway internal/tokens allows).
	Leeway time.Duration
	// Logger receives the outage and recovery messages. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Client is a connection pool to Redis with the gatehouse key layout, and
// the circuit breaker every command goes through. It is safe for concurrent
// use.
type Client struct {
	rdb           *goredis.Client
	channel       string // pub/sub channel for Listen and the announcements
	revokedPrefix string // key of revoked session sid: revokedPrefix + sid
	ratePrefix    string // key of a rate limit budget: ratePrefix + key
	timeout       time.Duration
	leeway        time.Duration
	log           *slog.Logger
	now           func() time.Time
	breaker       breaker
}

var _ gatehouse.Pinger = (*Client)(nil)

// Open connects to the Redis at rawURL (redis://, rediss:// for TLS, or
// unix://, with go-redis's query parameters) and pings it once, so that a
// wrong address or password stops the start-up.
func Open(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	o, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	c := newClient(o, opts)
	pctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := c.rdb.Ping(pctx).Err(); err != nil {
		c.rdb.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", o.Addr, err)
	}
	return c, nil
}

// parseURL returns go-redis options for rawURL, adjusted so that a command's
// context bounds everything it waits for.
func parseURL(rawURL string) (*goredis.Options, error) {
	o, err := goredis.ParseURL(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included, and start-up
		// errors end up in logs: keep only the reason.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis: invalid URL: %w", err)
	}
	// Without this, go-redis ignores the context's deadline on the socket and
	// waits its own ReadTimeout (seconds) for an answer.
	o.ContextTimeoutEnabled = true
	// Retries belong to the breaker: go-redis retrying a refused dial or a
	// failed command inside one request only turns a fast failure into a
	// timeout. Kept when the URL sets them.
	if o.MaxRetries == 0 {
		o.MaxRetries = -1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	return o, nil
}

// newClient returns a Client on o without contacting Redis.
func newClient(o *goredis.Options, opts Options) *Client {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	if opts.Leeway <= 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Client{
		rdb:           goredis.NewClient(o),
		channel:       opts.Prefix + "events",
		revokedPrefix: opts.Prefix + "revoked:",
		ratePrefix:    opts.Prefix + "rl:",
		timeout:       opts.CommandTimeout,
		leeway:        opts.Leeway,
		log:           opts.Logger,
		now:           opts.Now,
	}
	c.breaker.init(opts.Now, opts.Logger)
	return c
}

// Close closes the connections; Listen returns.
func (c *Client) Close() error {
	return c.rdb.Close()
}

// Ping reports whether Redis answers. It implements gatehouse.Pinger, but
// see the package doc: gatehouse serves without Redis, so a failed Ping means
// "degraded", not "not ready".
func (c *Client) Ping(ctx context.Context) error {
	return c.rdb.Ping(ctx).Err()
}

// Stats describes how Redis has been answering.
type Stats struct {
	// Healthy is false while Redis is considered down: revocation checks
	// then use the local set alone.
	Healthy bool
	// Failures counts the commands that failed in a row (0 once one
	// succeeds).
	Failures int
	// LastError is the last failure's message, kept after a recovery.
	LastError string
	// Since is when Redis was last found down, or up again after being down;
	// zero if it never was.
	Since time.Time
	// Skipped counts the commands not sent because Redis was down.
	Skipped int64
}

// Stats returns the breaker's state, for logs, metrics and health reports.
func (c *Client) Stats() Stats {
	return c.breaker.stats()
}

// do runs one command through the breaker, under CommandTimeout. The caller's
// cancellation is ignored: a write that must reach Redis (a revocation, an
// announcement) should not be lost because the client hung up after the
// database committed, and must not count as a Redis failure either.
func (c *Client) do(ctx context.Context, f func(ctx context.Context) error) error {
	if !c.breaker.allow() {
		return errDown
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	err := f(ctx)
	cancel()
	c.breaker.record(err)
	return err
}

var errDown = errors.New("redis: down, not asked until the back-off ends")

// breaker stops sending commands to a Redis that keeps failing, so that an
// outage costs each request a map look-up rather than a timeout, and logs
// each outage once.
type breaker struct {
	now func() time.Time
	log *slog.Logger

	// The fast path (Redis answering) reads only these two.
	down  atomic.Bool // failureThreshold failures in a row
	clean atomic.Bool // no failure since the last success

	skipped atomic.Int64

	mu       sync.Mutex
	failures int
	retryAt  time.Time // while down: when the next probe may go
	probing  bool      // while down: a probe is in flight
	lastErr  string
	since    time.Time
}

func (b *breaker) init(now func() time.Time, log *slog.Logger) {
	b.now, b.log = now, log
	b.clean.Store(true)
}

// allow reports whether a command may be sent. Every true must be followed by
// one record.
func (b *breaker) allow() bool {
	if !b.down.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.down.Load() {
		return true
	}
	if b.probing || b.now().Before(b.retryAt) {
		b.skipped.Add(1)
		return false
	}
	b.probing = true
	return true
}

// record notes the outcome of a command allow let through.
func (b *breaker) record(err error) {
	if err == nil && b.clean.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.probing = false
	if err == nil {
		if b.down.Load() {
			b.log.Info("redis answers again: revocations are shared at once again",
				"down_for", now.Sub(b.since).String(), "skipped", b.skipped.Load())
			b.since = now
		}
		b.failures = 0
		b.down.Store(false)
		b.clean.Store(true)
		return
	}
	b.failures++
	b.lastErr = err.Error()
	b.clean.Store(false)
	if b.failures < failureThreshold {
		return
	}
	b.retryAt = now.Add(backOff)
	if !b.down.Load() {
		b.since = now
		b.down.Store(true)
		b.log.Error("redis unavailable: checking revocations against the database-fed set only "+
			"(revocations made through other instances are seen after the next sync)",
			"error", b.lastErr, "failures", b.failures)
	}
}

func (b *breaker) stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{
		Healthy:   !b.down.Load(),
		Failures:  b.failures,
		LastError: b.lastErr,
		Since:     b.since,
		Skipped:   b.skipped.Load(),
	}
}
