package verifier_test

import (
	"slices"
	"testing"
)

// The authentication methods of a token reach the resource server, so that
// it can ask for a second factor before a sensitive operation.
func TestVerifyAuthenticationMethods(t *testing.T) {
	es := newKey("ES256")
	f := newFakeIssuer(t, es)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	now := clk.Now()
	tests := []struct {
		name  string
		edits []tokenEdit
		amr   []string
		aal   string
		mfa   bool
	}{
		{"none (an older server)", nil, nil, "", false},
		{"password", []tokenEdit{withClaim("amr", []string{"pwd"}), withClaim("aal", "aal1")}, []string{"pwd"}, "aal1", false},
		{"password and TOTP", []tokenEdit{withClaim("amr", []string{"pwd", "otp"}), withClaim("aal", "aal2")}, []string{"pwd", "otp"}, "aal2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustVerify(t, v, f.token(es, now, tt.edits...))
			if !slices.Equal(c.AMR, tt.amr) || c.AAL != tt.aal || c.MultiFactor() != tt.mfa {
				t.Errorf("amr %q aal %q multi-factor %v, want %q %q %v", c.AMR, c.AAL, c.MultiFactor(), tt.amr, tt.aal, tt.mfa)
			}
		})
	}
}
