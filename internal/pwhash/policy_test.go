package pwhash

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

func TestPolicyWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy Policy
		want   Policy
	}{
		{"zero", Policy{}, Policy{MinLength: 8, MaxBytes: 1024}},
		{"negative", Policy{MinLength: -1, MaxBytes: -1}, Policy{MinLength: 8, MaxBytes: 1024}},
		{"set", Policy{MinLength: 12, MaxBytes: 64, MinStrength: 3}, Policy{MinLength: 12, MaxBytes: 64, MinStrength: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.policy.WithDefaults(); got != tt.want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	var (
		tooShort = Problem{Type: ProblemTooShort, Args: map[string]any{"min": 8}}
		tooLong  = Problem{Type: ProblemTooLong, Args: map[string]any{"max": 1024}}
		invalid  = Problem{Type: ProblemInvalid}
		identity = Problem{Type: ProblemMatchesIdentity}
		weak3    = Problem{Type: ProblemTooWeak, Args: map[string]any{"min": 3}}
	)
	alice := []string{"Alice_Wonder", "alice.smith@example.com"}

	tests := []struct {
		name     string
		policy   Policy
		password string
		identity []string
		want     []Problem
	}{
		{"ok", Policy{}, "correct horse battery staple", nil, nil},
		{"exactly 8", Policy{}, "abcdefgh", nil, nil},
		{"spaces allowed", Policy{}, "  two  spaces  ", nil, nil},
		{"no-break space allowed", Policy{}, "pass\u00a0word", nil, nil},
		{"Hangul", Policy{}, "비밀번호를입력해", nil, nil},
		{"Hangul decomposed", Policy{}, "\u1107\u1175\u11ab\u1106\u1175\u11af\u1107\u1165\u11ab", nil, nil},
		{"emoji with variation selector and ZWJ", Policy{}, "❤️👨‍👩‍👧🔑🔑🔑", nil, nil},
		{"exactly MaxBytes", Policy{}, strings.Repeat("a", 1024), nil, nil},
		{"U+FFFD itself", Policy{}, "password\uFFFD", nil, nil},

		{"empty", Policy{}, "", nil, []Problem{tooShort}},
		{"7 ASCII", Policy{}, "Pass123", nil, []Problem{tooShort}},
		{"7 Hangul is 21 bytes but 7 code points", Policy{}, "비밀번호입력해", nil, []Problem{tooShort}},
		{"custom MinLength", Policy{MinLength: 12}, "abcdefghijk", nil,
			[]Problem{{Type: ProblemTooShort, Args: map[string]any{"min": 12}}}},

		{"MaxBytes plus one", Policy{}, strings.Repeat("a", 1025), nil, []Problem{tooLong}},
		{"too long counts bytes", Policy{}, strings.Repeat("한", 342), nil, []Problem{tooLong}},
		{"too long hides other problems", Policy{MinStrength: 4}, strings.Repeat("\x00", 2000), nil, []Problem{tooLong}},
		{"custom MaxBytes", Policy{MaxBytes: 16}, "seventeen bytes!!", nil,
			[]Problem{{Type: ProblemTooLong, Args: map[string]any{"max": 16}}}},

		{"NUL", Policy{}, "pass\x00word", nil, []Problem{invalid}},
		{"tab", Policy{}, "pass\tword", nil, []Problem{invalid}},
		{"newline", Policy{}, "password\n", nil, []Problem{invalid}},
		{"DEL", Policy{}, "pass\x7fword", nil, []Problem{invalid}},
		{"C1 NEL", Policy{}, "pass\u0085word", nil, []Problem{invalid}},
		{"invalid UTF-8", Policy{}, "password\xff", nil, []Problem{invalid}},
		{"truncated UTF-8", Policy{}, "password\xed\x95", nil, []Problem{invalid}},
		{"encoded surrogate", Policy{}, "password\xed\xa0\x80", nil, []Problem{invalid}},
		{"NUL and short", Policy{}, "\x00", nil, []Problem{invalid, tooShort}},

		{"equals username", Policy{}, "alice_wonder", alice, []Problem{identity}},
		{"equals email", Policy{}, "Alice.Smith@Example.com", alice, []Problem{identity}},
		{"equals email local part", Policy{}, "ALICE.SMITH", alice, []Problem{identity}},
		{"equals username case-folded beyond ASCII", Policy{}, "ΣΊΣΥΦΟΣ99", []string{"σίσυφος99"}, []Problem{identity}},
		{"contains username", Policy{}, "alice_wonder_2024!", alice, nil},
		{"empty identity ignored", Policy{}, "abcdefgh", []string{"", "@"}, nil},
		{"short and identity", Policy{}, "bob", []string{"bob"}, []Problem{tooShort, identity}},

		{"weak", Policy{MinStrength: 3}, "password123", nil, []Problem{weak3}},
		{"weak with identity", Policy{MinStrength: 3}, "alice_wonder2024", alice, []Problem{weak3}},
		{"strong enough", Policy{MinStrength: 3}, "correct horse battery staple", nil, nil},
		{"strength off", Policy{}, "password123", nil, nil},
		{"identity, not also weak", Policy{MinStrength: 4}, "alice_wonder", alice, []Problem{identity}},
		{"short, not also weak", Policy{MinStrength: 4}, "aaaa", nil, []Problem{tooShort}},
		{"long repetitive is weak", Policy{MinStrength: 3}, strings.Repeat("a", 1024), nil, []Problem{weak3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.policy.Check(tt.password, tt.identity...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPolicyCheckBounded checks that the strength check cannot be made slow
// by a long password: unbounded, zxcvbn takes seconds on 1024 bytes.
// TestPolicyCheckBounded pins that zxcvbn only ever sees a bounded prefix:
// its cost grows quadratically with length (BenchmarkPolicyCheck shows it),
// so an unbounded input would let anyone burn seconds of CPU per request.
// Structural, not timed: timings belong in benchmarks.
func TestPolicyCheckBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
	}{
		{"ASCII", strings.Repeat("aB3$x", 205)[:1024]},
		{"dates", strings.Repeat("19801231", 128)},
		{"Hangul", strings.Repeat("한", 341)},
		{"emoji", strings.Repeat("🔑", 256)},
		{"short", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strengthInput(tt.password)
			if n := utf8.RuneCountInString(in); n > maxStrengthRunes || !strings.HasPrefix(tt.password, in) || !utf8.ValidString(in) {
				t.Errorf("zxcvbn would score %d runes (%q…), bound %d", n, in[:min(len(in), 12)], maxStrengthRunes)
			}
			if utf8.RuneCountInString(tt.password) <= maxStrengthRunes && in != tt.password {
				t.Errorf("a short password was cut")
			}
		})
	}
}

// TestTutorialPasswordScores logs the zxcvbn scores of the passwords the
// Python tutorial uses in its examples, to inform the default MinStrength.
func TestTutorialPasswordScores(t *testing.T) {
	t.Parallel()
	for _, password := range []string{"Pass123", "Correct123", "TestPassword123", "SecurePassword123", "password", "john_doe2024"} {
		score := zxcvbn.PasswordStrength(password, nil).Score
		t.Logf("zxcvbn score %d: %s", score, password)
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	benchmarks := []struct {
		name     string
		password string
	}{
		{"typical", "correct horse battery staple"},
		{"100 runes", strings.Repeat("aB3$x", 20)},
		{"1024 bytes", strings.Repeat("aB3$x", 205)[:1024]},
		{"1023 bytes of Hangul (worst case)", strings.Repeat("한", 341)},
	}
	p := Policy{MinStrength: 3}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				p.Check(bm.password, "alice", "alice@example.com")
			}
		})
	}
}
