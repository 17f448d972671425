package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkBackends measures GET /users/me and POST /auth/login against a
// real gatehouse process on each storage setup, over loopback HTTP, so the
// setups compare as ratios within one run:
//
//	GATEHOUSE_TEST_POSTGRES_URL=… GATEHOUSE_TEST_REDIS_URL=… \
//	  go test ./e2e -run '^$' -bench Backends -benchtime 2s
func BenchmarkBackends(b *testing.B) {
	type setup struct {
		name string
		env  func(t testing.TB) map[string]string
	}
	setups := []setup{{"sqlite", func(t testing.TB) map[string]string {
		return map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir()}
	}}}
	if postgresBackend() != nil {
		setups = append(setups, setup{"postgres", func(t testing.TB) map[string]string {
			return map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_DATABASE_URL": postgresURL(t)}
		}})
		setups = append(setups, setup{"postgres+redis", func(t testing.TB) map[string]string {
			return map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_DATABASE_URL": postgresURL(t),
				"GATEHOUSE_REDIS_URL": requireEnv(t, "GATEHOUSE_TEST_REDIS_URL"), "GATEHOUSE_REDIS_PREFIX": fmt.Sprintf("bench-%d:", b.N)}
		}})
	}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			env := s.env(b)
			env["GATEHOUSE_SECRET_KEY"] = testSecret
			env["GATEHOUSE_ISSUER"] = "http://gatehouse.test"
			in := start(b, env)
			if r, err := register(in.base, "bench", "bench-password-123"); err != nil || r.status != http.StatusCreated {
				b.Fatalf("register: %v %d", err, r.status)
			}
			r, err := login(in.base, "bench", "bench-password-123")
			if err != nil || r.status != http.StatusOK {
				b.Fatalf("login: %v %d", err, r.status)
			}
			token := r.body["access_token"].(string)
			b.Run("users-me", func(b *testing.B) {
				for b.Loop() {
					if r, err := me(in.base, token); err != nil || r.status != http.StatusOK {
						b.Fatalf("%v %d", err, r.status)
					}
				}
			})
			b.Run("login", func(b *testing.B) {
				for b.Loop() {
					if r, err := login(in.base, "bench", "bench-password-123"); err != nil || r.status != http.StatusOK {
						b.Fatalf("%v %d", err, r.status)
					}
				}
			})
		})
	}
}
