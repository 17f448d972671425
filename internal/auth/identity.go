package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// Username length bounds, in Unicode code points after normalisation.
const (
	usernameMinRunes = 1
	usernameMaxRunes = 64
	emailMaxBytes    = 254 // RFC 5321 path limit less the angle brackets
)

// problem is a field problem before it gets a location.
type problem struct {
	typ  string
	args map[string]any
}

// normalizeUsername applies RFC 8265 (PRECIS): the UsernameCasePreserved
// profile gives the form we keep and show, UsernameCaseMapped the case-folded
// key on which uniqueness is enforced. PRECIS already refuses spaces, controls
// and invisible characters such as ZERO WIDTH SPACE; on top of it we allow only
// letters, marks, digits and "._-" (so a username never contains '@' and
// cannot be confused with an email at login), and refuse names that mix
// scripts, the classic look-alike attack (a Cyrillic "а" inside "admin").
func normalizeUsername(s string) (display, key string, p *problem) {
	if s == "" {
		return "", "", &problem{typ: "missing"}
	}
	if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return "", "", &problem{typ: "username_disallowed"}
	}
	display, err := precis.UsernameCasePreserved.String(s)
	if err != nil {
		return "", "", &problem{typ: "username_disallowed"}
	}
	key, err = precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", "", &problem{typ: "username_disallowed"}
	}
	if n := utf8.RuneCountInString(display); n < usernameMinRunes || n > usernameMaxRunes {
		return "", "", &problem{typ: "username_length", args: map[string]any{"min": usernameMinRunes, "max": usernameMaxRunes}}
	}
	for _, r := range display {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' {
			return "", "", &problem{typ: "username_invalid"}
		}
	}
	if !singleScript(display) {
		return "", "", &problem{typ: "username_mixed_script"}
	}
	return display, key, nil
}

// cjkSets are the script mixes that Unicode TS #39 calls "highly restrictive"
// and that real names need: Japanese, Chinese and Korean writing combine Han
// with their own scripts, and Latin letters commonly appear beside them.
var cjkSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// singleScript reports whether the letters of s come from one script, or from
// one of the mixes in cjkSets. Characters of the Common and Inherited scripts
// (digits, punctuation, combining marks) do not count.
func singleScript(s string) bool {
	seen := map[string]bool{}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		for name, table := range unicode.Scripts {
			if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
				seen[name] = true
				break
			}
		}
	}
	if len(seen) <= 1 {
		return true
	}
	for _, set := range cjkSets {
		if subset(seen, set) {
			return true
		}
	}
	return false
}

func subset(seen map[string]bool, set []string) bool {
	n := 0
	for _, name := range set {
		if seen[name] {
			n++
		}
	}
	return n == len(seen)
}

// normalizeEmail validates an address as a mailbox a user can receive at
// (addr-spec only: no display name, no comments, a dotted domain) and returns
// it as given, with its lower-cased form as the uniqueness key. Local parts
// are case-sensitive in theory, but no provider treats them so, and treating
// them so would let "Bob@x" and "bob@x" be two accounts.
func normalizeEmail(s string) (email, key string, p *problem) {
	if s == "" {
		return "", "", &problem{typ: "missing"}
	}
	if len(s) > emailMaxBytes || !utf8.ValidString(s) {
		return "", "", &problem{typ: "email_invalid"}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", "", &problem{typ: "email_invalid"}
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) == 0 || len(local) > 64 || !validDomain(domain) {
		return "", "", &problem{typ: "email_invalid"}
	}
	return s, strings.ToLower(s), nil
}

// validDomain accepts a DNS name of at least two labels of letters (any
// script, for internationalised domains), digits and inner hyphens, whose
// top-level label is not all digits.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) && r != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.TrimFunc(tld, unicode.IsDigit) != ""
}
