package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

// feedSetup is a fake issuer with one key, a verifier following its feed,
// and a token of session s1 and one of s2.
type feedSetup struct {
	f      *fakeIssuer
	clk    *clock
	v      *verifier.Verifier
	logs   *logBuffer
	s1, s2 string
}

func newFeedSetup(t *testing.T, edit func(*verifier.RevocationConfig)) *feedSetup {
	t.Helper()
	k := newKey("ES256")
	s := &feedSetup{f: newFakeIssuer(t, k), clk: newClock(), logs: &logBuffer{}}
	cfg := s.f.config(s.clk)
	cfg.Logger = newTextLogger(s.logs)
	cfg.Revocations = feedConfig()
	if edit != nil {
		edit(cfg.Revocations)
	}
	// Two hours, so that the tokens outlive the default MaxStaleness.
	exp := withClaim("exp", s.clk.Now().Add(2*time.Hour).Unix())
	s.s1 = s.f.token(k, s.clk.Now(), exp)
	s.s2 = s.f.token(k, s.clk.Now(), exp, withClaim("sid", "s2"))
	s.v = newVerifier(t, cfg)
	return s
}

func (s *feedSetup) verify(token string) error {
	_, err := s.v.Verify(context.Background(), token)
	return err
}

// A revocation published while the verifier's poll is held reaches it at once.
func TestRevokedSessionRefusedWithinTwoSeconds(t *testing.T) {
	s := newFeedSetup(t, nil)
	if err := s.verify(s.s1); err != nil {
		t.Fatal(err)
	}
	s.f.waitHeld(t)
	start := time.Now()
	s.f.revoke("s1", s.clk.Now().Add(30*time.Minute))
	for {
		err := s.verify(s.s1)
		if errors.Is(err, verifier.ErrRevoked) {
			if !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("ErrRevoked does not match ErrInvalidToken")
			}
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("revoked session still accepted after 2 s (err = %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("refused %v after the revocation", time.Since(start).Round(time.Millisecond))
	if err := s.verify(s.s2); err != nil {
		t.Errorf("another session's token: %v", err)
	}
	st := s.v.Stats().Revocation
	if !st.Enabled || !st.Healthy || st.Revoked != 1 || st.Refused == 0 || st.Failures != 0 || st.Policy != verifier.FailOpen {
		t.Errorf("stats = %+v", st)
	}
	if w, _ := s.f.lastWait.Load().(string); w != "20" {
		t.Errorf("polled with wait=%q, want 20", w)
	}
}

// Revocations made before the verifier started come with the first snapshot.
func TestSnapshotAtStart(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	clk := newClock()
	f.revoke("s1", clk.Now().Add(time.Hour))
	f.revoke("gone", clk.Now().Add(-time.Hour))
	cfg := f.config(clk)
	cfg.Revocations = feedConfig()
	v := newVerifier(t, cfg)
	if _, err := v.Verify(context.Background(), f.token(k, clk.Now())); !errors.Is(err, verifier.ErrRevoked) {
		t.Errorf("err = %v, want ErrRevoked", err)
	}
	if n := f.snapshots.Load(); n != 1 {
		t.Errorf("%d snapshots", n)
	}
}

// A revocation is forgotten once every token of its session has expired
// (exp + leeway), not before.
func TestRevocationsArePruned(t *testing.T) {
	s := newFeedSetup(t, nil)
	s.f.revoke("s1", s.clk.Now().Add(time.Minute))
	waitFor(t, "the revocation", func() bool { return errors.Is(s.verify(s.s1), verifier.ErrRevoked) })
	s.clk.Advance(time.Minute + 20*time.Second) // within exp + leeway
	s.f.revoke("s3", s.clk.Now().Add(time.Hour))
	waitFor(t, "the second revocation", func() bool { return s.v.Stats().Revocation.Revoked == 2 })
	if err := s.verify(s.s1); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("within exp + leeway: err = %v", err)
	}
	s.clk.Advance(time.Minute)
	s.f.revoke("s4", s.clk.Now().Add(time.Hour))
	// s1's revocation is dropped (a real s1 token would have expired by now;
	// ours lives two hours, which makes the pruning visible).
	waitFor(t, "the pruning", func() bool { return s.v.Stats().Revocation.Revoked == 2 && s.verify(s.s1) == nil })
}

func TestFeedDownFailOpen(t *testing.T) {
	s := newFeedSetup(t, nil) // FailOpen, MaxStaleness 30 min
	s.f.setMode(feedDown)
	waitFor(t, "a failed poll", func() bool { return s.v.Stats().Revocation.Failures > 0 })
	s.f.revoke("s2", s.clk.Now().Add(time.Hour)) // unseen while the feed is down

	s.clk.Advance(29 * time.Minute)
	for _, tok := range []string{s.s1, s.s2} {
		if err := s.verify(tok); err != nil {
			t.Fatalf("within MaxStaleness: %v", err)
		}
	}
	st := s.v.Stats().Revocation
	if st.Healthy || st.DegradedAccepted != 2 || !strings.Contains(st.LastError, "503") {
		t.Errorf("stats while degraded = %+v", st)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "revocation feed unreachable") || !strings.Contains(logs, "policy=fail_open") {
		t.Errorf("the outage is not logged:\n%s", logs)
	}

	s.clk.Advance(2 * time.Minute)
	err := s.verify(s.s1)
	if !errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("past MaxStaleness: err = %v, want ErrUnavailable only", err)
	}
	if st := s.v.Stats().Revocation; st.StaleRefused != 1 || st.Healthy {
		t.Errorf("stats when stale = %+v", st)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "refusing every token") {
		t.Errorf("refusing is not logged:\n%s", logs)
	}

	// The feed comes back: the revocation missed during the outage arrives.
	s.f.setMode(feedNormal)
	waitFor(t, "recovery", func() bool { return s.v.Stats().Revocation.Healthy })
	if err := s.verify(s.s1); err != nil {
		t.Errorf("after recovery: %v", err)
	}
	if err := s.verify(s.s2); !errors.Is(err, verifier.ErrRevoked) {
		t.Errorf("session revoked during the outage: err = %v", err)
	}
	if st := s.v.Stats().Revocation; st.LastError != "" || !st.LastSync.Equal(s.clk.Now()) {
		t.Errorf("stats after recovery = %+v", st)
	}
}

func TestFeedDownFailClosed(t *testing.T) {
	s := newFeedSetup(t, func(rc *verifier.RevocationConfig) { rc.Policy = verifier.FailClosed }) // MaxStaleness 10 s
	s.f.setMode(feedDown)
	waitFor(t, "a failed poll", func() bool { return s.v.Stats().Revocation.Failures > 0 })
	s.clk.Advance(5 * time.Second)
	if err := s.verify(s.s1); err != nil {
		t.Fatalf("5 s into the outage: %v", err)
	}
	s.clk.Advance(6 * time.Second)
	if err := s.verify(s.s1); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("11 s into the outage: err = %v", err)
	}
	st := s.v.Stats().Revocation
	if st.Policy != verifier.FailClosed || st.DegradedAccepted != 1 || st.StaleRefused != 1 || st.Healthy {
		t.Errorf("stats = %+v", st)
	}

	// Healthy again, a poll held longer than MaxStaleness is not staleness:
	// the feed answers at once when something is revoked.
	s.f.setMode(feedNormal)
	waitFor(t, "recovery", func() bool { return s.v.Stats().Revocation.Healthy })
	s.f.waitHeld(t)
	s.clk.Advance(25 * time.Second)
	if err := s.verify(s.s1); err != nil {
		t.Errorf("while a poll is held: %v", err)
	}
	// But a poll held past Wait + 10 s is lost.
	s.clk.Advance(10 * time.Second)
	if err := s.verify(s.s1); !errors.Is(err, verifier.ErrUnavailable) {
		t.Errorf("poll overdue: err = %v", err)
	}
}

// Gatehouse forgot our cursor (restored from a backup, say): the verifier
// reads a new snapshot and carries on.
func TestInvalidCursorResyncs(t *testing.T) {
	s := newFeedSetup(t, nil)
	s.f.waitHeld(t)
	s.f.invalidateCursors()
	waitFor(t, "the resync", func() bool { return s.v.Stats().Revocation.Resyncs == 1 })
	waitFor(t, "a held poll with the new cursor", func() bool { return s.f.snapshots.Load() == 2 && s.f.held.Load() == 1 })
	s.f.revoke("s1", s.clk.Now().Add(time.Hour))
	waitFor(t, "the revocation", func() bool { return errors.Is(s.verify(s.s1), verifier.ErrRevoked) })
	if st := s.v.Stats().Revocation; st.Failures != 0 || !st.Healthy {
		t.Errorf("stats = %+v", st)
	}
}

// Refused credentials are logged as an error and retried with backoff, not in
// a loop; the secret never reaches the log.
func TestFeedUnauthorizedBacksOff(t *testing.T) {
	s := newFeedSetup(t, nil)
	s.f.waitHeld(t)
	start := s.f.feedHits.Load()
	s.f.setFeedSecret("rotated-on-the-server")
	time.Sleep(1500 * time.Millisecond)
	// Backoff 125–250 ms, 250–500 ms, 0.5–1 s, …: at most 5 polls in 1.5 s.
	if n := s.f.feedHits.Load() - start; n < 2 || n > 5 {
		t.Errorf("%d polls in 1.5 s", n)
	}
	st := s.v.Stats().Revocation
	if st.Failures == 0 || st.Healthy || !strings.Contains(st.LastError, "401 invalid_client") {
		t.Errorf("stats = %+v", st)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "401 invalid_client") {
		t.Errorf("the refusal is not logged as an error:\n%s", logs)
	}
	if strings.Contains(logs, feedClientSecret) {
		t.Errorf("the feed secret is in the log")
	}
}

// A feed that answers "nothing new" at once, instead of holding the poll, is
// not polled in a tight loop.
func TestFeedNotHoldingIsNotHammered(t *testing.T) {
	s := newFeedSetup(t, nil)
	s.f.waitHeld(t)
	start := s.f.feedHits.Load()
	s.f.setMode(feedInstant)
	time.Sleep(1500 * time.Millisecond)
	if n := s.f.feedHits.Load() - start; n > 3 {
		t.Errorf("%d polls in 1.5 s", n)
	}
	if st := s.v.Stats().Revocation; !st.Healthy {
		t.Errorf("stats = %+v", st)
	}
}

// Under the middleware, stale revocation data is 503 (retry), not 401 (log
// in again).
func TestMiddlewareWhenStale(t *testing.T) {
	s := newFeedSetup(t, func(rc *verifier.RevocationConfig) { rc.Policy = verifier.FailClosed })
	s.f.setMode(feedDown)
	waitFor(t, "a failed poll", func() bool { return s.v.Stats().Revocation.Failures > 0 })
	s.clk.Advance(time.Minute)
	h := s.v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") }))
	req := httptest.NewRequest("GET", "/notes", nil)
	req.Header.Set("Authorization", "Bearer "+s.s1)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), `"code":"temporarily_unavailable"`) {
		t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}
