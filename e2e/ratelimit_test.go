package e2e

import (
	"crypto/rand"
	"net/http"
	"testing"
)

// TestRateLimitSharedE2E: with Redis, failed logins through instance A count
// on instance B: the budget is the deployment's, not the process's.
func TestRateLimitSharedE2E(t *testing.T) {
	redisURL := requireEnv(t, "GATEHOUSE_TEST_REDIS_URL")
	env := map[string]string{
		"GATEHOUSE_DATABASE_URL":             postgresURL(t),
		"GATEHOUSE_REDIS_URL":                redisURL,
		"GATEHOUSE_REDIS_PREFIX":             "e2e-" + rand.Text()[:10] + ":",
		"GATEHOUSE_SECRET_KEY":               testSecret,
		"GATEHOUSE_ISSUER":                   "http://gatehouse.test",
		"GATEHOUSE_PASSWORD_MIN_STRENGTH":    "0",
		"GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT": "3/15m",
	}
	env["GATEHOUSE_DATA_DIR"] = t.TempDir()
	a := start(t, env)
	env["GATEHOUSE_DATA_DIR"] = t.TempDir()
	b := start(t, env)

	must(t, http.StatusCreated)(register(a.base, "rita", password))
	for range 3 {
		must(t, http.StatusUnauthorized)(login(a.base, "rita", "wrong-password"))
	}
	r := must(t, http.StatusTooManyRequests)(login(b.base, "rita", password))
	if r.body["code"] != "rate_limited" {
		t.Errorf("B answered %v", r.body)
	}
}
