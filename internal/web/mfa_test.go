package web

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse"
)

// alignStep moves the clock to one second into the next 30-second TOTP
// step, so that a test's codes never straddle a step boundary.
func (e *testEnv) alignStep() {
	now := e.clock.Now()
	next := now.Truncate(30 * time.Second).Add(31 * time.Second)
	e.clock.Add(next.Sub(now))
}

// nextStep moves the clock one TOTP step on.
func (e *testEnv) nextStep() { e.clock.Add(30 * time.Second) }

// codeAt computes the TOTP code of secret at t, as an authenticator app
// would.
func codeAt(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	code, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// enrolTOTP starts and confirms a TOTP enrolment for the holder of access,
// whose password is goodPassword, returning the secret and the recovery
// codes.
func (e *testEnv) enrolTOTP(tb testing.TB, access string) (secret string, recovery []string) {
	tb.Helper()
	return e.enrolTOTPWith(tb, access, goodPassword)
}

// enrolTOTPWith is enrolTOTP for an account whose password is password
// ("" for an account without one, whose sign-in must then be recent).
func (e *testEnv) enrolTOTPWith(tb testing.TB, access, password string) (secret string, recovery []string) {
	tb.Helper()
	e.alignStep()
	r := e.do(tb, authed(http.MethodPost, "/users/me/mfa/totp", access, nil))
	if r.status != http.StatusOK {
		tb.Fatalf("enrol: %d %s", r.status, r.body)
	}
	secret = r.json(tb)["secret"].(string)
	body := map[string]string{"code": codeAt(tb, secret, e.clock.Now())}
	if password != "" {
		body["password"] = password
	}
	r = e.do(tb, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, body))
	if r.status != http.StatusOK {
		tb.Fatalf("confirm: %d %s", r.status, r.body)
	}
	for _, c := range r.json(tb)["recovery_codes"].([]any) {
		recovery = append(recovery, c.(string))
	}
	e.nextStep() // the confirmation's code is used up
	return secret, recovery
}

// passwordStep logs in with a password and expects the MFA challenge,
// returning its mfa_token.
func (e *testEnv) passwordStep(tb testing.TB, username, password string) string {
	tb.Helper()
	r := e.login(tb, username, password)
	if r.status != http.StatusUnauthorized || r.code(tb) != gatehouse.CodeMFARequired {
		tb.Fatalf("password step: %d %s, want 401 mfa_required", r.status, r.body)
	}
	tok, _ := r.json(tb)["mfa_token"].(string)
	if tok == "" {
		tb.Fatalf("no mfa_token in %s", r.body)
	}
	return tok
}

func (e *testEnv) mfaStep(tb testing.TB, mfaToken, code string) response {
	tb.Helper()
	return e.do(tb, jsonRequest(http.MethodPost, "/auth/login/mfa", map[string]string{"mfa_token": mfaToken, "code": code}))
}

func wantError(tb testing.TB, what string, r response, status int, code string) {
	tb.Helper()
	if r.status != status || r.code(tb) != code {
		tb.Errorf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}

// The whole life of a second factor over HTTP: enrol (QR code included),
// confirm with a code computed from the secret, log in in two steps, and
// tokens that say so.
func TestTOTPEnrolmentAndLogin(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "mia", "mia@example.com", goodPassword)
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t); st["totp"].(map[string]any)["enabled"] != false {
		t.Errorf("fresh account status: %v", st)
	}
	claims := claimsOf(t, access)
	if !slices.Equal(anyStrings(claims["amr"]), []string{"pwd"}) || claims["aal"] != "aal1" {
		t.Errorf("password login: amr %v aal %v, want [pwd] aal1", claims["amr"], claims["aal"])
	}

	e.alignStep()
	r := e.do(t, authed(http.MethodPost, "/users/me/mfa/totp", access, nil))
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("enrol: %d %v %s", r.status, r.header, r.body)
	}
	en := r.json(t)
	secret := en["secret"].(string)
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil || len(raw) != 20 {
		t.Errorf("secret %q: %d bytes, %v; want 20", secret, len(raw), err)
	}
	key, err := otp.NewKeyFromURL(en["otpauth_uri"].(string))
	if err != nil || key.Type() != "totp" || key.Secret() != secret || key.Issuer() != "Gatehouse Test" || key.AccountName() != "mia" ||
		key.Period() != 30 || key.Digits() != otp.DigitsSix {
		t.Errorf("otpauth URI %q does not describe the secret", en["otpauth_uri"])
	}
	pngBytes, err := base64.StdEncoding.DecodeString(en["qr_png"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(pngBytes)); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("qr_png is not a usable PNG: %v", err)
	}
	if en["qr_data_uri"] != "data:image/png;base64,"+en["qr_png"].(string) {
		t.Errorf("qr_data_uri %.40q… is not the PNG as a data URI", en["qr_data_uri"])
	}
	// Until confirmed, nothing changes at login.
	if r := e.login(t, "mia", goodPassword); r.status != http.StatusOK {
		t.Fatalf("login with a pending enrolment: %d %s", r.status, r.body)
	}
	wantError(t, "confirm with a wrong code", e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, map[string]string{"code": "000000", "password": goodPassword})),
		http.StatusBadRequest, gatehouse.CodeWrongMFACode)
	confirmCode := codeAt(t, secret, e.clock.Now())
	r = e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, map[string]string{"code": confirmCode, "password": goodPassword}))
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	codes := anyStrings(r.json(t)["recovery_codes"])
	codeShape := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)
	if len(codes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(codes)))) != 10 {
		t.Errorf("recovery codes %q, want 10 distinct", codes)
	}
	for _, c := range codes {
		if !codeShape.MatchString(c) {
			t.Errorf("recovery code %q is not xxxx-xxxx-xxxx", c)
		}
	}
	wantError(t, "enrol again", e.do(t, authed(http.MethodPost, "/users/me/mfa/totp", access, nil)), http.StatusConflict, gatehouse.CodeMFAAlreadyEnabled)
	wantError(t, "confirm again", e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, map[string]string{"code": confirmCode, "password": goodPassword})),
		http.StatusConflict, gatehouse.CodeMFAAlreadyEnabled)
	st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t)
	if st["totp"].(map[string]any)["enabled"] != true || st["recovery_codes_left"] != float64(10) {
		t.Errorf("status after enrolment: %v", st)
	}

	// The password step now answers 401 mfa_required with an mfa_token,
	// and no tokens.
	r = e.login(t, "mia", goodPassword)
	body := r.json(t)
	if r.status != http.StatusUnauthorized || body["code"] != gatehouse.CodeMFARequired || body["access_token"] != nil ||
		body["expires_in"] != float64(300) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("password step: %d %v %s", r.status, r.header, r.body)
	}
	mfaToken := body["mfa_token"].(string)
	// The confirmation's code was used: the same step is a replay.
	wantError(t, "confirmation code replayed", e.mfaStep(t, mfaToken, confirmCode), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
	e.nextStep()
	code := codeAt(t, secret, e.clock.Now())
	r = e.mfaStep(t, mfaToken, code)
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("second step: %d %s", r.status, r.body)
	}
	pair := r.json(t)
	claims = claimsOf(t, pair["access_token"].(string))
	if !slices.Equal(anyStrings(claims["amr"]), []string{"pwd", "otp"}) || claims["aal"] != "aal2" {
		t.Errorf("MFA login: amr %v aal %v, want [pwd otp] aal2", claims["amr"], claims["aal"])
	}
	if s := e.me(t, pair["access_token"].(string)); s != http.StatusOK {
		t.Errorf("GET /users/me with the MFA login's token: %d", s)
	}
	// A refreshed token keeps how the session was authenticated.
	r = e.refresh(t, pair["refresh_token"].(string))
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	claims = claimsOf(t, r.json(t)["access_token"].(string))
	if !slices.Equal(anyStrings(claims["amr"]), []string{"pwd", "otp"}) || claims["aal"] != "aal2" {
		t.Errorf("refreshed token: amr %v aal %v", claims["amr"], claims["aal"])
	}

	// The mfa_token completed one login: it is gone, even with a new code.
	e.nextStep()
	wantError(t, "used mfa_token", e.mfaStep(t, mfaToken, codeAt(t, secret, e.clock.Now())), http.StatusUnauthorized, gatehouse.CodeInvalidMFAToken)
	// A code is accepted once: the same code with a fresh mfa_token is a
	// replay (the step is still current, but used).
	again := e.passwordStep(t, "mia", goodPassword)
	now := codeAt(t, secret, e.clock.Now())
	if r := e.mfaStep(t, again, now); r.status != http.StatusOK {
		t.Fatalf("fresh code: %d %s", r.status, r.body)
	}
	third := e.passwordStep(t, "mia", goodPassword)
	wantError(t, "replayed code", e.mfaStep(t, third, now), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
	// The wrong password still answers as before: MFA tells nothing.
	wantError(t, "wrong password", e.login(t, "mia", "not the password at all"), http.StatusUnauthorized, gatehouse.CodeInvalidCredentials)
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Codes of the step before and after now are accepted (clock skew), codes
// two steps away are not.
func TestTOTPClockSkew(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "kai", "kai@example.com", goodPassword)
	secret, _ := e.enrolTOTP(t, access)
	e.alignStep()
	for _, tt := range []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"two steps behind", -60 * time.Second, false},
		{"two steps ahead", 60 * time.Second, false},
		{"one step behind", -30 * time.Second, true},
		{"one step ahead", 30 * time.Second, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.nextStep()
			e.nextStep() // past any step used before
			tok := e.passwordStep(t, "kai", goodPassword)
			r := e.mfaStep(t, tok, codeAt(t, secret, e.clock.Now().Add(tt.offset)))
			if tt.ok && r.status != http.StatusOK {
				t.Errorf("%d %s, want 200", r.status, r.body)
			}
			if !tt.ok {
				wantError(t, tt.name, r, http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
			}
		})
	}
}

// Recovery codes complete a login once each, typed in any case, with or
// without dashes; the tokens record a one-time password.
func TestRecoveryCodes(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "ren", "ren@example.com", goodPassword)
	_, codes := e.enrolTOTP(t, access)
	tests := []struct {
		name, typed string
		status      int
	}{
		{"as shown", codes[0], http.StatusOK},
		{"used again", codes[0], http.StatusUnauthorized},
		{"upper case without dashes", strings.ToUpper(strings.ReplaceAll(codes[1], "-", "")), http.StatusOK},
		{"spaces around", "  " + codes[2] + " ", http.StatusOK},
		{"made up", "aaaa-bbbb-cccc", http.StatusUnauthorized},
		{"too long", strings.Repeat("a", 500), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.mfaStep(t, e.passwordStep(t, "ren", goodPassword), tt.typed)
			if r.status != tt.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.status == http.StatusOK {
				claims := claimsOf(t, r.json(t)["access_token"].(string))
				if !slices.Equal(anyStrings(claims["amr"]), []string{"pwd", "otp"}) || claims["aal"] != "aal2" {
					t.Errorf("amr %v aal %v", claims["amr"], claims["aal"])
				}
			} else if r.code(t) != gatehouse.CodeInvalidMFACode {
				t.Errorf("code %s, want invalid_mfa_code", r.code(t))
			}
		})
	}
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t); st["recovery_codes_left"] != float64(7) {
		t.Errorf("recovery_codes_left = %v, want 7", st["recovery_codes_left"])
	}
}

// An mfa_token is good for its own user's second step only, for five
// minutes, and is no access token (nor is an access token an mfa_token).
func TestMFATokenRefused(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "ada", "ada@example.com", goodPassword)
	secret, _ := e.enrolTOTP(t, access)
	otherAccess := e.token(t, "bo", "bo@example.com", goodPassword)
	otherSecret, _ := e.enrolTOTP(t, otherAccess)
	code := func() string { return codeAt(t, secret, e.clock.Now()) }

	tok := e.passwordStep(t, "ada", goodPassword)
	wantError(t, "mfa_token as a bearer token", e.do(t, bearerRequest("/users/me", tok)), http.StatusUnauthorized, gatehouse.CodeInvalidToken)
	for _, tt := range []struct{ name, token string }{
		{"made up", "AAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"access token", access},
		{"garbage", "\x00\xff not a token"},
		{"huge", strings.Repeat("A", 5000)},
		{"mfa_token with a character changed", flipLast(tok)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.name, e.mfaStep(t, tt.token, code()), http.StatusUnauthorized, gatehouse.CodeInvalidMFAToken)
		})
	}
	// Bound to its user: another account's valid code does not complete it.
	wantError(t, "another user's code", e.mfaStep(t, tok, codeAt(t, otherSecret, e.clock.Now())), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
	// Expired after five minutes.
	e.clock.Add(5*time.Minute + time.Second)
	wantError(t, "expired mfa_token", e.mfaStep(t, tok, code()), http.StatusUnauthorized, gatehouse.CodeInvalidMFAToken)
	// Missing fields are a validation error.
	r := e.do(t, jsonRequest(http.MethodPost, "/auth/login/mfa", map[string]string{"mfa_token": tok}))
	if r.status != http.StatusUnprocessableEntity || !hasProblem(t, r, "code", "missing") {
		t.Errorf("missing code: %d %s", r.status, r.body)
	}
	// After MFA is disabled, an outstanding mfa_token is void.
	tok = e.passwordStep(t, "ada", goodPassword)
	if r := e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access, map[string]string{"password": goodPassword})); r.status != http.StatusNoContent {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	wantError(t, "mfa_token after disable", e.mfaStep(t, tok, code()), http.StatusUnauthorized, gatehouse.CodeInvalidMFAToken)
}

// Wrong codes are rate-limited per account: the sixth in a row is refused
// unchecked (a right code too), and waiting Retry-After lets one through.
func TestMFARateLimit(t *testing.T) {
	e := newTestEnv(t, envOptions{limits: defaultLimits()})
	access := e.token(t, "uma", "uma@example.com", goodPassword)
	secret, _ := e.enrolTOTP(t, access)
	tok := e.passwordStep(t, "uma", goodPassword)
	right := codeAt(t, secret, e.clock.Now())
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	for i := range 5 {
		wantError(t, "wrong code", e.mfaStep(t, tok, wrong), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
		_ = i
	}
	r := e.mfaStep(t, tok, right)
	wait := retryAfter(t, r)
	// Another address is refused too: the budget is the account's.
	r = e.do(t, from(jsonRequest(http.MethodPost, "/auth/login/mfa", map[string]string{"mfa_token": tok, "code": right}), "203.0.113.9"))
	if r.status != http.StatusTooManyRequests {
		t.Errorf("from another address: %d %s", r.status, r.body)
	}
	e.clock.Add(wait)
	tok = e.passwordStep(t, "uma", goodPassword) // the first may have expired meanwhile
	if r := e.mfaStep(t, tok, codeAt(t, secret, e.clock.Now())); r.status != http.StatusOK {
		t.Fatalf("after Retry-After: %d %s", r.status, r.body)
	}
	// A success gives the budget back.
	e.nextStep()
	for range 4 {
		e.mfaStep(t, e.passwordStep(t, "uma", goodPassword), wrong)
	}
	if r := e.mfaStep(t, e.passwordStep(t, "uma", goodPassword), codeAt(t, secret, e.clock.Now())); r.status != http.StatusOK {
		t.Errorf("after a success, four failures spent the budget: %d %s", r.status, r.body)
	}
}

// Two requests racing with one code: exactly one logs in.
func TestMFAConcurrentReplay(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "cy", "cy@example.com", goodPassword)
	secret, _ := e.enrolTOTP(t, access)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = e.passwordStep(t, "cy", goodPassword)
	}
	code := codeAt(t, secret, e.clock.Now())
	statuses := make([]int, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { statuses[i] = e.mfaStep(t, tok, code).status })
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		} else if s != http.StatusUnauthorized {
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Errorf("one code logged in %d times, want once", ok)
	}
}

// The token endpoint's password grant is a login like any other: it does
// not bypass the second factor.
func TestTokenEndpointRequiresMFA(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "lu", "lu@example.com", goodPassword)
	secret, _ := e.enrolTOTP(t, access)
	r := e.do(t, tokenRequest(url.Values{"grant_type": {"password"}, "username": {"lu"}, "password": {goodPassword}, "client_id": {"cli"}, "scope": {"read"}}))
	body := r.json(t)
	if r.status != http.StatusUnauthorized || body["code"] != gatehouse.CodeMFARequired || body["access_token"] != nil || body["mfa_token"] == nil {
		t.Fatalf("password grant: %d %s", r.status, r.body)
	}
	r = e.mfaStep(t, body["mfa_token"].(string), codeAt(t, secret, e.clock.Now()))
	if r.status != http.StatusOK {
		t.Fatalf("second step: %d %s", r.status, r.body)
	}
	// The session keeps the client and scope of the password step.
	if got := r.json(t); got["scope"] != "read" || claimsOf(t, got["access_token"].(string))["client_id"] != "cli" {
		t.Errorf("second step lost the grant's client and scope: %s", r.body)
	}
}

func TestDisableTOTP(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "ole", "ole@example.com", goodPassword)
	wantError(t, "disable when off", e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access, map[string]string{"password": goodPassword})),
		http.StatusConflict, gatehouse.CodeMFANotEnabled)
	wantError(t, "confirm with nothing pending", e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, map[string]string{"code": "123456"})),
		http.StatusConflict, gatehouse.CodeMFAEnrolmentNotFound)
	secret, codes := e.enrolTOTP(t, access)
	del := func(body any) response {
		return e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access, body))
	}
	for _, tt := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"neither", map[string]string{}, http.StatusUnprocessableEntity, gatehouse.CodeValidation},
		{"both", map[string]string{"code": "123456", "password": goodPassword}, http.StatusUnprocessableEntity, gatehouse.CodeValidation},
		{"code not a string", map[string]any{"code": 123456}, http.StatusUnprocessableEntity, gatehouse.CodeValidation},
		{"wrong code", map[string]string{"code": "000000"}, http.StatusBadRequest, gatehouse.CodeWrongMFACode},
		{"wrong password", map[string]string{"password": "not the password at all"}, http.StatusBadRequest, gatehouse.CodeWrongPassword},
	} {
		t.Run(tt.name, func(t *testing.T) { wantError(t, tt.name, del(tt.body), tt.status, tt.code) })
	}
	if r := e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access, nil)); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("no body: %d %s", r.status, r.body)
	}
	// Still on after every refusal; a current code turns it off.
	e.passwordStep(t, "ole", goodPassword)
	if r := del(map[string]string{"code": codeAt(t, secret, e.clock.Now())}); r.status != http.StatusNoContent {
		t.Fatalf("disable with a code: %d %s", r.status, r.body)
	}
	if r := e.login(t, "ole", goodPassword); r.status != http.StatusOK {
		t.Fatalf("login after disable: %d %s", r.status, r.body)
	}
	// The old recovery codes died with it; a new enrolment can be turned
	// off with the password, or with a recovery code.
	_, codes2 := e.enrolTOTP(t, access)
	if slices.Contains(codes2, codes[0]) {
		t.Error("a new enrolment reissued an old recovery code")
	}
	if r := del(map[string]string{"code": codes2[3]}); r.status != http.StatusNoContent {
		t.Fatalf("disable with a recovery code: %d %s", r.status, r.body)
	}
	e.enrolTOTP(t, access)
	if r := del(map[string]string{"password": goodPassword}); r.status != http.StatusNoContent {
		t.Fatalf("disable with the password: %d %s", r.status, r.body)
	}
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t); st["totp"].(map[string]any)["enabled"] != false {
		t.Errorf("status after disable: %v", st)
	}
	// Without a token, none of it.
	for _, req := range []*http.Request{
		jsonRequest(http.MethodPost, "/users/me/mfa/totp", nil),
		jsonRequest(http.MethodPost, "/users/me/mfa/totp/confirm", map[string]string{"code": "123456"}),
		jsonRequest(http.MethodDelete, "/users/me/mfa/totp", map[string]string{"password": goodPassword}),
		bearerRequest("/users/me/mfa", ""),
	} {
		wantError(t, req.Method+" "+req.URL.Path+" without a token", e.do(t, req), http.StatusUnauthorized, gatehouse.CodeInvalidToken)
	}
}

// A copy of the database yields no working second factor: the TOTP secret
// is stored sealed, and recovery codes as MACs.
func TestTOTPSecretSealedAtRest(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "sam", "sam@example.com", goodPassword)
	secret, codes := e.enrolTOTP(t, access)
	u, err := e.users.UserByUsername(t.Context(), "sam")
	if err != nil {
		t.Fatal(err)
	}
	row, err := e.mfa.TOTPByUser(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if bytes.Contains(row.Secret, raw) || bytes.Contains(row.Secret, []byte(secret)) || len(row.Secret) < len(raw)+16 {
		t.Errorf("the stored secret (%d bytes) holds the secret in the clear", len(row.Secret))
	}
	// Recovery codes as typed are no store keys.
	if _, err := e.mfa.UseRecoveryCode(t.Context(), u.ID, []byte(codes[0]), e.clock.Now()); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("a recovery code is stored as it is: %v", err)
	}
}

// Every MFA event lands in the audit log, and no secret or code does.
func TestMFAAuditEvents(t *testing.T) {
	e := newTestEnv(t, envOptions{limits: defaultLimits()})
	access := e.token(t, "eve", "eve@example.com", goodPassword)
	e.do(t, authed(http.MethodPost, "/users/me/mfa/totp", access, nil))
	e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, map[string]string{"code": "000000", "password": goodPassword}))
	e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access, map[string]string{"password": goodPassword}))
	secret, codes := e.enrolTOTP(t, access)
	tok := e.passwordStep(t, "eve", goodPassword)
	code := codeAt(t, secret, e.clock.Now())
	e.mfaStep(t, tok, "000000")
	e.mfaStep(t, "not-a-token", code)
	e.mfaStep(t, tok, code)
	e.mfaStep(t, e.passwordStep(t, "eve", goodPassword), code) // replay
	e.mfaStep(t, e.passwordStep(t, "eve", goodPassword), codes[0])
	tok = e.passwordStep(t, "eve", goodPassword)
	for range 6 {
		e.mfaStep(t, tok, "000000")
	}
	e.clock.Add(time.Hour)
	access2 := e.token2(t, "eve", secret)
	e.nextStep()
	e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access2, map[string]string{"code": codeAt(t, secret, e.clock.Now())}))

	events, err := e.audit.ListAudit(t.Context(), gatehouse.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.Event+"/"+ev.Outcome+"/"+ev.Reason] = true
		text := ev.Login + ev.Reason + ev.SessionID + strings.Join(mapValues(ev.Detail), " ")
		for _, secretText := range append([]string{secret, code, tok, goodPassword}, codes...) {
			if strings.Contains(text, secretText) {
				t.Errorf("event %s records a secret", ev.Event)
			}
		}
		if ev.Event == gatehouse.EventRecoveryCodeUsed && ev.Detail["remaining"] != "9" {
			t.Errorf("recovery_code_used detail %v, want remaining 9", ev.Detail)
		}
	}
	for _, want := range []string{
		"mfa_enrolled/failure/" + gatehouse.CodeWrongMFACode,
		"mfa_enrolled/success/",
		"mfa_disabled/success/",
		"login/success/" + gatehouse.CodeMFARequired,
		"mfa_login/success/",
		"mfa_login/failure/" + gatehouse.CodeInvalidMFACode,
		"mfa_login/failure/" + gatehouse.CodeInvalidMFAToken,
		"mfa_login/failure/" + gatehouse.ReasonCodeReplayed,
		"recovery_code_used/success/",
		"rate_limited/failure/" + gatehouse.EventMFALogin,
	} {
		if !seen[want] {
			t.Errorf("no audit event %s (have %v)", want, keys(seen))
		}
	}
}

// token2 logs in with a password and a current TOTP code.
func (e *testEnv) token2(tb testing.TB, username, secret string) string {
	tb.Helper()
	r := e.mfaStep(tb, e.passwordStep(tb, username, goodPassword), codeAt(tb, secret, e.clock.Now()))
	if r.status != http.StatusOK {
		tb.Fatalf("MFA login: %d %s", r.status, r.body)
	}
	return r.json(tb)["access_token"].(string)
}

// flipLast returns s with its last character changed.
func flipLast(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
