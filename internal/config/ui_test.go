package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestUIRedirectOrigins(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, map[string]string{"GATEHOUSE_UI_REDIRECT_ORIGINS": " https://app.example, http://localhost:5173 ,"})
	if fmt.Sprint(c.UIRedirectOrigins) != "[https://app.example http://localhost:5173]" {
		t.Errorf("UIRedirectOrigins = %q", c.UIRedirectOrigins)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid origins refused: %v", err)
	}
	if c := mustLoad(t, []string{"--ui-redirect-origins", "https://flag.example"}, map[string]string{"GATEHOUSE_UI_REDIRECT_ORIGINS": "https://env.example"}); fmt.Sprint(c.UIRedirectOrigins) != "[https://flag.example]" {
		t.Errorf("flag over env: %q", c.UIRedirectOrigins)
	}
	tests := []struct {
		name   string
		base   func(testing.TB) Config
		origin string
	}{
		{"wildcard", defaults, "*"},
		{"wildcard host", defaults, "https://*.example"},
		{"no scheme", defaults, "app.example"},
		{"path", defaults, "https://app.example/callback"},
		{"trailing slash", defaults, "https://app.example/"},
		{"query", defaults, "https://app.example?x=1"},
		{"user info", defaults, "https://user@app.example"},
		{"other scheme", defaults, "javascript://app.example"},
		{"http in production", validProduction, "http://app.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.base(t)
			c.UIRedirectOrigins = []string{tt.origin}
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_UI_REDIRECT_ORIGINS") {
				t.Errorf("%q: %v", tt.origin, err)
			}
		})
	}
	c = validProduction(t)
	c.UIRedirectOrigins = []string{"https://app.example:8443"}
	if err := c.Validate(); err != nil {
		t.Errorf("https origin refused in production: %v", err)
	}
}
