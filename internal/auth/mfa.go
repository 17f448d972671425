package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app
// reads (SHA-1, six digits, 30-second steps). SHA-1 is sound in HMAC.
const (
	totpPeriod     = 30
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226 §4's recommendation
	totpSkew       = 1  // steps either side of now: ±30 s of clock skew
	qrSize         = 256
)

// MFATokenTTL is how long the mfa_token of a password step is good for.
const MFATokenTTL = 5 * time.Minute

// RecoveryCodeCount is how many recovery codes a confirmation issues.
const RecoveryCodeCount = 10

// recoveryCodeChars is the length of a recovery code without its dashes:
// 12 base32 characters, 60 bits, against an online guesser who is held to
// the MFA rate limit, and stored as a MAC under a server key, so that a copy
// of the database cannot be searched offline either.
const recoveryCodeChars = 12

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// mfaKeys are the keys MFA derives from Deps.MFAKey: one seals TOTP
// secrets, the other MACs recovery codes.
type mfaKeys struct {
	seal     cipher.AEAD
	recovery []byte
}

func newMFAKeys(key []byte) (*mfaKeys, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("auth: MFA key is %d bytes, want at least 32", len(key))
	}
	sealKey, err := hkdf.Key(sha256.New, key, nil, "gatehouse totp secret seal v1", 32)
	if err != nil {
		return nil, err
	}
	recovery, err := hkdf.Key(sha256.New, key, nil, "gatehouse recovery code mac v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	// A random nonce per seal, prepended by the AEAD: one seal per
	// enrolment is far below the 2^32 seals where random nonces may repeat.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &mfaKeys{seal: aead, recovery: recovery}, nil
}

// totpAD binds a sealed secret to its user, so that a sealed secret copied
// into another user's row does not open there.
func totpAD(userID int64) []byte {
	return strconv.AppendInt([]byte("gatehouse totp secret v1\x00"), userID, 10)
}

func (k *mfaKeys) sealSecret(userID int64, secret []byte) []byte {
	return k.seal.Seal(nil, nil, secret, totpAD(userID))
}

func (k *mfaKeys) openSecret(userID int64, sealed []byte) ([]byte, error) {
	out, err := k.seal.Open(nil, nil, sealed, totpAD(userID))
	if err != nil {
		return nil, errors.New("cannot open the TOTP secret: the server secret changed, or the row was altered")
	}
	return out, nil
}

// recoveryHash is the stored form of a normalised recovery code.
func (k *mfaKeys) recoveryHash(userID int64, code string) []byte {
	m := hmac.New(sha256.New, k.recovery)
	m.Write(strconv.AppendInt(nil, userID, 10))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// initMFA sets up MFA from d; without d.MFA it stays off.
func (s *Service) initMFA(d Deps) {
	if d.MFA == nil {
		return
	}
	keys, err := newMFAKeys(d.MFAKey)
	if err != nil {
		panic(err)
	}
	s.mfa, s.mfaKeys, s.totpIssuer = d.MFA, keys, d.TOTPIssuer
	if s.totpIssuer == "" {
		s.totpIssuer = "gatehouse"
	}
}

var errMFAOff = gatehouse.Errorf(gatehouse.CodeNotFound, "mfa is not configured")

func (s *Service) mfaOn() bool { return s.mfa != nil && s.mfaKeys != nil }

// TOTPEnrolment is what starting an enrolment hands the user: the secret
// (base32, for typing in), the otpauth:// URI and its QR code as a PNG.
type TOTPEnrolment struct {
	Secret string
	URI    string
	QRPNG  []byte
}

// EnrolTOTP starts a TOTP enrolment for u: a new random secret is stored,
// sealed, as pending (replacing an earlier pending one) until ConfirmTOTP.
// CodeMFAAlreadyEnabled if u has a confirmed TOTP.
func (s *Service) EnrolTOTP(ctx context.Context, u *gatehouse.User) (*TOTPEnrolment, error) {
	if !s.mfaOn() {
		return nil, errMFAOff
	}
	raw := make([]byte, totpSecretSize)
	rand.Read(raw) // never fails (crypto/rand)
	err := s.mfa.PutPendingTOTP(ctx, &gatehouse.TOTP{
		UserID: u.ID, Secret: s.mfaKeys.sealSecret(u.ID, raw), CreatedAt: s.now().UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		return nil, err
	}
	return s.enrolment(u, raw)
}

// enrolment presents the raw secret of u's enrolment: base32 for typing
// in, the otpauth:// URI (SHA-1, six digits, 30 s, as every app reads it)
// and that URI as a QR code.
func (s *Service) enrolment(u *gatehouse.User, raw []byte) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.totpIssuer, AccountName: u.Username, Period: totpPeriod, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	return &TOTPEnrolment{Secret: key.Secret(), URI: key.URL(), QRPNG: buf.Bytes()}, nil
}

// ConfirmTOTP activates u's pending TOTP with a current code from the
// authenticator and returns RecoveryCodeCount one-time recovery codes, shown
// this once and stored only as MACs. The code's step counts as used.
//
// The holder of u's session sessionID re-authenticates first (see
// reauthenticate): with the current password, or, for an account without
// one, a sign-in less than ReauthWindow old. Else a stolen access token
// could enrol the thief's authenticator, and the owner, who cannot pass
// the second step, would be locked out of their own account.
//
// CodeMFAEnrolmentNotFound without a pending enrolment,
// CodeMFAAlreadyEnabled when already confirmed, CodeReauthRequired or
// CodeWrongPassword when the re-authentication fails, CodeWrongMFACode for
// a wrong code.
func (s *Service) ConfirmTOTP(ctx context.Context, u *gatehouse.User, sessionID, code, password string) (codes []string, err error) {
	if !s.mfaOn() {
		return nil, errMFAOff
	}
	defer func() {
		switch gatehouse.ErrorCode(err) {
		case gatehouse.CodeWrongMFACode, gatehouse.CodeRateLimited, gatehouse.CodeWrongPassword, gatehouse.CodeReauthRequired:
		default:
			if err != nil {
				return // nothing to tell about an enrolment that was not there
			}
		}
		s.auditResult(ctx, gatehouse.EventMFAEnrolled, u.ID, "", err)
	}()
	if code == "" {
		return nil, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "code"}, Type: "missing"})
	}
	t, err := s.pendingTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	fresh, err := s.users.UserByID(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if err := s.reauthenticate(ctx, fresh, sessionID, password); err != nil {
		return nil, err
	}
	if err := s.takeMFA(ctx, u); err != nil {
		return nil, err
	}
	secret, err := s.mfaKeys.openSecret(u.ID, t.Secret)
	if err != nil {
		// Sealed under another server secret: this enrolment can never be
		// confirmed; the user starts again (which replaces it).
		s.log.LogAttrs(ctx, slog.LevelError, "pending TOTP secret unreadable", slog.Int64("user_id", u.ID), slog.String("error", err.Error()))
		return nil, &gatehouse.Error{Code: gatehouse.CodeMFAEnrolmentNotFound, Err: err}
	}
	step, ok := matchTOTP(secret, code, s.now())
	if !ok {
		return nil, &gatehouse.Error{Code: gatehouse.CodeWrongMFACode}
	}
	codes = make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = s.mfaKeys.recoveryHash(u.ID, normalizeRecoveryCode(codes[i]))
	}
	if err := s.mfa.ConfirmTOTP(ctx, u.ID, t.Secret, step, hashes, s.now().UTC().Truncate(time.Microsecond)); err != nil {
		return nil, err
	}
	s.mfaSucceeded(ctx, u)
	return codes, nil
}

// DisableTOTP removes u's TOTP and recovery codes, and revokes every other
// session of u (reason RevokedMFADisabled), keeping sessionID, the one
// making the change, all in one store transaction: the other sessions'
// tokens claim a second factor (amr "otp", aal2) the account no longer
// has, and a resource server that asks for aal2 must not keep trusting
// them. The user proves it is them with a current code (TOTP or recovery
// code) or the password: a stolen access token alone cannot take the
// second factor away. The mfa_disabled event's Detail "sessions_revoked"
// counts the sessions ended. CodeMFANotEnabled without a confirmed TOTP;
// CodeWrongMFACode or CodeWrongPassword when the proof is wrong.
func (s *Service) DisableTOTP(ctx context.Context, u *gatehouse.User, sessionID, code, password string) (err error) {
	if !s.mfaOn() {
		return errMFAOff
	}
	revoked := 0
	defer func() {
		if gatehouse.IsCode(err, gatehouse.CodeMFANotEnabled) {
			return
		}
		if err != nil {
			s.auditResult(ctx, gatehouse.EventMFADisabled, u.ID, sessionID, err)
			return
		}
		s.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventMFADisabled, Outcome: gatehouse.OutcomeSuccess, UserID: u.ID,
			SessionID: sessionID, Detail: map[string]string{"sessions_revoked": strconv.Itoa(revoked)}})
	}()
	if err := s.checkProof(code, password); err != nil {
		return err
	}
	t, err := s.mfa.TOTPByUser(ctx, u.ID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) || err == nil && !t.Confirmed() {
		return &gatehouse.Error{Code: gatehouse.CodeMFANotEnabled}
	}
	if err != nil {
		return err
	}
	if err := s.takeMFA(ctx, u); err != nil {
		return err
	}
	if err := s.proveOwner(ctx, u, t, code, password, true); err != nil {
		return err
	}
	revoked, err = s.mfa.DisableTOTP(ctx, u.ID, sessionID, s.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
			return &gatehouse.Error{Code: gatehouse.CodeMFANotEnabled}
		}
		return err
	}
	s.mfaSucceeded(ctx, u)
	return s.revocations.Sync(ctx)
}

// MFAStatus is what a user may know of their own second factors.
type MFAStatus struct {
	TOTPEnabled       bool
	TOTPPending       bool
	ConfirmedAt       time.Time
	RecoveryCodesLeft int
}

// MFAStatus reports u's second factors.
func (s *Service) MFAStatus(ctx context.Context, u *gatehouse.User) (MFAStatus, error) {
	if !s.mfaOn() {
		return MFAStatus{}, nil
	}
	t, err := s.mfa.TOTPByUser(ctx, u.ID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return MFAStatus{}, nil
	}
	if err != nil {
		return MFAStatus{}, err
	}
	st := MFAStatus{TOTPEnabled: t.Confirmed(), TOTPPending: !t.Confirmed(), ConfirmedAt: t.ConfirmedAt}
	if t.Confirmed() {
		if st.RecoveryCodesLeft, err = s.mfa.RecoveryCodesLeft(ctx, u.ID); err != nil {
			return MFAStatus{}, err
		}
	}
	return st, nil
}

// secondFactor is the login's last check, once the first factor is right
// (the password, or a provider sign-in: first lists how, none meaning a
// password): a user with a confirmed TOTP gets CodeMFARequired carrying a
// fresh mfa_token instead of tokens. The challenge remembers first, so that
// the second step's session says how both steps authenticated.
func (s *Service) secondFactor(ctx context.Context, u *gatehouse.User, client Client, first ...string) error {
	if !s.mfaOn() {
		return nil
	}
	t, err := s.mfa.TOTPByUser(ctx, u.ID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !t.Confirmed() {
		return nil
	}
	token := rand.Text() // 128 bits; the store keeps only its SHA-256
	now := s.now().UTC().Truncate(time.Microsecond)
	err = s.mfa.CreateMFAChallenge(ctx, &gatehouse.MFAChallenge{
		TokenHash: mfaTokenHash(token), UserID: u.ID,
		ClientID: truncate(client.ClientID, 128), Scope: truncate(client.Scope, 512), AMR: first,
		CreatedAt: now, ExpiresAt: now.Add(MFATokenTTL),
	})
	if err != nil {
		return err
	}
	return &gatehouse.Error{Code: gatehouse.CodeMFARequired, Err: &gatehouse.MFARequiredError{Token: token, ExpiresIn: MFATokenTTL}}
}

func mfaTokenHash(token string) []byte {
	sum := sha256.Sum256([]byte("gatehouse mfa token v1\x00" + token))
	return sum[:]
}

var errInvalidMFAToken = &gatehouse.Error{Code: gatehouse.CodeInvalidMFAToken}

// LoginMFA completes a login whose first step (a password, or a provider
// sign-in) answered CodeMFARequired: mfaToken is the token it handed out,
// code a current TOTP code or an unused recovery code. It opens the session
// the first step would have, with amr ["pwd", "otp"] or ["fed", "otp"]
// (aal2), and consumes the mfa_token.
//
// A TOTP code is accepted for the current step and one either side, and
// once only: the step is recorded atomically, so a replayed code (even
// concurrently) is refused. Attempts count against the client address's
// login budget and the account's MFA budget (CodeRateLimited).
//
// An unknown, expired or used mfa_token gives CodeInvalidMFAToken; a wrong,
// replayed or used-up code CodeInvalidMFACode, and the mfa_token stays good
// for another try until it expires.
func (s *Service) LoginMFA(ctx context.Context, mfaToken, code string, client Client) (pair *TokenPair, err error) {
	var u *gatehouse.User
	reason, method := "", "totp"
	defer func() { s.auditMFALogin(ctx, u, pair, method, reason, err) }()
	if !s.mfaOn() {
		return nil, errInvalidMFAToken
	}
	var fields []gatehouse.FieldError
	if mfaToken == "" {
		fields = appendProblem(fields, "mfa_token", &problem{typ: "missing"})
	}
	if code == "" {
		fields = appendProblem(fields, "code", &problem{typ: "missing"})
	}
	if len(fields) > 0 {
		return nil, gatehouse.ValidationError(fields...)
	}
	if err := s.limitIP(ctx, scopeLoginIP, s.limits.LoginIP, client.IP); err != nil {
		return nil, err
	}
	if len(mfaToken) > 128 {
		return nil, errInvalidMFAToken
	}
	hash := mfaTokenHash(mfaToken)
	c, err := s.mfa.MFAChallenge(ctx, hash, s.now())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidMFAToken
	}
	if err != nil {
		return nil, err
	}
	u, err = s.users.UserByID(ctx, c.UserID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidMFAToken
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInactiveUser}
	}
	if err := s.takeMFA(ctx, u); err != nil {
		return nil, err
	}
	t, err := s.mfa.TOTPByUser(ctx, u.ID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) || err == nil && !t.Confirmed() {
		return nil, errInvalidMFAToken // MFA was disabled meanwhile: log in again
	}
	if err != nil {
		return nil, err
	}
	recovery, reason, err := s.useCode(ctx, u, t, code)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		return nil, &gatehouse.Error{Code: gatehouse.CodeInvalidMFACode, Err: errors.New(reason)}
	}
	if recovery >= 0 {
		method = "recovery_code"
		s.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventRecoveryCodeUsed, Outcome: gatehouse.OutcomeSuccess,
			UserID: u.ID, Login: u.UsernameKey, Detail: map[string]string{"remaining": strconv.Itoa(recovery)}})
	}
	// The challenge goes after the code is used: of two requests racing
	// with one mfa_token, one opens a session.
	if err := s.mfa.ConsumeMFAChallenge(ctx, hash, s.now()); gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidMFAToken
	} else if err != nil {
		return nil, err
	}
	s.mfaSucceeded(ctx, u)
	client.ClientID, client.Scope = c.ClientID, c.Scope
	first := c.AMR
	if len(first) == 0 {
		first = []string{gatehouse.AMRPassword}
	}
	return s.startSession(ctx, u, client, append(slices.Clone(first), gatehouse.AMROTP)...)
}

// useCode checks code against u's confirmed TOTP t, or else as a recovery
// code, and uses it up. reason is "" when it was accepted, else why not
// (for the audit log); recovery is the number of recovery codes left when
// a recovery code was used, -1 for a TOTP code.
func (s *Service) useCode(ctx context.Context, u *gatehouse.User, t *gatehouse.TOTP, code string) (recovery int, reason string, err error) {
	if tc, ok := totpCode(code); ok {
		secret, err := s.mfaKeys.openSecret(u.ID, t.Secret)
		if err != nil {
			// As an unreadable password hash at login: the operator's
			// problem (the server secret changed), logged; the caller
			// learns only that the code did not work.
			s.log.LogAttrs(ctx, slog.LevelError, "TOTP secret unreadable", slog.Int64("user_id", u.ID), slog.String("error", err.Error()))
			return -1, gatehouse.CodeInvalidMFACode, nil
		}
		step, ok := matchTOTP(secret, tc, s.now())
		if !ok {
			return -1, gatehouse.CodeInvalidMFACode, nil
		}
		err = s.mfa.UseTOTPStep(ctx, u.ID, step)
		switch {
		case gatehouse.IsCode(err, gatehouse.CodeConflict):
			return -1, gatehouse.ReasonCodeReplayed, nil
		case gatehouse.IsCode(err, gatehouse.CodeNotFound):
			return -1, gatehouse.CodeMFANotEnabled, nil
		case err != nil:
			return -1, "", err
		}
		return -1, "", nil
	}
	rc := normalizeRecoveryCode(code)
	if len(rc) != recoveryCodeChars {
		return -1, gatehouse.CodeInvalidMFACode, nil
	}
	left, err := s.mfa.UseRecoveryCode(ctx, u.ID, s.mfaKeys.recoveryHash(u.ID, rc), s.now().UTC().Truncate(time.Microsecond))
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return -1, gatehouse.CodeInvalidMFACode, nil
	}
	if err != nil {
		return -1, "", err
	}
	return left, "", nil
}

// totpCode returns code as six ASCII digits, spaces removed ("123 456"
// as apps show it), and whether it is one.
func totpCode(code string) (string, bool) {
	c := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(c) != 6 {
		return "", false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return "", false
		}
	}
	return c, true
}

// matchTOTP returns the time step, within totpSkew of now's, whose code is
// code. Every candidate is computed and compared in constant time.
func matchTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code, valid := totpCode(code)
	if !valid {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	enc := b32.EncodeToString(secret)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := hotp.GenerateCodeCustom(enc, uint64(cur+d), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = cur+d, true
		}
	}
	return step, ok
}

// newRecoveryCode returns a random code as shown to the user: twelve
// base32 characters in groups of four, e.g. "k7qa-2mzd-x4pe".
func newRecoveryCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := strings.ToLower(b32.EncodeToString(b[:]))[:recoveryCodeChars]
	return s[:4] + "-" + s[4:8] + "-" + s[8:]
}

// normalizeRecoveryCode is the form a recovery code is MACed in: dashes
// and spaces dropped, upper case, so that it may be typed either way.
func normalizeRecoveryCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	r := strings.NewReplacer("-", "", " ", "")
	return strings.ToUpper(r.Replace(strings.TrimSpace(code)))
}

const scopeMFAAccount = "mfa_account"

// takeMFA takes one attempt from the account's MFA budget.
func (s *Service) takeMFA(ctx context.Context, u *gatehouse.User) error {
	if s.limiter == nil {
		return nil
	}
	return s.take(ctx, scopeMFAAccount, limitKey(scopeMFAAccount, accountKey(u, "")), s.limits.MFA)
}

// mfaSucceeded gives the account's MFA budget back: only failures add up.
func (s *Service) mfaSucceeded(ctx context.Context, u *gatehouse.User) {
	if s.limiter == nil {
		return
	}
	if err := s.limiter.Reset(ctx, limitKey(scopeMFAAccount, accountKey(u, ""))); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "rate limiter reset failed", slog.String("error", err.Error()))
	}
}

// auditMFALogin records the second step of a login.
func (s *Service) auditMFALogin(ctx context.Context, u *gatehouse.User, pair *TokenPair, method, reason string, err error) {
	e := &gatehouse.AuditEvent{Event: gatehouse.EventMFALogin, Outcome: gatehouse.OutcomeSuccess}
	if u != nil {
		e.UserID, e.Login = u.ID, u.UsernameKey
	}
	switch code := gatehouse.ErrorCode(err); code {
	case "":
		e.SessionID = pair.Session.ID
		e.Detail = map[string]string{"method": method}
	case gatehouse.CodeValidation:
		return
	case gatehouse.CodeRateLimited:
		e.Event, e.Outcome, e.Reason = gatehouse.EventRateLimited, gatehouse.OutcomeFailure, gatehouse.EventMFALogin
		var rl *gatehouse.RateLimitedError
		if errors.As(err, &rl) {
			e.Detail = map[string]string{"scope": rl.Scope}
		}
	default:
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, code
		if reason != "" {
			e.Reason = reason
		}
	}
	s.record(ctx, e)
}

// pendingTOTP returns the user's enrolment that is not confirmed yet:
// CodeMFAEnrolmentNotFound without one, CodeMFAAlreadyEnabled when TOTP is on.
func (s *Service) pendingTOTP(ctx context.Context, userID int64) (*gatehouse.TOTP, error) {
	t, err := s.mfa.TOTPByUser(ctx, userID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, &gatehouse.Error{Code: gatehouse.CodeMFAEnrolmentNotFound}
	}
	if err != nil {
		return nil, err
	}
	if t.Confirmed() {
		return nil, &gatehouse.Error{Code: gatehouse.CodeMFAAlreadyEnabled}
	}
	return t, nil
}
