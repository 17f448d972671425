package config

import (
	"fmt"
	"net/url"
	"strings"
)

// splitList splits a comma-separated setting, dropping empty entries.
func splitList(raw string) []string {
	var out []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validateUI checks the hosted pages' settings: each redirect origin is an
// exact scheme://host[:port] (a wildcard would make the sign-in page an open
// redirector), and https in production, where the pages themselves are.
func (c Config) validateUI() error {
	for _, o := range c.UIRedirectOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(o, "*") {
			return fmt.Errorf("GATEHOUSE_UI_REDIRECT_ORIGINS: %q is not an origin (scheme://host[:port], no path, no wildcard)", o)
		}
		if c.Production() && u.Scheme != "https" {
			return fmt.Errorf("GATEHOUSE_UI_REDIRECT_ORIGINS: production requires https origins, got %q", o)
		}
	}
	return nil
}
