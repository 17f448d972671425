package auth

import (
	"testing"
	"unicode/utf8"
)

// FuzzNormalize checks the identity rules on arbitrary input: no panic, and
// whatever is accepted is valid UTF-8, within bounds, and normalises to
// itself (so the key stored is the key a later login computes).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"john_doe", "Alice", "김철수", "p\u0430ypal", "a\u200bb", " x", "Ａｌｉｃｅ", "a@b.com", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if display, key, p := normalizeUsername(s); p == nil {
			if !utf8.ValidString(display) || utf8.RuneCountInString(display) > usernameMaxRunes || key == "" {
				t.Fatalf("accepted %q as %q / %q", s, display, key)
			}
			if d2, k2, p2 := normalizeUsername(display); p2 != nil || d2 != display || k2 != key {
				t.Fatalf("%q: display %q does not normalise to itself (%q, %q, %v)", s, display, d2, k2, p2)
			}
		}
		if email, key, p := normalizeEmail(s); p == nil {
			if email != s || len(email) > emailMaxBytes || key == "" {
				t.Fatalf("accepted email %q as %q / %q", s, email, key)
			}
		}
	})
}

// FuzzParseRefreshToken: the refresh token parser never panics and accepts
// only the documented shape.
func FuzzParseRefreshToken(f *testing.F) {
	for _, s := range []string{"ABC.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a.b.c", "..", "x.-1.y", "x.99999999999999999999.y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sid, counter, mac, ok := parseRefreshToken(s)
		if ok && (sid == "" || counter < 0 || len(mac) != 32 || len(s) > 256) {
			t.Fatalf("accepted %q as (%q, %d, %d-byte mac)", s, sid, counter, len(mac))
		}
	})
}
