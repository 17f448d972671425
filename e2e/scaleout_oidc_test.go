package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// TestScaleOutProviderSignIn: a sign-in through an OpenID provider may touch
// a different instance at every step, as it does behind a balancer. The
// state stored by the instance that started it is taken by the one that
// gets the provider's callback, once deployment-wide; the app's one-time
// code is redeemed on either instance, once; and a provider account is one
// gatehouse user whichever instance it signs in on.
func TestScaleOutProviderSignIn(t *testing.T) {
	redisURL := requireEnv(t, "GATEHOUSE_TEST_REDIS_URL")
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	providers := filepath.Join(t.TempDir(), "providers.json")
	doc := fmt.Sprintf(`{"corp": {"type": "oidc", "issuer": %q, "client_id": %q, "client_secret": %q}}`,
		m.Issuer(), m.ClientID, m.ClientSecret)
	if err := os.WriteFile(providers, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	// Both instances stand behind one public URL, the balancer's; the test
	// plays the balancer, choosing the instance of every request.
	public := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	const app = "https://app.example/callback"
	d := newDeployment(t, redisURL, map[string]string{
		"GATEHOUSE_OAUTH_PROVIDERS_FILE": providers,
		"GATEHOUSE_OAUTH_PUBLIC_URL":     public,
		"GATEHOUSE_OAUTH_REDIRECT_URIS":  app,
	})
	noRedirects := &http.Client{
		Timeout:       client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// redirect GETs u and returns where it sends the browser.
	redirect := func(t *testing.T, u string) *url.URL {
		t.Helper()
		res, err := noRedirects.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("GET %s: %d, Location %q", u, res.StatusCode, res.Header.Get("Location"))
		}
		return loc
	}
	// toProvider starts a sign-in on base as the app would and returns the
	// PKCE verifier and the callback URL (at the public URL) the provider
	// sends the browser back to.
	toProvider := func(t *testing.T, base, appState string) (verifier string, callback *url.URL) {
		t.Helper()
		verifier = rand.Text() + rand.Text()
		sum := sha256.Sum256([]byte(verifier))
		q := url.Values{"redirect_uri": {app}, "state": {appState},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		at := redirect(t, base+"/auth/oauth/corp?"+q.Encode())
		if !strings.HasPrefix(at.String(), m.Issuer()) {
			t.Fatalf("sign-in start sent the browser to %s", at)
		}
		callback = redirect(t, at.String())
		if want := public + "/auth/oauth/corp/callback"; callback.Scheme+"://"+callback.Host+callback.Path != want {
			t.Fatalf("provider sent the browser to %s, want %s", callback, want)
		}
		return verifier, callback
	}
	// on is the callback URL as the balancer forwards it to base.
	on := func(callback *url.URL, base string) string { return base + callback.RequestURI() }
	// toApp delivers the callback to base and returns the app's code.
	toApp := func(t *testing.T, callback string, appState string) string {
		t.Helper()
		loc := redirect(t, callback)
		q := loc.Query()
		if !strings.HasPrefix(loc.String(), app+"?") || q.Get("error") != "" || q.Get("code") == "" || q.Get("state") != appState {
			t.Fatalf("callback sent the browser to %s", loc)
		}
		return q.Get("code")
	}
	redeem := func(base, code, verifier string) (reply, error) {
		return call("POST", base+"/auth/token", "application/x-www-form-urlencoded", url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {app}, "code_verifier": {verifier},
		}.Encode(), "")
	}

	m.QueueUser(&mockoidc.MockUser{Subject: "sam-1", Email: "sam@corp.example", EmailVerified: true, PreferredUsername: "sam"})
	verifier, callback := toProvider(t, d.a.base, "app-state-1")
	var code string
	var user map[string]any

	t.Run("started on A, called back on B, redeemed on A: the token works on B", func(t *testing.T) {
		code = toApp(t, on(callback, d.b.base), "app-state-1")
		tok := must(t, http.StatusOK)(redeem(d.a.base, code, verifier))
		access, _ := tok.body["access_token"].(string)
		if access == "" || tok.body["refresh_token"] == nil {
			t.Fatalf("token answer %s", tok.raw)
		}
		user = must(t, http.StatusOK)(me(d.b.base, access)).body
		if user["username"] != "sam" || user["email"] != "sam@corp.example" {
			t.Errorf("B says the user is %v", user)
		}
	})

	t.Run("the callback replayed on A after B took its state: invalid_state", func(t *testing.T) {
		r := must(t, http.StatusBadRequest)(call("GET", on(callback, d.a.base), "", "", ""))
		if r.body["code"] != "invalid_state" {
			t.Errorf("replayed callback on A: %s", r.raw)
		}
	})

	t.Run("the code redeemed again on B: invalid_grant", func(t *testing.T) {
		if code == "" {
			t.Skip("no code: the first sign-in failed")
		}
		r := must(t, http.StatusBadRequest)(redeem(d.b.base, code, verifier))
		if r.body["error"] != "invalid_grant" {
			t.Errorf("second redemption on B: %s", r.raw)
		}
	})

	t.Run("the same provider account signing in on B is the same user", func(t *testing.T) {
		if user == nil {
			t.Skip("no user: the first sign-in failed")
		}
		m.QueueUser(&mockoidc.MockUser{Subject: "sam-1", Email: "sam@corp.example", EmailVerified: true, PreferredUsername: "sam"})
		verifier, callback := toProvider(t, d.b.base, "app-state-2")
		code := toApp(t, on(callback, d.b.base), "app-state-2")
		access := must(t, http.StatusOK)(redeem(d.b.base, code, verifier)).body["access_token"].(string)
		again := must(t, http.StatusOK)(me(d.a.base, access)).body
		if again["id"] == nil || again["id"] != user["id"] || again["username"] != user["username"] {
			t.Errorf("second sign-in is %v, the first was %v", again, user)
		}
		ids := must(t, http.StatusOK)(call("GET", d.a.base+"/users/me/identities", "", "", access))
		if n := strings.Count(string(ids.raw), `"sam-1"`); n != 1 {
			t.Errorf("identities %s: the subject listed %d times, want once", ids.raw, n)
		}
	})
}
