package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/mail"
	"github.com/gatehouse-auth/gatehouse/internal/mail/mailtest"
)

const publicURL = "https://auth.example.test"

// emailEnv is a test server whose mail goes over SMTP (STARTTLS and AUTH)
// to a real SMTP server started by the test.
func emailEnv(tb testing.TB, opts envOptions, e auth.Email, relay mailtest.Options) (*testEnv, *mailtest.Server) {
	tb.Helper()
	srv := mailtest.Start(tb, relay)
	m, err := mail.NewSMTP(srv.URL(), "Gatehouse <auth@example.test>", srv.ClientTLS())
	if err != nil {
		tb.Fatal(err)
	}
	e.Mailer, e.PublicURL = m, publicURL
	opts.email = &e
	return newTestEnv(tb, opts), srv
}

var secureRelay = mailtest.Options{Security: mailtest.StartTLS, Username: "gatehouse", Password: "relay-password"}

func (e *testEnv) post(tb testing.TB, path string, body any, header ...string) response {
	tb.Helper()
	req := jsonRequest(http.MethodPost, path, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(tb, req)
}

// settle waits until every link request has been handled by a mail worker.
func (e *testEnv) settle(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.svc.WaitMail(ctx); err != nil {
		tb.Fatalf("mail queue did not drain: %v", err)
	}
}

func (e *testEnv) auditEvents(tb testing.TB, event string) []*gatehouse.AuditEvent {
	tb.Helper()
	list, err := e.audit.ListAudit(context.Background(), gatehouse.AuditFilter{Limit: 100, Event: event})
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// rows shows audit rows readably in failures.
func rows(list []*gatehouse.AuditEvent) string {
	var b strings.Builder
	for _, e := range list {
		fmt.Fprintf(&b, "\n  %s %s reason=%q user=%d login=%q detail=%v", e.Event, e.Outcome, e.Reason, e.UserID, e.Login, e.Detail)
	}
	return b.String()
}

func wantStatus(tb testing.TB, what string, r response, status int, code string) {
	tb.Helper()
	if r.status != status || (code != "" && r.code(tb) != code) {
		tb.Fatalf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}

// TestPasswordResetOverSMTP walks the whole reset flow over HTTP, the link
// travelling by real SMTP: request, mail (in Korean, as asked), a weak
// password refused with the token kept, the reset, every session revoked,
// the old password dead and the new one working, the token single-use.
func TestPasswordResetOverSMTP(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	e.token(t, "alice", "Alice@Example.com", "correct horse battery")
	access, refresh := e.loginPair(t, "alice", "correct horse battery")

	r := e.post(t, "/auth/password-reset/request", map[string]string{"email": "alice@example.com"}, "Accept-Language", "ko-KR")
	wantStatus(t, "request", r, http.StatusAccepted, "")
	if d, _ := r.json(t)["detail"].(string); !strings.Contains(d, "메일") {
		t.Errorf("detail %q is not the Korean message", d)
	}
	msg := relay.Receive(t, 10*time.Second)
	if !msg.TLS || !msg.Authed || len(msg.To) != 1 || msg.To[0] != "Alice@Example.com" {
		t.Errorf("mail arrived TLS %v, authenticated %v, to %v", msg.TLS, msg.Authed, msg.To)
	}
	if msg.Subject != "비밀번호 재설정" || !strings.Contains(msg.Text, "30분") {
		t.Errorf("mail is not the Korean reset message: %q\n%s", msg.Subject, msg.Text)
	}
	link, token := msg.Link(t, auth.ResetPasswordPath)
	if !strings.HasPrefix(link, publicURL+"/ui/reset-password?token=") || len(token) < 40 {
		t.Errorf("link %q", link)
	}
	if !strings.Contains(msg.HTML, `href="`+link+`"`) {
		t.Errorf("HTML part lacks the link:\n%s", msg.HTML)
	}

	r = e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": "short"})
	wantStatus(t, "weak password", r, http.StatusUnprocessableEntity, gatehouse.CodeValidation)
	r = e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": "a new and long passphrase"})
	wantStatus(t, "reset", r, http.StatusNoContent, "")

	if got := e.me(t, access); got != http.StatusUnauthorized {
		t.Errorf("old access token after reset: %d, want 401", got)
	}
	wantStatus(t, "old refresh token", e.refresh(t, refresh), http.StatusBadRequest, gatehouse.CodeInvalidGrant)
	wantStatus(t, "old password", e.login(t, "alice", "correct horse battery"), http.StatusUnauthorized, gatehouse.CodeInvalidCredentials)
	newAccess, _ := e.loginPair(t, "alice", "a new and long passphrase")
	if me := e.do(t, bearerRequest("/users/me", newAccess)).json(t); me["email_verified"] != true {
		t.Errorf("after a reset the address is not verified: %v", me)
	}
	r = e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": "yet another passphrase"})
	wantStatus(t, "token used twice", r, http.StatusBadRequest, gatehouse.CodeInvalidLinkToken)

	e.settle(t)
	if ev := e.auditEvents(t, gatehouse.EventPasswordResetRequested); len(ev) != 1 || ev[0].Outcome != gatehouse.OutcomeSuccess || ev[0].UserID == 0 {
		t.Errorf("password_reset_requested rows: %s", rows(ev))
	}
	ev := e.auditEvents(t, gatehouse.EventPasswordReset)
	if len(ev) != 2 || ev[0].Outcome != gatehouse.OutcomeSuccess || ev[1].Reason != gatehouse.CodeInvalidLinkToken {
		t.Errorf("password_reset rows: %s", rows(ev))
	}
	for _, row := range ev {
		for k, v := range row.Detail {
			if strings.Contains(v, token) {
				t.Errorf("audit detail %s holds the token", k)
			}
		}
	}
}

// TestEmailVerificationOverSMTP: with GATEHOUSE_REQUIRE_VERIFIED_EMAIL a
// right password gets 403 email_not_verified, the user asks for a link by
// address (they cannot sign in), follows it, and can log in.
func TestEmailVerificationOverSMTP(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{RequireVerified: true}, secureRelay)
	wantStatus(t, "register", e.register(t, "bob", "bob@example.com", "correct horse battery"), http.StatusCreated, "")
	wantStatus(t, "unverified login", e.login(t, "bob", "correct horse battery"), http.StatusForbidden, gatehouse.CodeEmailNotVerified)
	// The rule never tells a wrong password apart.
	wantStatus(t, "wrong password", e.login(t, "bob", "wrong password!"), http.StatusUnauthorized, gatehouse.CodeInvalidCredentials)
	tok := e.do(t, formRequest("/auth/token", map[string][]string{"grant_type": {"password"}, "username": {"bob"}, "password": {"correct horse battery"}}))
	if tok.status != http.StatusBadRequest || tok.json(t)["error"] != "invalid_grant" || tok.code(t) != gatehouse.CodeEmailNotVerified {
		t.Errorf("token endpoint, unverified: %d %s", tok.status, tok.body)
	}

	wantStatus(t, "request", e.post(t, "/auth/verify-email/request", map[string]string{"email": "BOB@example.com"}), http.StatusAccepted, "")
	msg := relay.Receive(t, 10*time.Second)
	if msg.Subject != "Confirm your email address" || !strings.Contains(msg.Text, "24 hours") {
		t.Errorf("mail: %q\n%s", msg.Subject, msg.Text)
	}
	_, token := msg.Link(t, auth.VerifyEmailPath)
	e.settle(t) // the worker records the request once the relay has the mail
	wantStatus(t, "verify", e.post(t, "/auth/verify-email", map[string]string{"token": token}), http.StatusNoContent, "")
	wantStatus(t, "verify again", e.post(t, "/auth/verify-email", map[string]string{"token": token}), http.StatusBadRequest, gatehouse.CodeInvalidLinkToken)
	access, _ := e.loginPair(t, "bob", "correct horse battery")
	if me := e.do(t, bearerRequest("/users/me", access)).json(t); me["email_verified"] != true {
		t.Errorf("/users/me after verification: %v", me)
	}
	// Verified: a new request sends nothing.
	wantStatus(t, "request when verified", e.post(t, "/auth/verify-email/request", map[string]string{"email": "bob@example.com"}), http.StatusAccepted, "")
	e.settle(t)
	relay.None(t)

	req := e.auditEvents(t, gatehouse.EventEmailVerificationRequested)
	if len(req) != 2 || req[0].Outcome != gatehouse.OutcomeSuccess || req[1].Reason != gatehouse.ReasonAlreadyVerified {
		t.Errorf("email_verification_requested rows: %s", rows(req))
	}
	if v := e.auditEvents(t, gatehouse.EventEmailVerified); len(v) != 2 || v[0].Outcome != gatehouse.OutcomeSuccess || v[1].Outcome != gatehouse.OutcomeFailure {
		t.Errorf("email_verified rows: %s", rows(v))
	}
	login := e.auditEvents(t, gatehouse.EventLogin)
	if len(login) == 0 || login[0].Reason != gatehouse.CodeEmailNotVerified {
		t.Errorf("login rows: %s", rows(login))
	}
}

// TestVerificationForSignedInUser: with a bearer token the link goes to the
// caller's own address, whatever the body says.
func TestVerificationForSignedInUser(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	access := e.token(t, "carol", "carol@example.com", "correct horse battery")
	e.token(t, "mallory", "mallory@example.com", "correct horse battery")
	r := e.post(t, "/auth/verify-email/request", map[string]string{"email": "mallory@example.com"}, "Authorization", "Bearer "+access)
	wantStatus(t, "request", r, http.StatusAccepted, "")
	msg := relay.Receive(t, 10*time.Second)
	if msg.To[0] != "carol@example.com" {
		t.Fatalf("mail went to %v", msg.To)
	}
	_, token := msg.Link(t, auth.VerifyEmailPath)
	wantStatus(t, "verify", e.post(t, "/auth/verify-email", map[string]string{"token": token}), http.StatusNoContent, "")
	if me := e.do(t, bearerRequest("/users/me", access)).json(t); me["email_verified"] != true {
		t.Errorf("/users/me after verification: %v", me)
	}
	wantStatus(t, "bad bearer", e.post(t, "/auth/verify-email/request", nil, "Authorization", "Bearer nonsense"), http.StatusUnauthorized, gatehouse.CodeInvalidToken)
}

// TestLinkRequestsSameAnswer: an unknown address, a deactivated account and
// a real one get byte-identical answers; only the real one gets mail.
func TestLinkRequestsSameAnswer(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	e.token(t, "dave", "dave@example.com", "correct horse battery")
	for _, path := range []string{"/auth/password-reset/request", "/auth/verify-email/request"} {
		known := e.post(t, path, map[string]string{"email": "dave@example.com"})
		unknown := e.post(t, path, map[string]string{"email": "nobody@example.com"})
		if known.status != http.StatusAccepted || string(known.body) != string(unknown.body) || known.header.Get("Content-Type") != unknown.header.Get("Content-Type") {
			t.Errorf("%s: known %d %s, unknown %d %s", path, known.status, known.body, unknown.status, unknown.body)
		}
		e.settle(t)
		if m := relay.Receive(t, 5*time.Second); m.To[0] != "dave@example.com" {
			t.Errorf("mail to %v", m.To)
		}
		relay.None(t)
	}
	for _, ev := range []string{gatehouse.EventPasswordResetRequested, gatehouse.EventEmailVerificationRequested} {
		// The two requests were handled concurrently: either row may be first.
		list := e.auditEvents(t, ev)
		outcomes := map[string]int{}
		for _, row := range list {
			if row.Outcome == gatehouse.OutcomeFailure && row.Reason == gatehouse.ReasonUnknownUser && row.UserID == 0 && row.Login == "" {
				outcomes["unknown"]++
			} else if row.Outcome == gatehouse.OutcomeSuccess && row.Login == "dave" {
				outcomes["sent"]++
			}
		}
		if len(list) != 2 || outcomes["unknown"] != 1 || outcomes["sent"] != 1 {
			t.Errorf("%s rows: %s", ev, rows(list))
		}
	}
}

// TestLinkEndpointsRefuseBadInput tries to break the endpoints' input
// handling: each gets a clear 4xx.
func TestLinkEndpointsRefuseBadInput(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"reset request without email", "/auth/password-reset/request", map[string]string{}, 422, gatehouse.CodeValidation},
		{"reset request bad email", "/auth/password-reset/request", map[string]string{"email": "not-an-address"}, 422, gatehouse.CodeValidation},
		{"reset request number", "/auth/password-reset/request", map[string]any{"email": 7}, 422, gatehouse.CodeValidation},
		{"verify request bad email", "/auth/verify-email/request", map[string]string{"email": "a@b"}, 422, gatehouse.CodeValidation},
		{"verify without token", "/auth/verify-email", map[string]string{}, 422, gatehouse.CodeValidation},
		{"verify empty token", "/auth/verify-email", map[string]string{"token": ""}, 422, gatehouse.CodeValidation},
		{"verify made-up token", "/auth/verify-email", map[string]string{"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 400, gatehouse.CodeInvalidLinkToken},
		{"verify huge token", "/auth/verify-email", map[string]string{"token": strings.Repeat("A", 5000)}, 400, gatehouse.CodeInvalidLinkToken},
		{"reset without password", "/auth/password-reset", map[string]string{"token": "x"}, 422, gatehouse.CodeValidation},
		{"reset made-up token", "/auth/password-reset", map[string]string{"token": "x", "new_password": "a long enough passphrase"}, 400, gatehouse.CodeInvalidLinkToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, tt.name, e.post(t, tt.path, tt.body), tt.status, tt.code)
		})
	}
	for _, path := range []string{"/auth/password-reset/request", "/auth/verify-email/request", "/auth/verify-email", "/auth/password-reset"} {
		req := formRequest(path, map[string][]string{"email": {"x@example.com"}})
		if r := e.do(t, req); r.status != http.StatusUnsupportedMediaType {
			t.Errorf("%s as a form: %d, want 415", path, r.status)
		}
	}
	e.settle(t)
	relay.None(t)
}

// TestLinkExpiryAndSupersede: a reset link dies after 30 minutes and when
// a newer one is sent; a verification link after 24 hours.
func TestLinkExpiryAndSupersede(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	e.token(t, "erin", "erin@example.com", "correct horse battery")
	ask := func(path string) string {
		t.Helper()
		wantStatus(t, "request", e.post(t, path, map[string]string{"email": "erin@example.com"}), http.StatusAccepted, "")
		msg := relay.Receive(t, 10*time.Second)
		linkPath := auth.ResetPasswordPath
		if strings.Contains(path, "verify") {
			linkPath = auth.VerifyEmailPath
		}
		_, token := msg.Link(t, linkPath)
		return token
	}
	reset := func(token string) response {
		return e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": "a new and long passphrase"})
	}
	verify := ask("/auth/verify-email/request")
	e.clock.Add(24*time.Hour + time.Second)
	wantStatus(t, "expired verification", e.post(t, "/auth/verify-email", map[string]string{"token": verify}), http.StatusBadRequest, gatehouse.CodeInvalidLinkToken)

	first := ask("/auth/password-reset/request")
	second := ask("/auth/password-reset/request")
	wantStatus(t, "superseded link", reset(first), http.StatusBadRequest, gatehouse.CodeInvalidLinkToken)
	e.clock.Add(30*time.Minute + time.Second)
	wantStatus(t, "expired link", reset(second), http.StatusBadRequest, gatehouse.CodeInvalidLinkToken)
	wantStatus(t, "fresh link", reset(ask("/auth/password-reset/request")), http.StatusNoContent, "")
}

// TestLinkRequestRateLimits: per client address and per address asked
// for, applied alike to addresses with and without an account.
func TestLinkRequestRateLimits(t *testing.T) {
	limits := auth.Limits{}
	e, _ := emailEnv(t, envOptions{limits: &limits}, auth.Email{
		IPLimit:      gatehouse.Limit{N: 5, Per: time.Hour},
		AddressLimit: gatehouse.Limit{N: 1, Per: time.Hour},
	}, secureRelay)
	e.token(t, "frank", "frank@example.com", "correct horse battery")
	for _, email := range []string{"frank@example.com", "ghost@example.com"} {
		wantStatus(t, "first "+email, e.post(t, "/auth/password-reset/request", map[string]string{"email": email}), http.StatusAccepted, "")
		r := e.post(t, "/auth/verify-email/request", map[string]string{"email": email})
		wantStatus(t, "second "+email, r, http.StatusTooManyRequests, gatehouse.CodeRateLimited)
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	wantStatus(t, "third address", e.post(t, "/auth/password-reset/request", map[string]string{"email": "third@example.com"}), http.StatusAccepted, "")
	wantStatus(t, "address budget left, IP spent", e.post(t, "/auth/password-reset/request", map[string]string{"email": "fourth@example.com"}), http.StatusTooManyRequests, gatehouse.CodeRateLimited)
	e.settle(t)
	// Three refusals, two rows: refusals are recorded once a minute per
	// action, budget, client address and account, and the two refusals of
	// verification requests share all four (the account is not looked up).
	if list := e.auditEvents(t, gatehouse.EventRateLimited); len(list) != 2 {
		t.Errorf("rate_limited rows: %s, want 2", rows(list))
	}
}

// TestSlowRelayDoesNotHoldRequests: the answer comes before the relay has
// even accepted the message.
func TestSlowRelayDoesNotHoldRequests(t *testing.T) {
	slow := secureRelay
	slow.Delay = 2 * time.Second
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, slow)
	e.token(t, "gina", "gina@example.com", "correct horse battery")
	start := time.Now()
	wantStatus(t, "request", e.post(t, "/auth/password-reset/request", map[string]string{"email": "gina@example.com"}), http.StatusAccepted, "")
	if d := time.Since(start); d >= slow.Delay {
		t.Errorf("the request took %s, as long as the relay", d)
	}
	relay.Receive(t, 10*time.Second)
}
