package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// capturingTokens records the tokens a use case stores.
type capturingTokens struct {
	gatehouse.EmailTokenStore
	mu     sync.Mutex
	stored []gatehouse.OneTimeToken
}

func (c *capturingTokens) CreateOneTimeToken(_ context.Context, t *gatehouse.OneTimeToken, _ bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stored = append(c.stored, *t)
	return nil
}

// capturingMailer records the messages sent.
type capturingMailer struct {
	mu   sync.Mutex
	sent []gatehouse.Message
}

func (m *capturingMailer) Send(_ context.Context, msg gatehouse.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

type byEmail struct{ oneUser }

func (s byEmail) UserByEmail(context.Context, string) (*gatehouse.User, error) {
	u := s.u
	return &u, nil
}

// TestLinkTokenHashedAtRest: the store gets the SHA-256 of the token the
// mail carries, never the token, and the token is 256 random bits.
func TestLinkTokenHashedAtRest(t *testing.T) {
	u := gatehouse.User{ID: 1, Username: "kim", UsernameKey: "kim", Email: "kim@example.com", EmailKey: "kim@example.com", IsActive: true}
	tokens, mailer := &capturingTokens{}, &capturingMailer{}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New(Deps{Users: byEmail{oneUser{u: u}}, Now: func() time.Time { return now },
		Email: Email{Tokens: tokens, Mailer: mailer, PublicURL: "https://auth.test/"}})
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.RunMail(ctx); close(done) }()
	defer func() { stop(); <-done }()

	for _, lang := range []i18n.Lang{i18n.English, i18n.Korean} {
		if err := s.RequestPasswordReset(t.Context(), EmailRequest{Email: "KIM@example.com", Lang: lang}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitMail(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(tokens.stored) != 2 || len(mailer.sent) != 2 {
		t.Fatalf("stored %d tokens, sent %d mails; want 2 and 2", len(tokens.stored), len(mailer.sent))
	}
	seen := map[string]bool{}
	for i, msg := range mailer.sent {
		link := msg.Text[strings.Index(msg.Text, "https://"):]
		link = link[:strings.IndexAny(link, "\n ")]
		u, err := url.Parse(link)
		if err != nil || u.Path != ResetPasswordPath || !strings.HasPrefix(link, "https://auth.test/ui/") {
			t.Fatalf("link %q", link)
		}
		token := u.Query().Get("token")
		sum := sha256.Sum256([]byte(token))
		var stored *gatehouse.OneTimeToken
		for j := range tokens.stored {
			if tokens.stored[j].Hash == hex.EncodeToString(sum[:]) {
				stored = &tokens.stored[j]
			}
		}
		if stored == nil || len(token) != 43 || seen[token] {
			t.Fatalf("mail %d: token %q has no stored hash, or is short or repeated", i, token)
		}
		seen[token] = true
		if stored.Hash == token || !stored.ExpiresAt.Equal(now.Add(30*time.Minute)) || stored.Purpose != gatehouse.PurposePasswordReset || stored.EmailKey != "kim@example.com" {
			t.Errorf("stored %+v", stored)
		}
		if msg.To != "kim@example.com" || msg.HTML == "" || !strings.Contains(msg.HTML, token) {
			t.Errorf("message %+v", msg)
		}
	}
	// Two workers: the mails may be sent in either order.
	subjects := map[string]bool{mailer.sent[0].Subject: true, mailer.sent[1].Subject: true}
	if !subjects["Reset your password"] || !subjects["비밀번호 재설정"] {
		t.Errorf("subjects %v, want one English and one Korean", subjects)
	}
}

// TestMailQueueBounded: with the queue full, a request is dropped (and
// recorded as mail_failed) but answered as any other.
func TestMailQueueBounded(t *testing.T) {
	u := gatehouse.User{ID: 1, Username: "kim", UsernameKey: "kim", Email: "kim@example.com", EmailKey: "kim@example.com", IsActive: true}
	audit := &memAudit{}
	s := New(Deps{Users: byEmail{oneUser{u: u}}, Audit: audit,
		Email: Email{Tokens: &capturingTokens{}, Mailer: &capturingMailer{}, QueueSize: 1}})
	for range 3 { // no workers run: the first waits, the others find the queue full
		if err := s.RequestPasswordReset(t.Context(), EmailRequest{Email: "kim@example.com"}); err != nil {
			t.Fatalf("request: %v", err)
		}
	}
	if n := audit.count(gatehouse.EventMailFailed); n != 2 {
		t.Errorf("%d mail_failed events, want 2", n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	if err := s.WaitMail(ctx); err == nil {
		t.Error("WaitMail returned with a request still queued")
	}
}

func TestEmailOffAnswersNotReady(t *testing.T) {
	s := New(Deps{})
	for name, err := range map[string]error{
		"verify request": s.RequestEmailVerification(t.Context(), EmailRequest{Email: "a@example.com"}),
		"reset request":  s.RequestPasswordReset(t.Context(), EmailRequest{Email: "a@example.com"}),
		"verify":         s.VerifyEmail(t.Context(), "x"),
		"reset":          s.ResetPassword(t.Context(), "x", "y"),
	} {
		if !gatehouse.IsCode(err, gatehouse.CodeEmailDisabled) {
			t.Errorf("%s: %v, want %s", name, err, gatehouse.CodeEmailDisabled)
		}
	}
}

func TestLifetimeWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		lang i18n.Lang
		want string
	}{
		{24 * time.Hour, i18n.English, "24 hours"},
		{time.Hour, i18n.English, "1 hour"},
		{30 * time.Minute, i18n.English, "30 minutes"},
		{90 * time.Minute, i18n.English, "90 minutes"},
		{24 * time.Hour, i18n.Korean, "24시간"},
		{30 * time.Minute, i18n.Korean, "30분"},
	}
	for _, tt := range tests {
		if got := lifetime(tt.d, tt.lang); got != tt.want {
			t.Errorf("lifetime(%s, %v) = %q, want %q", tt.d, tt.lang, got, tt.want)
		}
	}
}

// memAudit counts recorded events.
type memAudit struct {
	gatehouse.AuditLog
	mu     sync.Mutex
	events []gatehouse.AuditEvent
}

func (a *memAudit) Record(_ context.Context, e *gatehouse.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, *e)
	return nil
}

func (a *memAudit) count(event string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.events {
		if e.Event == event {
			n++
		}
	}
	return n
}
