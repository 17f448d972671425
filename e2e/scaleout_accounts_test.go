package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/mail/mailtest"
)

// TestScaleOutAccounts: the account features keep their promises across
// two instances sharing PostgreSQL and Redis — a second factor enrolled on
// one is asked for by the other and its codes work once in the deployment,
// the MFA attempt budget is the deployment's, an admin's deactivation and
// a password reset end sessions everywhere, and a mailed reset link works
// once whichever instance it is used on.
func TestScaleOutAccounts(t *testing.T) {
	redisURL := requireEnv(t, "GATEHOUSE_TEST_REDIS_URL")
	relay := mailtest.Start(t, mailtest.Options{Security: mailtest.None})
	d := newDeployment(t, redisURL, map[string]string{
		"GATEHOUSE_RATE_LIMIT_MFA": "3/1m",
		"GATEHOUSE_SMTP_URL":       relay.URL(),
		"GATEHOUSE_MAIL_FROM":      "Gatehouse <auth@example.test>",
	})

	t.Run("TOTP enrolled on A is asked for, and used once, across A and B", func(t *testing.T) {
		must(t, http.StatusCreated)(register(d.a.base, "tess", password))
		secret, recovery := enrolTOTP(t, d.a.base, "tess", time.Now())

		// B asks for the second factor enrolled through A.
		challenge := mfaChallenge(t, d.b.base, "tess")
		// A code of the next step (within the accepted skew) completes a
		// login on A...
		code := totpAt(t, secret, time.Now().Add(30*time.Second))
		must(t, http.StatusOK)(loginMFA(d.a.base, mfaChallenge(t, d.a.base, "tess"), code))
		// ...and the same code is refused on B: the step is used up.
		r := must(t, http.StatusUnauthorized)(loginMFA(d.b.base, challenge, code))
		if r.body["code"] != "invalid_mfa_code" {
			t.Errorf("B on a replayed code: %s", r.raw)
		}
		// An mfa_token issued by A completes on B (with a recovery code:
		// every TOTP step within the skew is used up by now).
		tok := must(t, http.StatusOK)(loginMFA(d.b.base, mfaChallenge(t, d.a.base, "tess"), recovery[0])).body["access_token"].(string)
		must(t, http.StatusOK)(me(d.a.base, tok))
		// The recovery code is spent for A too.
		must(t, http.StatusUnauthorized)(loginMFA(d.a.base, mfaChallenge(t, d.b.base, "tess"), recovery[0]))
	})

	t.Run("one code sent to A and B at once opens one session", func(t *testing.T) {
		must(t, http.StatusCreated)(register(d.a.base, "ravi", password))
		secret, _ := enrolTOTP(t, d.a.base, "ravi", time.Now())
		code := totpAt(t, secret, time.Now().Add(30*time.Second))
		challenges := []string{mfaChallenge(t, d.a.base, "ravi"), mfaChallenge(t, d.b.base, "ravi")}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, base := range []string{d.a.base, d.b.base} {
			wg.Go(func() {
				r, err := loginMFA(base, challenges[i], code)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = r.status
			})
		}
		wg.Wait()
		slices.Sort(statuses)
		if !slices.Equal(statuses, []int{http.StatusOK, http.StatusUnauthorized}) {
			t.Errorf("statuses %v, want one 200 and one 401", statuses)
		}
	})

	t.Run("wrong codes on A and B together hit the account's MFA limit", func(t *testing.T) {
		must(t, http.StatusCreated)(register(d.a.base, "mick", password))
		secret, _ := enrolTOTP(t, d.b.base, "mick", time.Now())
		wrong := wrongCode(t, secret)
		for i, base := range []string{d.a.base, d.b.base, d.a.base} { // GATEHOUSE_RATE_LIMIT_MFA=3/1m
			r := must(t, http.StatusUnauthorized)(loginMFA(base, mfaChallenge(t, base, "mick"), wrong))
			if r.body["code"] != "invalid_mfa_code" {
				t.Fatalf("wrong code %d: %s", i+1, r.raw)
			}
		}
		// The fourth attempt, on B and with the right code, is refused:
		// the budget is the account's in the whole deployment.
		r := must(t, http.StatusTooManyRequests)(loginMFA(d.b.base, mfaChallenge(t, d.b.base, "mick"),
			totpAt(t, secret, time.Now().Add(30*time.Second))))
		if r.body["code"] != "rate_limited" || r.header.Get("Retry-After") == "" {
			t.Errorf("B answered %s (Retry-After %q)", r.raw, r.header.Get("Retry-After"))
		}
	})

	t.Run("a user deactivated by an admin on A is refused by B", func(t *testing.T) {
		gatehouseCLI(t, d.env, password+"\n", "user", "create", "--username", "root", "--email", "root@example.com", "--password-stdin", "--admin")
		admin := must(t, http.StatusOK)(login(d.a.base, "root", password)).body["access_token"].(string)
		id := int64(must(t, http.StatusCreated)(register(d.a.base, "dee", password)).body["id"].(float64))
		pair := must(t, http.StatusOK)(login(d.b.base, "dee", password)).body
		tok := pair["access_token"].(string)
		must(t, http.StatusOK)(me(d.b.base, tok)) // B has seen (and cached) the user and token

		r := must(t, http.StatusOK)(call("POST", fmt.Sprintf("%s/admin/users/%d/deactivate", d.a.base, id), "", "", admin))
		if r.body["is_active"] != false {
			t.Fatalf("after deactivation: %s", r.raw)
		}
		start := time.Now()
		if !waitFor(3*time.Second, func() bool {
			r, err := me(d.b.base, tok)
			return err == nil && r.status == http.StatusUnauthorized
		}) {
			t.Fatal("B still accepts the access token 3s after the deactivation on A (sync interval 1s)")
		}
		t.Logf("B refused the deactivated user's access token after %v", time.Since(start))
		if r := must(t, http.StatusBadRequest)(refresh(d.b.base, pair["refresh_token"].(string))); r.body["code"] != "invalid_grant" {
			t.Errorf("refresh on B after the deactivation: %s", r.raw)
		}
		if r := must(t, http.StatusBadRequest)(login(d.b.base, "dee", password)); r.body["code"] != "inactive_user" {
			t.Errorf("login on B after the deactivation: %s", r.raw)
		}
	})

	t.Run("a reset link mailed through A works once on B or A and ends A's sessions", func(t *testing.T) {
		must(t, http.StatusCreated)(register(d.a.base, "pia", password))
		pair := must(t, http.StatusOK)(login(d.a.base, "pia", password)).body
		tok := pair["access_token"].(string)
		must(t, http.StatusOK)(me(d.b.base, tok))

		must(t, http.StatusAccepted)(call("POST", d.a.base+"/auth/password-reset/request", "application/json", `{"email":"pia@example.com"}`, ""))
		msg := relay.Receive(t, 15*time.Second)
		if !slices.Contains(msg.To, "pia@example.com") {
			t.Fatalf("reset mail went to %v", msg.To)
		}
		_, token := msg.Link(t, "/ui/reset-password")
		const newPassword = "a brand new scale-out password"
		body := func(pw string) string {
			b, _ := json.Marshal(map[string]string{"token": token, "new_password": pw})
			return string(b)
		}
		must(t, http.StatusNoContent)(call("POST", d.b.base+"/auth/password-reset", "application/json", body(newPassword), ""))
		if r := must(t, http.StatusBadRequest)(call("POST", d.a.base+"/auth/password-reset", "application/json", body("yet another scale-out password"), "")); r.body["code"] != "invalid_link_token" {
			t.Errorf("second use of the link, on A: %s", r.raw)
		}

		// The session opened on A is over, as B sees it.
		if r := must(t, http.StatusUnauthorized)(me(d.b.base, tok)); r.body["code"] != "invalid_token" {
			t.Errorf("B on the old access token: %s", r.raw)
		}
		if r := must(t, http.StatusBadRequest)(refresh(d.b.base, pair["refresh_token"].(string))); r.body["code"] != "invalid_grant" {
			t.Errorf("refresh on B with the old session: %s", r.raw)
		}
		must(t, http.StatusUnauthorized)(login(d.a.base, "pia", password))
		must(t, http.StatusOK)(login(d.a.base, "pia", newPassword))
		relay.None(t)
	})
}

// enrolTOTP logs username in on base and turns TOTP on, confirming with
// the code of at; it returns the secret and the recovery codes.
func enrolTOTP(t *testing.T, base, username string, at time.Time) (secret string, recovery []string) {
	t.Helper()
	tok := must(t, http.StatusOK)(login(base, username, password)).body["access_token"].(string)
	secret = must(t, http.StatusOK)(call("POST", base+"/users/me/mfa/totp", "", "", tok)).body["secret"].(string)
	b, _ := json.Marshal(map[string]string{"code": totpAt(t, secret, at), "password": password})
	r := must(t, http.StatusOK)(call("POST", base+"/users/me/mfa/totp/confirm", "application/json", string(b), tok))
	for _, c := range r.body["recovery_codes"].([]any) {
		recovery = append(recovery, c.(string))
	}
	return secret, recovery
}

// mfaChallenge runs the password step on base and returns the mfa_token
// of its 401 mfa_required.
func mfaChallenge(t *testing.T, base, username string) string {
	t.Helper()
	r := must(t, http.StatusUnauthorized)(login(base, username, password))
	tok, _ := r.body["mfa_token"].(string)
	if r.body["code"] != "mfa_required" || tok == "" {
		t.Fatalf("password step on %s: %s", base, r.raw)
	}
	return tok
}

func loginMFA(base, mfaToken, code string) (reply, error) {
	b, _ := json.Marshal(map[string]string{"mfa_token": mfaToken, "code": code})
	return call("POST", base+"/auth/login/mfa", "application/json", string(b), "")
}

// wrongCode is a six-digit code that is none of secret's codes near now.
func wrongCode(t *testing.T, secret string) string {
	t.Helper()
	now := time.Now()
	var near []string
	for d := -3; d <= 3; d++ {
		near = append(near, totpAt(t, secret, now.Add(time.Duration(d)*30*time.Second)))
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", n*111111%1000000); !slices.Contains(near, c) {
			return c
		}
	}
}
