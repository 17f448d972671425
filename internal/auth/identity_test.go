package auth

import (
	"strings"
	"testing"
)

func TestNormalizeUsername(t *testing.T) {
	tests := []struct {
		in, display, key, problem string
	}{
		{"john_doe", "john_doe", "john_doe", ""},
		{"Alice", "Alice", "alice", ""},
		{"Ａｌｉｃｅ", "Alice", "alice", ""}, // fullwidth maps to ASCII (PRECIS width mapping)
		{"김철수", "김철수", "김철수", ""},
		{"山田たろう", "山田たろう", "山田たろう", ""},
		{"철수kim", "철수kim", "철수kim", ""},
		{"Straße", "Straße", "straße", ""}, // RFC 8265 maps case with toLower, not full folding
		{"ΣΊΣΥΦΟΣ", "ΣΊΣΥΦΟΣ", "σίσυφοσ", ""},
		{"a.b-c_d9", "a.b-c_d9", "a.b-c_d9", ""},
		{"", "", "", "missing"},
		{" john", "", "", "username_disallowed"},
		{"john ", "", "", "username_disallowed"},
		{"jo hn", "", "", "username_disallowed"},
		{"jo\u200bhn", "", "", "username_disallowed"}, // zero width space
		{"jo\u00adhn", "", "", "username_disallowed"}, // soft hyphen
		{"jo\u202ehn", "", "", "username_disallowed"}, // right-to-left override
		{"jo\x00hn", "", "", "username_disallowed"},
		{"\xff\xfe", "", "", "username_disallowed"},
		{"john@doe", "", "", "username_invalid"},
		{"john!", "", "", "username_invalid"},
		{"p\u0430ypal", "", "", "username_mixed_script"}, // Cyrillic а
		{"\u0430dmin", "", "", "username_mixed_script"},
		{"Борис", "Борис", "борис", ""},
		{"Борис123", "Борис123", "борис123", ""},
		{"김철수Борис", "", "", "username_mixed_script"},
		{strings.Repeat("x", 64), strings.Repeat("x", 64), strings.Repeat("x", 64), ""},
		{strings.Repeat("x", 65), "", "", "username_length"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			display, key, p := normalizeUsername(tt.in)
			got := ""
			if p != nil {
				got = p.typ
			}
			if got != tt.problem {
				t.Fatalf("problem = %q, want %q", got, tt.problem)
			}
			if display != tt.display || key != tt.key {
				t.Errorf("got (%q, %q), want (%q, %q)", display, key, tt.display, tt.key)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, key string
		ok      bool
	}{
		{"john@example.com", "john@example.com", true},
		{"John.Doe+tag@Example.COM", "john.doe+tag@example.com", true},
		{"user@sub.domain.co.kr", "user@sub.domain.co.kr", true},
		{"사용자@예시.한국", "사용자@예시.한국", true},
		{"", "", false},
		{"plain", "", false},
		{"a@b", "", false},
		{"a@b.123", "", false},
		{"a@-b.com", "", false},
		{"a@b..com", "", false},
		{" a@b.com", "", false},
		{"a@b.com ", "", false},
		{"A <a@b.com>", "", false},
		{"a@b.com, c@d.com", "", false},
		{strings.Repeat("a", 65) + "@b.com", "", false},
		{"a@" + strings.Repeat("b", 250) + ".com", "", false},
		{"a\x00@b.com", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			email, key, p := normalizeEmail(tt.in)
			if (p == nil) != tt.ok {
				t.Fatalf("problem = %v, want ok=%v", p, tt.ok)
			}
			if tt.ok && (email != tt.in || key != tt.key) {
				t.Errorf("got (%q, %q)", email, key)
			}
		})
	}
}
