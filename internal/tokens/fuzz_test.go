package tokens

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary strings to Verify, seeded with real tokens of
// every algorithm and mutilated variants. Whatever the input: no panic, every
// failure wraps ErrInvalid, and an accepted token carries exactly the claims
// that were issued (no mutation of a real token gets different claims past
// the signature). The seed corpus runs as an ordinary test in CI; run the fuzzer
// with: go test ./internal/tokens -run '^$' -fuzz FuzzVerify -fuzztime 60s
func FuzzVerify(f *testing.F) {
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	managers := map[string]*Manager{}
	for _, alg := range []string{HS256, ES256, EdDSA} {
		m := newManager(f, clk, newRing(f, alg, clk, &memKeys{}), nil)
		managers[alg] = m
		tok, _ := mustIssue(f, m, params(7))
		f.Add(alg, tok)
		parts := strings.Split(tok, ".")
		f.Add(alg, parts[0]+"."+parts[1]+".")
		f.Add(alg, parts[0]+".."+parts[2])
		f.Add(alg, tok+"x")
		f.Add(alg, strings.ToUpper(tok))
	}
	for _, s := range []string{"", ".", "..", "...", "a.b.c", "eyJ.eyJ.", "\x00", strings.Repeat("A", MaxTokenBytes+1)} {
		f.Add(HS256, s)
	}
	f.Fuzz(func(t *testing.T, alg, token string) {
		m, ok := managers[alg]
		if !ok {
			m = managers[HS256]
		}
		c, err := m.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if c.Subject != "7" || c.SessionID != "sess-1" || c.Username != "u" {
			t.Fatalf("accepted %q with claims that were never issued: %+v", token, c)
		}
	})
}
