package i18n

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		fallback Lang
		header   string
		want     Lang
	}{
		{"empty uses fallback en", English, "", English},
		{"empty uses fallback ko", Korean, "", Korean},
		{"korean", English, "ko-KR,ko;q=0.9,en;q=0.8", Korean},
		{"english preferred", Korean, "en-US,en;q=0.9,ko;q=0.5", English},
		{"unsupported falls back", Korean, "fr-FR", Korean},
		{"wildcard falls back", Korean, "*", Korean},
		{"garbage falls back", English, ";;;q=abc,,", English},
		{"huge header falls back", Korean, string(make([]byte, 10000)), Korean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.fallback).Match(tt.header); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	c := New(English)
	tests := []struct {
		lang Lang
		key  string
		args map[string]any
		want string
	}{
		{Korean, "invalid_credentials", nil, "잘못된 사용자명 또는 비밀번호입니다"},
		{Korean, "username_taken", nil, "이미 사용 중인 사용자명입니다"},
		{English, "password_too_short", map[string]any{"min": 8}, "Password must be at least 8 characters long"},
		{Korean, "password_too_short", map[string]any{"min": 7}, "비밀번호는 7자 이상이어야 합니다"},
		{English, "no_such_key", nil, "no_such_key"},
	}
	for _, tt := range tests {
		t.Run(tt.lang.String()+"/"+tt.key, func(t *testing.T) {
			if got := c.Message(tt.lang, tt.key, tt.args); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCatalogsComplete guards against a message added in one language only.
func TestCatalogsComplete(t *testing.T) {
	c := New(English)
	for _, k := range c.Keys() {
		if !c.Has(Korean, k) {
			t.Errorf("Korean catalog lacks %q", k)
		}
	}
	for k := range merge(korean, uiKorean, uiAdminKorean, uiProvidersKorean, uiAccountKorean) {
		if !c.Has(English, k) {
			t.Errorf("English catalog lacks %q", k)
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"en", "ko", " KO "} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	if _, err := Parse("fr"); err == nil {
		t.Error("Parse(fr) succeeded")
	}
}
