package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// tutorialOptions are the compatibility settings under which the tutorial's
// own tests pass unchanged (README, "Tutorial compatibility"): Korean messages
// (GATEHOUSE_LOCALE=ko), a minimum password length of 7
// (GATEHOUSE_PASSWORD_MIN_LENGTH=7) and a minimum zxcvbn score of 1
// (GATEHOUSE_PASSWORD_MIN_STRENGTH=1), since its tests use "Pass123" and
// "TestPassword123", which score 1 where the default asks for 2.
var tutorialOptions = envOptions{locale: i18n.Korean, minLength: 7, minStrength: 1}

// The tutorial's five tests (its "테스트 코드" section), ported one to one.
// They share one server, as the tutorial's TestClient shares one app.
func TestTutorial(t *testing.T) {
	e := newTestEnv(t, tutorialOptions)

	t.Run("test_register_user", func(t *testing.T) {
		r := e.register(t, "testuser", "test@example.com", "TestPassword123")
		if r.status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		data := r.json(t)
		if data["username"] != "testuser" || data["email"] != "test@example.com" {
			t.Errorf("data = %v", data)
		}
		if _, ok := data["hashed_password"]; ok {
			t.Error("hashed_password exposed")
		}
	})

	t.Run("test_login_success", func(t *testing.T) {
		e.register(t, "logintest", "login@example.com", "Pass123")
		r := e.login(t, "logintest", "Pass123")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		data := r.json(t)
		if _, ok := data["access_token"]; !ok || data["token_type"] != "bearer" {
			t.Errorf("data = %v", data)
		}
	})

	t.Run("test_login_wrong_password", func(t *testing.T) {
		e.register(t, "wrongpass", "wrong@example.com", "Correct123")
		r := e.login(t, "wrongpass", "Wrong123")
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if detail, _ := r.json(t)["detail"].(string); !strings.Contains(detail, "잘못된") {
			t.Errorf("detail = %q", detail)
		}
	})

	t.Run("test_access_protected_endpoint", func(t *testing.T) {
		e.register(t, "protected", "protected@example.com", "Pass123")
		token := e.login(t, "protected", "Pass123").json(t)["access_token"].(string)
		r := e.do(t, bearerRequest("/users/me", token))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if r.json(t)["username"] != "protected" {
			t.Errorf("body = %s", r.body)
		}
	})

	t.Run("test_access_without_token", func(t *testing.T) {
		r := e.do(t, bearerRequest("/users/me", ""))
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
}
