package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Revocation feed defaults and bounds.
const (
	defaultWait                = 25 * time.Second
	maxWait                    = 60 * time.Second // gatehouse holds a poll no longer
	pollGrace                  = 10 * time.Second // beyond Wait, before a held poll counts as lost
	defaultFailOpenStaleness   = 30 * time.Minute // gatehouse's default access token lifetime
	defaultFailClosedStaleness = 10 * time.Second
	maxFeedBytes               = 16 << 20
	backoffBase                = 250 * time.Millisecond
	backoffMax                 = 10 * time.Second
	notHoldingPause            = time.Second // after an instant empty answer
	pruneEvery                 = time.Minute
	unknownExpiryKeep          = 24 * time.Hour // for a revocation without exp
)

// FailurePolicy chooses how long the verifier trusts its revocation data
// while gatehouse's revocation feed cannot be reached. Under both policies a
// token not known to be revoked is accepted while the data is younger than
// [RevocationConfig.MaxStaleness] and refused with [ErrUnavailable] after; the
// policy sets MaxStaleness's default and is reported in [RevocationStats].
//
// Revocation data counts as current while a long poll is held by a feed that
// answered the previous one (for at most Wait + 10 s), and as of the feed's
// last answer otherwise.
type FailurePolicy int

const (
	// FailOpen favours availability: MaxStaleness defaults to 30 minutes,
	// gatehouse's default access token lifetime. A token revoked during an
	// outage is accepted until it expires or MaxStaleness passes.
	FailOpen FailurePolicy = iota

	// FailClosed favours revocation: MaxStaleness defaults to 10 seconds, so
	// an outage of the feed longer than that (or a poll overdue by more than
	// Wait + 10 s) refuses every token until the feed answers again.
	FailClosed
)

// String returns "fail_open" or "fail_closed".
func (p FailurePolicy) String() string {
	switch p {
	case FailOpen:
		return "fail_open"
	case FailClosed:
		return "fail_closed"
	}
	return "FailurePolicy(" + strconv.Itoa(int(p)) + ")"
}

// RevocationConfig configures following gatehouse's revocation feed, which
// lists revoked sessions so that their tokens are refused before they expire.
type RevocationConfig struct {
	// URL is the feed's URL. Default: the discovery document's
	// "revocation_feed_endpoint" (Config.Issuer is then required).
	URL string

	// ClientID and ClientSecret authenticate to the feed (HTTP Basic), as one
	// of gatehouse's GATEHOUSE_REVOCATION_CLIENTS pairs. Both required.
	ClientID     string
	ClientSecret string

	// Wait is how long gatehouse may hold a poll when nothing is new.
	// Default 25 s; between 1 s and 60 s.
	Wait time.Duration

	// Policy chooses the default of MaxStaleness. Default FailOpen.
	Policy FailurePolicy

	// MaxStaleness is how old the revocation data may grow, while the feed
	// is unreachable, before every token is refused. Default 30 min under
	// FailOpen, 10 s under FailClosed.
	MaxStaleness time.Duration
}

// errInvalidCursor: gatehouse no longer knows our cursor (its log was
// pruned, or it was restored from a backup); read the feed from the start.
var errInvalidCursor = errors.New("invalid_cursor")

// feedError is an answer of the feed other than 200.
type feedError struct {
	status int
	code   string
	detail string
}

func (e *feedError) Error() string {
	s := fmt.Sprintf("revocation feed answered %d", e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.detail != "" {
		s += ": " + e.detail
	}
	switch e.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		s += " (check RevocationConfig.ClientID and ClientSecret against GATEHOUSE_REVOCATION_CLIENTS)"
	case http.StatusNotFound:
		s += " (is the feed enabled on the server?)"
	}
	return s
}

func (e *feedError) Is(target error) bool {
	return target == errInvalidCursor && e.status == http.StatusBadRequest && e.code == "invalid_cursor"
}

// feedPage is one answer of the feed.
type feedPage struct {
	Revocations []struct {
		SID string `json:"sid"`
		Exp int64  `json:"exp"` // unix seconds: when the session's last access token expires
	} `json:"revocations"`
	Cursor string `json:"cursor"`
}

// feed follows the revocation feed and answers whether a session is revoked.
type feed struct {
	url          *url.URL
	clientID     string
	clientSecret string
	wait         time.Duration
	policy       FailurePolicy
	maxStaleness time.Duration
	leeway       time.Duration
	client       *http.Client
	log          *slog.Logger
	now          func() time.Time

	mu      sync.RWMutex
	revoked map[string]int64 // session id → exp, unix seconds

	// Owned by the follower goroutine (and by sync before it starts).
	cursor    string
	lastPrune time.Time

	lastSync    atomic.Int64 // unix ns of the last answer
	pollStart   atomic.Int64 // unix ns when the poll being held began; 0 if none, or if the feed is failing
	failing     atomic.Bool
	staleLogged atomic.Bool

	failures, resyncs, refused, degradedAccepted, staleRefused atomic.Uint64

	errMu   sync.Mutex
	lastErr string
}

func newFeed(u string, s settings, rc *RevocationConfig) *feed {
	parsed, _ := url.Parse(u) // checkURL has parsed it already
	return &feed{
		url:          parsed,
		clientID:     rc.ClientID,
		clientSecret: rc.ClientSecret,
		wait:         s.wait,
		policy:       s.policy,
		maxStaleness: s.maxStaleness,
		leeway:       s.leeway,
		client:       s.client,
		log:          s.log,
		now:          s.now,
		revoked:      map[string]int64{},
	}
}

// check refuses a token of a revoked session, and any token when the
// revocation data is too old to tell.
func (f *feed) check(sid string, now time.Time) error {
	f.mu.RLock()
	_, revoked := f.revoked[sid]
	f.mu.RUnlock()
	if revoked {
		f.refused.Add(1)
		return ErrRevoked
	}
	if f.stale(now) {
		f.staleRefused.Add(1)
		last := time.Unix(0, f.lastSync.Load())
		if f.staleLogged.CompareAndSwap(false, true) {
			f.log.Error("verifier: revocation data older than MaxStaleness: refusing every token until the feed answers",
				"url", f.url.Redacted(), "last_sync", last, "max_staleness", f.maxStaleness, "policy", f.policy.String())
		}
		return fmt.Errorf("%w: no answer from the revocation feed since %s", ErrUnavailable, last.Format(time.RFC3339))
	}
	if f.failing.Load() {
		f.degradedAccepted.Add(1)
	}
	return nil
}

// stale reports whether the revocation data is older than maxStaleness.
func (f *feed) stale(now time.Time) bool {
	if ps := f.pollStart.Load(); ps != 0 && now.UnixNano() < ps+int64(f.wait+pollGrace) {
		return false // a healthy feed is holding our poll: nothing is new
	}
	return now.Sub(time.Unix(0, f.lastSync.Load())) > f.maxStaleness
}

// sync reads the first snapshot; New fails if it cannot.
func (f *feed) sync(ctx context.Context) error {
	p, err := f.poll(ctx, "")
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	now := f.now()
	f.apply(p, now)
	f.cursor = p.Cursor
	f.lastSync.Store(now.UnixNano())
	return nil
}

// follow long-polls the feed until ctx is done, backing off (bounded,
// jittered) after failures. It never polls in a tight loop: a failure waits,
// and so does an instant answer with nothing new.
func (f *feed) follow(ctx context.Context) {
	failures := 0
	resynced := false // the cursor in use came from a fresh snapshot
	for ctx.Err() == nil {
		since := f.cursor
		if failures == 0 {
			f.pollStart.Store(f.now().UnixNano())
		} else {
			// After a failure, ask for a snapshot: it is answered at once,
			// where a poll would be held, so recovery is seen without
			// waiting for something to be revoked.
			since = ""
		}
		began := time.Now()
		p, err := f.poll(ctx, since)
		f.pollStart.Store(0)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errInvalidCursor) && since != "" && !resynced {
			f.resyncs.Add(1)
			f.log.Warn("verifier: the revocation feed no longer knows our cursor; reading it all again", "url", f.url.Redacted())
			f.cursor, resynced = "", true
			continue
		}
		if err != nil {
			failures++
			f.failed(err, failures)
			sleep(ctx, backoff(failures))
			continue
		}
		now := f.now()
		f.apply(p, now)
		f.cursor = p.Cursor
		f.lastSync.Store(now.UnixNano())
		if since != "" {
			resynced = false
		}
		if failures > 0 {
			f.log.Info("verifier: revocation feed answers again", "url", f.url.Redacted(), "failures", failures)
			failures = 0
			f.failing.Store(false)
			f.staleLogged.Store(false)
			f.setErr("")
		}
		// A feed that answers "nothing new" at once is not holding polls.
		if since != "" && len(p.Revocations) == 0 && time.Since(began) < f.wait/2 {
			sleep(ctx, notHoldingPause)
		}
	}
}

func (f *feed) failed(err error, n int) {
	f.failures.Add(1)
	f.failing.Store(true)
	f.setErr(err.Error())
	if n > 1 && n%10 != 0 {
		return // the first failure and every tenth are enough in the log
	}
	level := slog.LevelWarn
	var fe *feedError
	if errors.As(err, &fe) && fe.status < 500 {
		level = slog.LevelError // our configuration or the server's: retrying will not help
	}
	last := time.Unix(0, f.lastSync.Load())
	f.log.Log(context.Background(), level, "verifier: revocation feed unreachable", "url", f.url.Redacted(), "error", err,
		"failures", n, "policy", f.policy.String(), "accepting_until", last.Add(f.maxStaleness))
}

func (f *feed) setErr(s string) {
	f.errMu.Lock()
	f.lastErr = s
	f.errMu.Unlock()
}

// poll asks for the revocations after since ("" for a snapshot).
func (f *feed) poll(ctx context.Context, since string) (*feedPage, error) {
	u := *f.url
	q := u.Query()
	q.Del("since")
	if since != "" {
		q.Set("since", since)
	}
	q.Set("wait", strconv.Itoa(int(f.wait/time.Second)))
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(ctx, f.wait+pollGrace)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(f.clientID, f.clientSecret)
	req.Header.Set("Accept", "application/json")
	res, body, err := get(f.client, req, maxFeedBytes)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Detail any    `json:"detail"`
			Code   string `json:"code"`
		}
		_ = json.Unmarshal(body, &e) // an unreadable error body still has its status
		detail, _ := e.Detail.(string)
		if len(detail) > 200 {
			detail = detail[:200]
		}
		return nil, &feedError{status: res.StatusCode, code: e.Code, detail: detail}
	}
	var p feedPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("revocation feed: %w", err)
	}
	if p.Cursor == "" {
		return nil, errors.New("revocation feed: answer without a cursor")
	}
	return &p, nil
}

// apply adds the page's revocations and, now and then, forgets those whose
// tokens have all expired.
func (f *feed) apply(p *feedPage, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range p.Revocations {
		if r.SID == "" {
			continue
		}
		exp := r.Exp
		if exp <= 0 {
			exp = now.Add(unknownExpiryKeep).Unix()
		}
		if old, ok := f.revoked[r.SID]; !ok || exp > old {
			f.revoked[r.SID] = exp
		}
	}
	if now.Sub(f.lastPrune) < pruneEvery {
		return
	}
	f.lastPrune = now
	// A token is accepted up to exp + leeway; keep its revocation that long
	// (plus a second for exp's truncation to seconds).
	cutoff := now.Add(-f.leeway - time.Second).Unix()
	for sid, exp := range f.revoked {
		if exp < cutoff {
			delete(f.revoked, sid)
		}
	}
}

func (f *feed) stats(now time.Time) RevocationStats {
	f.mu.RLock()
	n := len(f.revoked)
	f.mu.RUnlock()
	f.errMu.Lock()
	lastErr := f.lastErr
	f.errMu.Unlock()
	return RevocationStats{
		Enabled:          true,
		Policy:           f.policy,
		Healthy:          !f.failing.Load() && !f.stale(now),
		LastSync:         time.Unix(0, f.lastSync.Load()),
		Failures:         f.failures.Load(),
		LastError:        lastErr,
		Resyncs:          f.resyncs.Load(),
		Revoked:          n,
		Refused:          f.refused.Load(),
		DegradedAccepted: f.degradedAccepted.Load(),
		StaleRefused:     f.staleRefused.Load(),
	}
}

// backoff is the pause after the n-th consecutive failure: exponential from
// backoffBase to backoffMax, with jitter so that many services do not retry
// in step.
func backoff(n int) time.Duration {
	d := min(backoffBase<<min(n-1, 10), backoffMax)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
