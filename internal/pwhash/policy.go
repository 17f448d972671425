package pwhash

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Problem types returned by Policy.Check. They are stable and part of the API:
// clients and the i18n catalogs key on them.
const (
	ProblemTooShort        = "password_too_short"        // Args: {"min": MinLength}
	ProblemTooLong         = "password_too_long"         // Args: {"max": MaxBytes}
	ProblemInvalid         = "password_invalid"          // control character or invalid UTF-8
	ProblemTooWeak         = "password_too_weak"         // Args: {"min": MinStrength}
	ProblemMatchesIdentity = "password_matches_identity" // equals the username, email or email local part
)

// Policy decides which new passwords are acceptable, after NIST SP 800-63B: a
// minimum length, a check against common and guessable passwords, no
// composition rules ("one digit, one symbol"), and not the user's own name.
// The zero Policy is usable: see WithDefaults.
type Policy struct {
	MinLength   int // minimum length in Unicode code points; 8 when unset
	MaxBytes    int // maximum length in bytes; 1024 when unset
	MinStrength int // minimum zxcvbn score, 0..4; 0 turns the check off
}

// maxStrengthRunes bounds the input of zxcvbn, whose matching grows
// quadratically with the password's length: measured here, 100 Hangul or
// emoji runes took ~78 ms (more than the argon2id hash), 64 took ~20 ms and
// 48 take ~12 ms. Unbounded, a 1 KiB password takes seconds — an easy denial
// of service on an unauthenticated endpoint. A password whose first 48 runes
// are strong is strong; one whose prefix is weak is refused, which errs on
// the safe side.
const maxStrengthRunes = 48

// WithDefaults returns p with an unset (zero or negative) MinLength or
// MaxBytes replaced by 8 or 1024.
func (p Policy) WithDefaults() Policy {
	if p.MinLength <= 0 {
		p.MinLength = 8
	}
	if p.MaxBytes <= 0 {
		p.MaxBytes = 1024
	}
	return p
}

// Problem is one reason a password is refused. Type is a stable snake_case
// reason (one of the Problem constants); Args carries message placeholders
// such as {"min": 8} or {"max": 1024}, and is nil when there are none.
type Problem struct {
	Type string
	Args map[string]any
}

// Check returns the problems of password, or nil if it is acceptable. It
// applies WithDefaults first. identity holds the username and email; a
// password equal to either (case-insensitively), or to the email's local
// part, is refused.
//
// A password longer than MaxBytes gets only ProblemTooLong and no further
// checks, so that oversized input costs nothing. The strength check, the only
// slow one, runs only on a password with no other problem; the cheap problems
// are all reported together.
func (p Policy) Check(password string, identity ...string) []Problem {
	p = p.WithDefaults()
	if len(password) > p.MaxBytes {
		return []Problem{{Type: ProblemTooLong, Args: map[string]any{"max": p.MaxBytes}}}
	}
	var problems []Problem
	if !validPassword(password) {
		problems = append(problems, Problem{Type: ProblemInvalid})
	}
	if utf8.RuneCountInString(password) < p.MinLength {
		problems = append(problems, Problem{Type: ProblemTooShort, Args: map[string]any{"min": p.MinLength}})
	}
	inputs := identityInputs(identity)
	for _, in := range inputs {
		if strings.EqualFold(password, in) {
			problems = append(problems, Problem{Type: ProblemMatchesIdentity})
			break
		}
	}
	if len(problems) == 0 && p.MinStrength > 0 && strength(password, inputs) < p.MinStrength {
		problems = append(problems, Problem{Type: ProblemTooWeak, Args: map[string]any{"min": p.MinStrength}})
	}
	return problems
}

// validPassword reports whether s is valid UTF-8 without C0 or C1 control
// characters (which includes NUL, tab, newline and DEL). Everything else is
// allowed, as NIST asks: spaces, Hangul, emoji.
//
// The PRECIS OpaqueString profile (RFC 8265) was considered and does not fit:
// it refuses U+FE0F, the variation selector in everyday emoji such as "❤️",
// and the zero-width joiner inside emoji sequences such as "👨‍👩‍👧", and it
// refuses code points unassigned in its Unicode tables (15.0 in x/text), so
// emoji added since would be refused too.
func validPassword(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// identityInputs returns the non-empty identity values and, for each that
// looks like an email address, its local part.
func identityInputs(identity []string) []string {
	inputs := make([]string, 0, 2*len(identity))
	for _, id := range identity {
		if id == "" {
			continue
		}
		inputs = append(inputs, id)
		if at := strings.LastIndexByte(id, '@'); at > 0 {
			inputs = append(inputs, id[:at])
		}
	}
	return inputs
}

// strength returns the zxcvbn score (0..4) of the first maxStrengthRunes
// runes of password, with the identity values as user-specific dictionary
// words so that "alice2024" is weak for alice.
func strength(password string, inputs []string) int {
	return zxcvbn.PasswordStrength(strengthInput(password), inputs).Score
}

// strengthInput is the part of password that zxcvbn scores: its first
// maxStrengthRunes runes.
func strengthInput(password string) string {
	n := 0
	for i := range password {
		if n == maxStrengthRunes {
			return password[:i]
		}
		n++
	}
	return password
}
