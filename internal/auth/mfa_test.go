package auth

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func TestMatchTOTP(t *testing.T) {
	secret := []byte("12345678901234567890") // RFC 6238 appendix B's SHA-1 secret
	now := time.Unix(1111111109, 0)          // a step whose neighbours are in reach
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(b32.EncodeToString(secret), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := code(now); got != "081804" { // RFC 6238 appendix B, truncated to six digits
		t.Fatalf("test vector: %s, want 081804", got)
	}
	step := now.Unix() / 30
	tests := []struct {
		name     string
		code     string
		wantStep int64
		ok       bool
	}{
		{"now", code(now), step, true},
		{"with a space", code(now)[:3] + " " + code(now)[3:], step, true},
		{"previous step", code(now.Add(-30 * time.Second)), step - 1, true},
		{"next step", code(now.Add(30 * time.Second)), step + 1, true},
		{"two steps ago", code(now.Add(-60 * time.Second)), 0, false},
		{"two steps ahead", code(now.Add(60 * time.Second)), 0, false},
		{"five digits", code(now)[:5], 0, false},
		{"seven digits", code(now) + "0", 0, false},
		{"letters", "abcdef", 0, false},
		{"non-ASCII digits", "０８１８０４", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := matchTOTP(secret, tt.code, now)
			if ok != tt.ok || (ok && got != tt.wantStep) {
				t.Errorf("matchTOTP(%q) = %d, %v; want %d, %v", tt.code, got, ok, tt.wantStep, tt.ok)
			}
		})
	}
}

func TestRecoveryCodeForms(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c := newRecoveryCode()
		if len(c) != 14 || c[4] != '-' || c[9] != '-' || seen[c] {
			t.Fatalf("recovery code %q: not xxxx-xxxx-xxxx, or repeated", c)
		}
		seen[c] = true
		n := normalizeRecoveryCode(c)
		if len(n) != recoveryCodeChars || n != strings.ToUpper(strings.ReplaceAll(c, "-", "")) {
			t.Errorf("normalized %q = %q", c, n)
		}
		for _, typed := range []string{strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), " " + c + " ", strings.ReplaceAll(c, "-", " ")} {
			if normalizeRecoveryCode(typed) != n {
				t.Errorf("%q does not normalize as %q", typed, c)
			}
		}
	}
	if normalizeRecoveryCode(strings.Repeat("a", 65)) != "" {
		t.Error("an oversized code was normalized")
	}
}

// A sealed secret opens only for its own user, under the key it was sealed
// with; recovery code MACs depend on the user and the key.
func TestMFAKeys(t *testing.T) {
	k1, err := newMFAKeys(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := newMFAKeys(bytes.Repeat([]byte{2}, 32))
	if _, err := newMFAKeys(make([]byte, 16)); err == nil {
		t.Error("a 16-byte MFA key was accepted")
	}
	secret := []byte("twenty bytes secret!")
	sealed := k1.sealSecret(7, secret)
	if bytes.Contains(sealed, secret) {
		t.Error("the sealed secret holds the secret")
	}
	if got, err := k1.openSecret(7, sealed); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("open: %q, %v", got, err)
	}
	if _, err := k1.openSecret(8, sealed); err == nil {
		t.Error("a secret sealed for user 7 opened for user 8")
	}
	if _, err := k2.openSecret(7, sealed); err == nil {
		t.Error("a secret opened under another key")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := k1.openSecret(7, tampered); err == nil {
		t.Error("a tampered secret opened")
	}
	if bytes.Equal(k1.recoveryHash(7, "CODE"), k1.recoveryHash(8, "CODE")) || bytes.Equal(k1.recoveryHash(7, "CODE"), k2.recoveryHash(7, "CODE")) {
		t.Error("recovery code MACs ignore the user or the key")
	}
}
