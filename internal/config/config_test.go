package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// envOf returns a getenv that answers from m, as the process environment would.
func envOf(m map[string]string) func(string) string {
	return func(key string) string { return m[key] }
}

// mustLoad calls Load and fails the test on error.
func mustLoad(tb testing.TB, args []string, env map[string]string) Config {
	tb.Helper()
	c, err := Load(args, envOf(env))
	if err != nil {
		tb.Fatalf("Load(%q): %v", args, err)
	}
	return c
}

// checkConfig reports each field that differs. It prints fields by hand
// because Config's Format redacts the secret, which would hide a difference
// in SecretKey.
func checkConfig(tb testing.TB, got, want Config) {
	tb.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if !gv.Field(i).CanInterface() {
			continue // unexported: shown through what it feeds
		}
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			tb.Errorf("%s = %#v, want %#v", gv.Type().Field(i).Name, g, w)
		}
	}
}

func absDatabaseURL(tb testing.TB, dataDir string) string {
	tb.Helper()
	p, err := filepath.Abs(filepath.Join(dataDir, "gatehouse.db"))
	if err != nil {
		tb.Fatal(err)
	}
	return "sqlite://" + p
}

// defaults are the documented defaults, written out rather than taken from
// the package's constants so that a changed default fails here first.
func defaults(tb testing.TB) Config {
	tb.Helper()
	return Config{
		Env:                    "development",
		Addr:                   "127.0.0.1:8000",
		DataDir:                "./data",
		DatabaseURL:            absDatabaseURL(tb, "./data"),
		AccessTokenTTL:         30 * time.Minute,
		Locale:                 "en",
		PasswordMinLength:      8,
		PasswordMinStrength:    DefaultPasswordMinStrength,
		LogLevel:               slog.LevelInfo,
		LogFormat:              "text",
		ShutdownTimeout:        30 * time.Second,
		MaxBodyBytes:           1 << 20,
		RefreshTokenTTL:        30 * 24 * time.Hour,
		SessionMaxLifetime:     90 * 24 * time.Hour,
		RefreshReuseGrace:      10 * time.Second,
		KeysReloadInterval:     30 * time.Second,
		RevocationSyncInterval: time.Second,
		RedisPrefix:            "gatehouse:",
		ProxyHeader:            "x-forwarded-for",

		RateLimitLoginIP:            gatehouse.Limit{N: 20, Per: time.Minute},
		RateLimitLoginAccount:       gatehouse.Limit{N: 10, Per: 15 * time.Minute},
		RateLimitLoginAccountAllIPs: gatehouse.Limit{N: 100, Per: 30 * 24 * time.Hour},
		RateLimitRegisterIP:         gatehouse.Limit{N: 10, Per: time.Hour},
		RateLimitRefreshIP:          gatehouse.Limit{N: 120, Per: time.Minute},
		RateLimitMFA:                gatehouse.Limit{N: 5, Per: 15 * time.Minute},
		TOTPIssuer:                  "gatehouse",
		HashQueueWait:               time.Second,
		HashPriority:                "idle",
		AuditRetention:              90 * 24 * time.Hour,
		Email:                       defaultEmail(),
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		nilGetenv bool
	}{
		{name: "empty environment", env: nil},
		{name: "nil getenv", nilGetenv: true},
		{name: "empty values count as unset", env: map[string]string{
			"GATEHOUSE_ADDR": "", "GATEHOUSE_ACCESS_TOKEN_TTL": "", "SECRET_KEY": "",
		}},
		{name: "empty flags count as unset", args: []string{"--addr=", "--secret-key=", "--max-body-bytes="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := envOf(tt.env)
			if tt.nilGetenv {
				getenv = nil
			}
			got, err := Load(tt.args, getenv)
			if err != nil {
				t.Fatal(err)
			}
			checkConfig(t, got, defaults(t))
		})
	}
}

// fullEnv sets every variable to a value other than its default.
func fullEnv() map[string]string {
	return map[string]string{
		"GATEHOUSE_ENV":                   "production",
		"GATEHOUSE_ADDR":                  "0.0.0.0:9000",
		"GATEHOUSE_DATA_DIR":              "/var/lib/gatehouse",
		"GATEHOUSE_DATABASE_URL":          "postgres://gh@db/gatehouse",
		"GATEHOUSE_SECRET_KEY":            "env-secret-0123456789abcdef0123456789",
		"GATEHOUSE_ACCESS_TOKEN_TTL":      "15m",
		"GATEHOUSE_ISSUER":                "https://auth.example.com",
		"GATEHOUSE_AUDIENCE":              "api",
		"GATEHOUSE_LOCALE":                "ko",
		"GATEHOUSE_PASSWORD_MIN_LENGTH":   "12",
		"GATEHOUSE_PASSWORD_MIN_STRENGTH": "3",
		"GATEHOUSE_TLS_CERT":              "/etc/gh/cert.pem",
		"GATEHOUSE_TLS_KEY":               "/etc/gh/key.pem",
		"GATEHOUSE_TRUST_TLS_PROXY":       "1",
		"GATEHOUSE_LOG_LEVEL":             "debug",
		"GATEHOUSE_LOG_FORMAT":            "text",
		"GATEHOUSE_SHUTDOWN_TIMEOUT":      "10",
		"GATEHOUSE_MAX_BODY_BYTES":        "4096",
	}
}

func TestLoadEnv(t *testing.T) {
	t.Parallel()
	stateDatabaseURL := absDatabaseURL(t, "state")
	tests := []struct {
		name string
		env  map[string]string
		want func(*Config)
	}{
		{
			name: "every variable",
			env:  fullEnv(),
			want: func(c *Config) {
				// The defaults, but for what every variable sets.
				c.Env = "production"
				c.Addr = "0.0.0.0:9000"
				c.DataDir = "/var/lib/gatehouse"
				c.DatabaseURL = "postgres://gh@db/gatehouse"
				c.SecretKey = "env-secret-0123456789abcdef0123456789"
				c.SecretKeySource = "GATEHOUSE_SECRET_KEY"
				c.AccessTokenTTL = 15 * time.Minute
				c.Issuer = "https://auth.example.com"
				c.Audience = "api"
				c.Locale = "ko"
				c.PasswordMinLength = 12
				c.PasswordMinStrength = 3
				c.TLSCert = "/etc/gh/cert.pem"
				c.TLSKey = "/etc/gh/key.pem"
				c.TrustTLSProxy = true
				c.LogLevel = slog.LevelDebug
				c.ShutdownTimeout = 10 * time.Second
				c.MaxBodyBytes = 4096
			},
		},
		{
			name: "production logs json by default",
			env:  map[string]string{"GATEHOUSE_ENV": "production"},
			want: func(c *Config) { c.Env = "production"; c.LogFormat = "json" },
		},
		{
			name: "enumerations ignore case and surrounding space",
			env:  map[string]string{"GATEHOUSE_ENV": " Production ", "GATEHOUSE_LOCALE": "KO", "GATEHOUSE_LOG_FORMAT": "JSON", "GATEHOUSE_LOG_LEVEL": "WARN"},
			want: func(c *Config) {
				c.Env, c.Locale, c.LogFormat, c.LogLevel = "production", "ko", "json", slog.LevelWarn
			},
		},
		{
			name: "data dir moves the default database",
			env:  map[string]string{"GATEHOUSE_DATA_DIR": "state"},
			want: func(c *Config) { c.DataDir = "state"; c.DatabaseURL = stateDatabaseURL },
		},
		{
			name: "trust proxy false",
			env:  map[string]string{"GATEHOUSE_TRUST_TLS_PROXY": "false"},
			want: func(c *Config) {},
		},
		{
			name: "trust proxy TRUE",
			env:  map[string]string{"GATEHOUSE_TRUST_TLS_PROXY": "TRUE"},
			want: func(c *Config) { c.TrustTLSProxy = true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := defaults(t)
			tt.want(&want)
			checkConfig(t, mustLoad(t, nil, tt.env), want)
		})
	}
}

func TestLoadDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want time.Duration
	}{
		{raw: "30m", want: 30 * time.Minute},
		{raw: "1h30m", want: 90 * time.Minute},
		{raw: "90", want: 90 * time.Second},
		{raw: " 60 ", want: time.Minute},
		{raw: "0", want: 0},                 // parses; Validate refuses it
		{raw: "-5", want: -5 * time.Second}, // likewise
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": tt.raw, "GATEHOUSE_SHUTDOWN_TIMEOUT": tt.raw}
			c := mustLoad(t, nil, env)
			if c.AccessTokenTTL != tt.want || c.ShutdownTimeout != tt.want {
				t.Errorf("AccessTokenTTL, ShutdownTimeout = %s, %s; want %s", c.AccessTokenTTL, c.ShutdownTimeout, tt.want)
			}
		})
	}
}

func TestLoadFlagsOverrideEnv(t *testing.T) {
	t.Parallel()
	args := []string{
		"--env", "development",
		"--addr", "127.0.0.1:1",
		"--data-dir", "/srv/gh",
		"--database-url", "sqlite:///tmp/x.db",
		"--secret-key", "flag-secret",
		"--access-token-ttl=2h",
		"--issuer=iss-flag",
		"--audience=aud-flag",
		"--locale=en",
		"--password-min-length=7",
		"--password-min-strength=0",
		"--tls-cert=c.pem",
		"--tls-key=k.pem",
		"--trust-tls-proxy=false",
		"--log-level=error",
		"--log-format=json",
		"--shutdown-timeout=5s",
		"-max-body-bytes=2048", // the flag package accepts one dash too
	}
	// The defaults, but for what the flags set.
	want := defaults(t)
	want.Addr = "127.0.0.1:1"
	want.DataDir = "/srv/gh"
	want.DatabaseURL = "sqlite:///tmp/x.db"
	want.SecretKey = "flag-secret"
	want.SecretKeySource = "--secret-key"
	want.AccessTokenTTL = 2 * time.Hour
	want.Issuer = "iss-flag"
	want.Audience = "aud-flag"
	want.PasswordMinLength = 7
	want.PasswordMinStrength = 0
	want.TLSCert = "c.pem"
	want.TLSKey = "k.pem"
	want.TrustTLSProxy = false
	want.LogLevel = slog.LevelError
	want.LogFormat = "json"
	want.ShutdownTimeout = 5 * time.Second
	want.MaxBodyBytes = 2048
	checkConfig(t, mustLoad(t, args, fullEnv()), want)

	t.Run("bare boolean flag", func(t *testing.T) {
		t.Parallel()
		c := mustLoad(t, []string{"--trust-tls-proxy"}, map[string]string{"GATEHOUSE_TRUST_TLS_PROXY": "false"})
		if !c.TrustTLSProxy {
			t.Error("TrustTLSProxy = false, want true")
		}
	})
	t.Run("flag env applies production defaults", func(t *testing.T) {
		t.Parallel()
		c := mustLoad(t, []string{"--env=production"}, nil)
		if c.LogFormat != "json" {
			t.Errorf("LogFormat = %q, want json", c.LogFormat)
		}
	})
	t.Run("flag data dir moves the default database", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		c := mustLoad(t, []string{"--data-dir", dir}, map[string]string{"GATEHOUSE_DATA_DIR": "elsewhere"})
		if want := "sqlite://" + filepath.Join(dir, "gatehouse.db"); c.DatabaseURL != want {
			t.Errorf("DatabaseURL = %q, want %q", c.DatabaseURL, want)
		}
	})
}

func TestLoadDefaultDatabaseURL(t *testing.T) {
	t.Parallel()
	for _, dataDir := range []string{"./data", "data", "../up/data", t.TempDir()} {
		t.Run(dataDir, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, []string{"--data-dir", dataDir}, nil)
			path, ok := strings.CutPrefix(c.DatabaseURL, "sqlite://")
			if !ok {
				t.Fatalf("DatabaseURL = %q, want a sqlite:// URL", c.DatabaseURL)
			}
			if !filepath.IsAbs(path) {
				t.Errorf("DatabaseURL path %q is not absolute", path)
			}
			if !strings.HasPrefix(c.DatabaseURL, "sqlite:///") {
				t.Errorf("DatabaseURL = %q, want sqlite:///…", c.DatabaseURL)
			}
			absDir, err := filepath.Abs(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(path) != absDir || filepath.Base(path) != "gatehouse.db" {
				t.Errorf("DatabaseURL path %q is not gatehouse.db directly under %q", path, absDir)
			}
		})
	}
}

func TestLoadSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		files      map[string]string // name → contents, written under $DIR
		wantSecret string
		wantSource string // "file:$DIR/…" is expanded
		wantErr    string // substring; "" means success
	}{
		{name: "none", wantSecret: "", wantSource: ""},
		{
			name:       "tutorial SECRET_KEY",
			env:        map[string]string{"SECRET_KEY": "tutorial"},
			wantSecret: "tutorial", wantSource: "SECRET_KEY",
		},
		{
			name:       "GATEHOUSE_SECRET_KEY",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY": "prefixed"},
			wantSecret: "prefixed", wantSource: "GATEHOUSE_SECRET_KEY",
		},
		{
			name:       "GATEHOUSE_SECRET_KEY wins over SECRET_KEY",
			env:        map[string]string{"SECRET_KEY": "tutorial", "GATEHOUSE_SECRET_KEY": "prefixed"},
			wantSecret: "prefixed", wantSource: "GATEHOUSE_SECRET_KEY",
		},
		{
			name:       "flag wins over both variables",
			env:        map[string]string{"SECRET_KEY": "tutorial", "GATEHOUSE_SECRET_KEY": "prefixed"},
			args:       []string{"--secret-key", "flag"},
			wantSecret: "flag", wantSource: "--secret-key",
		},
		{
			name:       "secret is kept byte for byte",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY": " spaced \n"},
			wantSecret: " spaced \n", wantSource: "GATEHOUSE_SECRET_KEY",
		},
		{
			name:       "file with trailing newline",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:      map[string]string{"key": "from-file\n"},
			wantSecret: "from-file", wantSource: "file:$DIR/key",
		},
		{
			name:       "file without trailing newline",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:      map[string]string{"key": "from-file"},
			wantSecret: "from-file", wantSource: "file:$DIR/key",
		},
		{
			name:       "file loses only one newline",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:      map[string]string{"key": " from-file \n\n"},
			wantSecret: " from-file \n", wantSource: "file:$DIR/key",
		},
		{
			name:       "file with CRLF",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:      map[string]string{"key": "from-file\r\n"},
			wantSecret: "from-file", wantSource: "file:$DIR/key",
		},
		{
			name:       "file flag",
			args:       []string{"--secret-key-file=$DIR/key"},
			files:      map[string]string{"key": "from-flag-file\n"},
			wantSecret: "from-flag-file", wantSource: "file:$DIR/key",
		},
		{
			name:       "file flag wins over variable",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY": "prefixed"},
			args:       []string{"--secret-key-file=$DIR/key"},
			files:      map[string]string{"key": "from-flag-file"},
			wantSecret: "from-flag-file", wantSource: "file:$DIR/key",
		},
		{
			name:       "value flag wins over file variable, which is not read",
			env:        map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/missing"},
			args:       []string{"--secret-key=flag"},
			wantSecret: "flag", wantSource: "--secret-key",
		},
		{
			name:    "value and file variables both set",
			env:     map[string]string{"GATEHOUSE_SECRET_KEY": "prefixed", "GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:   map[string]string{"key": "from-file"},
			wantErr: "GATEHOUSE_SECRET_KEY and GATEHOUSE_SECRET_KEY_FILE are both set: set only one",
		},
		{
			name:    "tutorial value and file variable both set",
			env:     map[string]string{"SECRET_KEY": "tutorial", "GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:   map[string]string{"key": "from-file"},
			wantErr: "SECRET_KEY and GATEHOUSE_SECRET_KEY_FILE are both set",
		},
		{
			name:    "value and file flags both set",
			args:    []string{"--secret-key=flag", "--secret-key-file=$DIR/key"},
			files:   map[string]string{"key": "from-file"},
			wantErr: "--secret-key and --secret-key-file are both set: set only one",
		},
		{
			name:    "missing file",
			env:     map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/missing"},
			wantErr: "GATEHOUSE_SECRET_KEY_FILE: cannot read the file it names: no such file or directory",
		},
		{
			name:    "missing file flag",
			args:    []string{"--secret-key-file", "$DIR/missing"},
			wantErr: "--secret-key-file: cannot read the file it names",
		},
		{
			name:    "empty file",
			env:     map[string]string{"GATEHOUSE_SECRET_KEY_FILE": "$DIR/key"},
			files:   map[string]string{"key": "\n"},
			wantErr: "GATEHOUSE_SECRET_KEY_FILE: $DIR/key is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
			for name, contents := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(contents), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := make(map[string]string)
			for k, v := range tt.env {
				env[k] = expand(v)
			}
			var args []string
			for _, a := range tt.args {
				args = append(args, expand(a))
			}

			c, err := Load(args, envOf(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), expand(tt.wantErr)) {
					t.Fatalf("Load error = %v, want it to contain %q", err, expand(tt.wantErr))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.SecretKey != tt.wantSecret {
				t.Errorf("SecretKey = %q, want %q", c.SecretKey, tt.wantSecret)
			}
			if want := expand(tt.wantSource); c.SecretKeySource != want {
				t.Errorf("SecretKeySource = %q, want %q", c.SecretKeySource, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{
			name:    "env value",
			env:     map[string]string{"GATEHOUSE_ENV": "staging"},
			wantErr: `GATEHOUSE_ENV: invalid value "staging" (want development or production)`,
		},
		{
			name:    "env flag",
			args:    []string{"--env=prod"},
			wantErr: `--env: invalid value "prod" (want development or production)`,
		},
		{
			name:    "access token ttl",
			env:     map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "abc"},
			wantErr: `GATEHOUSE_ACCESS_TOKEN_TTL: invalid duration "abc" (want e.g. 30m, 1h or whole seconds)`,
		},
		{
			name:    "access token ttl flag",
			args:    []string{"--access-token-ttl", "1.5"},
			wantErr: `--access-token-ttl: invalid duration "1.5"`,
		},
		{
			name:    "access token ttl overflow",
			env:     map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "9223372036854775807"},
			wantErr: `GATEHOUSE_ACCESS_TOKEN_TTL: invalid duration "9223372036854775807" (too large)`,
		},
		{
			name:    "locale",
			env:     map[string]string{"GATEHOUSE_LOCALE": "fr"},
			wantErr: `GATEHOUSE_LOCALE: invalid value "fr" (want en or ko)`,
		},
		{
			name:    "password min length",
			env:     map[string]string{"GATEHOUSE_PASSWORD_MIN_LENGTH": "eight"},
			wantErr: `GATEHOUSE_PASSWORD_MIN_LENGTH: invalid integer "eight"`,
		},
		{
			name:    "password min strength",
			args:    []string{"--password-min-strength=2.5"},
			wantErr: `--password-min-strength: invalid integer "2.5"`,
		},
		{
			name:    "trust tls proxy",
			env:     map[string]string{"GATEHOUSE_TRUST_TLS_PROXY": "yes"},
			wantErr: `GATEHOUSE_TRUST_TLS_PROXY: invalid boolean "yes" (want true, false, 1 or 0)`,
		},
		{
			name:    "trust tls proxy flag",
			args:    []string{"--trust-tls-proxy=on"},
			wantErr: `--trust-tls-proxy: invalid boolean "on" (want true, false, 1 or 0)`,
		},
		{
			name:    "log level",
			env:     map[string]string{"GATEHOUSE_LOG_LEVEL": "loud"},
			wantErr: `GATEHOUSE_LOG_LEVEL: invalid log level "loud" (want debug, info, warn or error)`,
		},
		{
			name:    "log format",
			env:     map[string]string{"GATEHOUSE_LOG_FORMAT": "xml"},
			wantErr: `GATEHOUSE_LOG_FORMAT: invalid value "xml" (want text or json)`,
		},
		{
			name:    "shutdown timeout",
			env:     map[string]string{"GATEHOUSE_SHUTDOWN_TIMEOUT": "soon"},
			wantErr: `GATEHOUSE_SHUTDOWN_TIMEOUT: invalid duration "soon" (want e.g. 30m, 1h or whole seconds)`,
		},
		{
			name:    "max body bytes",
			env:     map[string]string{"GATEHOUSE_MAX_BODY_BYTES": "1MB"},
			wantErr: `GATEHOUSE_MAX_BODY_BYTES: invalid byte count "1MB" (want a whole number of bytes, e.g. 1048576)`,
		},
		{
			name:    "unknown flag",
			args:    []string{"--port=80"},
			wantErr: "flag provided but not defined: -port",
		},
		{
			name:    "flag without its value",
			args:    []string{"--addr"},
			wantErr: "flag needs an argument: -addr",
		},
		{
			name:    "stray argument",
			args:    []string{"--addr=:1", "extra"},
			wantErr: `unexpected argument "extra"`,
		},
		{
			name:    "boolean flag value after a space",
			args:    []string{"--trust-tls-proxy", "false"},
			wantErr: `unexpected argument "false": write a boolean flag's value after =, e.g. --trust-tls-proxy=false`,
		},
		{
			name:    "a bad flag is reported even when the env is fine",
			env:     map[string]string{"GATEHOUSE_MAX_BODY_BYTES": "2048"},
			args:    []string{"--max-body-bytes=big"},
			wantErr: `--max-body-bytes: invalid byte count "big"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, envOf(tt.env))
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error %q", c, tt.wantErr)
			}
			if got := err.Error(); !strings.HasPrefix(got, tt.wantErr) {
				t.Errorf("Load error = %q, want %q", got, tt.wantErr)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Load returned a non-zero Config with an error")
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			// A bad environment must not hide the help.
			_, err := Load([]string{"--addr=:1", arg}, envOf(map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "abc"}))
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("Load(%q) error = %v, want one wrapping flag.ErrHelp", arg, err)
			}
		})
	}
}

// validDevelopment and validProduction are the starting points of the
// Validate table; each case breaks one thing.
func validDevelopment(tb testing.TB) Config {
	tb.Helper()
	return defaults(tb)
}

func validProduction(tb testing.TB) Config {
	tb.Helper()
	c := defaults(tb)
	c.Env = "production"
	c.LogFormat = "json"
	c.SecretKey = strings.Repeat("k", 32)
	c.SecretKeySource = "GATEHOUSE_SECRET_KEY"
	c.TLSCert, c.TLSKey = "cert.pem", "key.pem"
	c.Issuer = "https://auth.example.com"
	c.Email.SMTPURL, c.Email.From = "smtps://gatehouse:relay-secret@mail.example.com", "auth@example.com"
	return c
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		base    func(testing.TB) Config
		edit    func(*Config)
		wantErr string // substring; "" means valid
	}{
		{name: "development defaults", base: validDevelopment, edit: func(c *Config) {}},
		{name: "production baseline", base: validProduction, edit: func(c *Config) {}},
		{name: "development without secret", base: validDevelopment, edit: func(c *Config) { c.SecretKey = "" }},
		{name: "development short secret", base: validDevelopment, edit: func(c *Config) { c.SecretKey = "short" }},
		{name: "development placeholder secret", base: validDevelopment, edit: func(c *Config) { c.SecretKey = "your-secret-key-change-in-production" }},
		{name: "development without TLS", base: validDevelopment, edit: func(c *Config) { c.TLSCert, c.TLSKey = "", "" }},

		{name: "unknown env", base: validDevelopment, edit: func(c *Config) { c.Env = "staging" }, wantErr: `GATEHOUSE_ENV must be development or production, got "staging"`},
		{name: "empty env", base: validDevelopment, edit: func(c *Config) { c.Env = "" }, wantErr: "GATEHOUSE_ENV must be"},
		{name: "addr without port", base: validDevelopment, edit: func(c *Config) { c.Addr = "8000" }, wantErr: `GATEHOUSE_ADDR must be host:port`},
		{name: "addr on every interface", base: validProduction, edit: func(c *Config) { c.Addr = ":8000" }},

		{name: "locale ko", base: validProduction, edit: func(c *Config) { c.Locale = "ko" }},
		{name: "locale unknown", base: validDevelopment, edit: func(c *Config) { c.Locale = "fr" }, wantErr: `GATEHOUSE_LOCALE must be en or ko, got "fr"`},
		{name: "locale unknown in production", base: validProduction, edit: func(c *Config) { c.Locale = "" }, wantErr: "GATEHOUSE_LOCALE"},

		{name: "ttl at minimum", base: validProduction, edit: func(c *Config) { c.AccessTokenTTL = time.Minute }},
		{name: "ttl at maximum", base: validProduction, edit: func(c *Config) { c.AccessTokenTTL = 24 * time.Hour }},
		{name: "ttl too short", base: validDevelopment, edit: func(c *Config) { c.AccessTokenTTL = 59 * time.Second }, wantErr: "GATEHOUSE_ACCESS_TOKEN_TTL must be between 1m and 24h, got 59s"},
		{name: "ttl too long", base: validProduction, edit: func(c *Config) { c.AccessTokenTTL = 24*time.Hour + time.Second }, wantErr: "GATEHOUSE_ACCESS_TOKEN_TTL must be between 1m and 24h"},
		{name: "ttl zero", base: validDevelopment, edit: func(c *Config) { c.AccessTokenTTL = 0 }, wantErr: "GATEHOUSE_ACCESS_TOKEN_TTL"},

		{name: "password length 7 in development", base: validDevelopment, edit: func(c *Config) { c.PasswordMinLength = 7 }},
		{name: "password length 1 in development", base: validDevelopment, edit: func(c *Config) { c.PasswordMinLength = 1 }},
		{name: "password length 0", base: validDevelopment, edit: func(c *Config) { c.PasswordMinLength = 0 }, wantErr: "GATEHOUSE_PASSWORD_MIN_LENGTH must be between 1 and 64, got 0"},
		{name: "password length 64", base: validProduction, edit: func(c *Config) { c.PasswordMinLength = 64 }},
		{name: "password length 65", base: validProduction, edit: func(c *Config) { c.PasswordMinLength = 65 }, wantErr: "GATEHOUSE_PASSWORD_MIN_LENGTH must be between 1 and 64, got 65"},
		{name: "password length 8 in production", base: validProduction, edit: func(c *Config) { c.PasswordMinLength = 8 }},
		{name: "password length 7 in production", base: validProduction, edit: func(c *Config) { c.PasswordMinLength = 7 }, wantErr: "production requires GATEHOUSE_PASSWORD_MIN_LENGTH of at least 8 (NIST SP 800-63B), got 7"},

		{name: "strength off", base: validProduction, edit: func(c *Config) { c.PasswordMinStrength = 0 }},
		{name: "strength 4", base: validProduction, edit: func(c *Config) { c.PasswordMinStrength = 4 }},
		{name: "strength 5", base: validDevelopment, edit: func(c *Config) { c.PasswordMinStrength = 5 }, wantErr: "GATEHOUSE_PASSWORD_MIN_STRENGTH must be between 0 (off) and 4, got 5"},
		{name: "strength negative", base: validProduction, edit: func(c *Config) { c.PasswordMinStrength = -1 }, wantErr: "GATEHOUSE_PASSWORD_MIN_STRENGTH"},

		{name: "cert without key", base: validDevelopment, edit: func(c *Config) { c.TLSCert = "c.pem" }, wantErr: "GATEHOUSE_TLS_CERT is set but GATEHOUSE_TLS_KEY is not: set both or neither"},
		{name: "key without cert", base: validDevelopment, edit: func(c *Config) { c.TLSKey = "k.pem" }, wantErr: "GATEHOUSE_TLS_KEY is set but GATEHOUSE_TLS_CERT is not: set both or neither"},
		{name: "cert without key in production behind proxy", base: validProduction, edit: func(c *Config) { c.TLSKey = ""; c.TrustTLSProxy = true }, wantErr: "GATEHOUSE_TLS_CERT is set but GATEHOUSE_TLS_KEY is not"},
		{name: "TLS in development", base: validDevelopment, edit: func(c *Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }},

		{name: "log format unknown", base: validDevelopment, edit: func(c *Config) { c.LogFormat = "" }, wantErr: `GATEHOUSE_LOG_FORMAT must be text or json, got ""`},
		{name: "text logs in production", base: validProduction, edit: func(c *Config) { c.LogFormat = "text" }},

		{name: "shutdown timeout zero", base: validDevelopment, edit: func(c *Config) { c.ShutdownTimeout = 0 }, wantErr: "GATEHOUSE_SHUTDOWN_TIMEOUT must be positive, got 0s"},
		{name: "shutdown timeout negative", base: validProduction, edit: func(c *Config) { c.ShutdownTimeout = -time.Second }, wantErr: "GATEHOUSE_SHUTDOWN_TIMEOUT must be positive"},
		{name: "shutdown timeout tiny", base: validProduction, edit: func(c *Config) { c.ShutdownTimeout = time.Millisecond }},

		{name: "body at minimum", base: validDevelopment, edit: func(c *Config) { c.MaxBodyBytes = 1024 }},
		{name: "body at maximum", base: validProduction, edit: func(c *Config) { c.MaxBodyBytes = 64 << 20 }},
		{name: "body too small", base: validDevelopment, edit: func(c *Config) { c.MaxBodyBytes = 1023 }, wantErr: "GATEHOUSE_MAX_BODY_BYTES must be between 1024 (1 KiB) and 67108864 (64 MiB), got 1023"},
		{name: "body too large", base: validProduction, edit: func(c *Config) { c.MaxBodyBytes = 64<<20 + 1 }, wantErr: "GATEHOUSE_MAX_BODY_BYTES"},

		{name: "production without secret", base: validProduction, edit: func(c *Config) { c.SecretKey, c.SecretKeySource = "", "" }, wantErr: "production requires GATEHOUSE_SECRET_KEY (at least 32 bytes) or GATEHOUSE_SECRET_KEY_FILE; generate one with: openssl rand -base64 32"},
		{name: "production secret of 31 bytes", base: validProduction, edit: func(c *Config) { c.SecretKey = strings.Repeat("k", 31) }, wantErr: "the secret key from GATEHOUSE_SECRET_KEY is shorter than 32 bytes"},
		{name: "production short secret from a file", base: validProduction, edit: func(c *Config) { c.SecretKey, c.SecretKeySource = "short", "file:/run/secrets/gh" }, wantErr: "the secret key from file:/run/secrets/gh is shorter than 32 bytes"},
		{name: "production short secret without a source", base: validProduction, edit: func(c *Config) { c.SecretKey, c.SecretKeySource = "short", "" }, wantErr: "the secret key from GATEHOUSE_SECRET_KEY is shorter"},
		{name: "production secret counts bytes", base: validProduction, edit: func(c *Config) { c.SecretKey = strings.Repeat("é", 16) }},
		{name: "production tutorial placeholder", base: validProduction, edit: func(c *Config) { c.SecretKey, c.SecretKeySource = "your-secret-key-change-in-production", "SECRET_KEY" }, wantErr: "the secret key from SECRET_KEY is a well-known placeholder"},
		{name: "production placeholder in capitals", base: validProduction, edit: func(c *Config) { c.SecretKey = "YOUR-SECRET-KEY-CHANGE-IN-PRODUCTION" }, wantErr: "well-known placeholder"},
		{name: "production FastAPI docs key", base: validProduction, edit: func(c *Config) { c.SecretKey = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7" }, wantErr: "well-known placeholder"},
		{name: "production changeme padded", base: validProduction, edit: func(c *Config) { c.SecretKey = "changeme-changeme-changeme-changeme" }, wantErr: "well-known placeholder"},
		{name: "production jwt.io secret", base: validProduction, edit: func(c *Config) { c.SecretKey = "your-256-bit-secret" }, wantErr: "well-known placeholder"},
		{name: "production random-looking secret", base: validProduction, edit: func(c *Config) { c.SecretKey = "q8Jz0w3Vb8x2cTt1sFh4P9mNn7LkRr5eYy6Uu0Ii2Oo=" }},
		{name: "production without TLS", base: validProduction, edit: func(c *Config) { c.TLSCert, c.TLSKey = "", "" }, wantErr: "production requires TLS: set GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY, or GATEHOUSE_TRUST_TLS_PROXY=true behind a TLS-terminating proxy"},
		{name: "production behind a TLS proxy", base: validProduction, edit: func(c *Config) { c.TLSCert, c.TLSKey = "", ""; c.TrustTLSProxy = true }},
		{name: "production with TLS and proxy", base: validProduction, edit: func(c *Config) { c.TrustTLSProxy = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.base(t)
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want error containing %q", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("Validate() error spans lines: %q", err)
			}
		})
	}
}

func TestLoadedDefaultsValidate(t *testing.T) {
	t.Parallel()
	if err := mustLoad(t, nil, nil).Validate(); err != nil {
		t.Errorf("development defaults: Validate() = %v", err)
	}
	prod := mustLoad(t, []string{"--env=production"}, nil)
	if err := prod.Validate(); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_SECRET_KEY") {
		t.Errorf("production defaults: Validate() = %v, want the missing secret refused", err)
	}
}

func TestSecretNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "Sup3r-S3cret-value-do-not-print" // 31 bytes: too short for production
	const dbPassword = "db-pa55word-do-not-print"
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{name: "variable and file both set", env: map[string]string{"GATEHOUSE_SECRET_KEY": secret, "GATEHOUSE_SECRET_KEY_FILE": "/nonexistent"}},
		{name: "flags both set", args: []string{"--secret-key=" + secret, "--secret-key-file=/nonexistent"}},
		{name: "tutorial variable and file", env: map[string]string{"SECRET_KEY": secret, "GATEHOUSE_SECRET_KEY_FILE": "/nonexistent"}},
		{name: "secret pasted as a file name", env: map[string]string{"GATEHOUSE_SECRET_KEY_FILE": secret}},
		{name: "secret pasted as a file flag", args: []string{"--secret-key-file", "/" + secret}},
		{name: "another bad flag", env: map[string]string{"GATEHOUSE_SECRET_KEY": secret}, args: []string{"--access-token-ttl=x"}},
		{name: "another bad variable", env: map[string]string{"SECRET_KEY": secret, "GATEHOUSE_LOCALE": "xx"}},
		{name: "production short secret", env: map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_SECRET_KEY": secret}},
		{name: "production placeholder", env: map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_SECRET_KEY": secret + "-changeme-" + secret}},
		{name: "production without TLS", env: map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_SECRET_KEY": secret + secret}},
		{name: "production weak passwords", env: map[string]string{"GATEHOUSE_ENV": "production", "GATEHOUSE_SECRET_KEY": secret + secret, "GATEHOUSE_TRUST_TLS_PROXY": "true", "GATEHOUSE_PASSWORD_MIN_LENGTH": "6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, envOf(tt.env))
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %q", err)
			}
		})
	}

	t.Run("printing and logging", func(t *testing.T) {
		t.Parallel()
		c := mustLoad(t, nil, map[string]string{
			"GATEHOUSE_SECRET_KEY":   secret,
			"GATEHOUSE_DATABASE_URL": "postgres://gatehouse:" + dbPassword + "@db:5432/gatehouse",
		})
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
		outputs := map[string]string{
			"%v":    fmt.Sprintf("%v", c),
			"%+v":   fmt.Sprintf("%+v", c),
			"%#v":   fmt.Sprintf("%#v", c),
			"%s":    fmt.Sprintf("%s", c),
			"slog":  logged.String(),
			"&c %v": fmt.Sprintf("%v", &c),
		}
		for name, out := range outputs {
			if strings.Contains(out, secret) || strings.Contains(out, dbPassword) {
				t.Errorf("%s shows a secret: %s", name, out)
			}
			if !strings.Contains(out, "GATEHOUSE_SECRET_KEY") {
				t.Errorf("%s lost the secret's source: %s", name, out)
			}
		}
		if c.SecretKey != secret {
			t.Error("redacting changed the Config itself")
		}
	})
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{raw: "", want: ""},
		{raw: "sqlite:///var/lib/gatehouse/gatehouse.db", want: "sqlite:///var/lib/gatehouse/gatehouse.db"},
		{raw: "postgres://gh:pw@db/gh?sslmode=require", want: "postgres://gh:xxxxx@db/gh?sslmode=require"},
		{raw: "host=db user=gh password=pw", want: "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			if got := redactURL(tt.raw); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestProductionAndTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		c              Config
		production, tl bool
	}{
		{name: "zero", c: Config{}},
		{name: "production", c: Config{Env: "production"}, production: true},
		{name: "cert only", c: Config{TLSCert: "c"}},
		{name: "key only", c: Config{TLSKey: "k"}},
		{name: "both", c: Config{TLSCert: "c", TLSKey: "k"}, tl: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.Production(); got != tt.production {
				t.Errorf("Production() = %v, want %v", got, tt.production)
			}
			if got := tt.c.TLS(); got != tt.tl {
				t.Errorf("TLS() = %v, want %v", got, tt.tl)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, s := range settings() {
		t.Run(s.flag, func(t *testing.T) {
			t.Parallel()
			for _, want := range []string{"--" + s.flag, "env " + s.env + ";", "default " + s.def} {
				if !strings.Contains(out, want) {
					t.Errorf("Usage lacks %q", want)
				}
			}
		})
	}
	t.Run("secret-key warns about process listings", func(t *testing.T) {
		t.Parallel()
		_, after, _ := strings.Cut(out, "--secret-key secret\n")
		line, _, _ := strings.Cut(after, "\n")
		if !strings.Contains(line, "process listings") || !strings.Contains(line, "--secret-key-file") {
			t.Errorf("--secret-key usage does not warn about process listings: %q", line)
		}
	})
	t.Run("defaults printed match Load", func(t *testing.T) {
		t.Parallel()
		if !strings.Contains(out, "default "+strconv.Itoa(DefaultPasswordMinStrength)) {
			t.Error("Usage does not show DefaultPasswordMinStrength")
		}
	})
}

// TestDocumentation keeps docs/configuration.md, the operators' reference,
// in step with the settings table: every variable has a row with its flag and
// default, and no row names a variable that no longer exists.
func TestDocumentation(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := make(map[string][]string) // first variable named → cells
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 5 {
			t.Fatalf("table row with too few cells: %q", line)
		}
		first := strings.TrimSpace(cells[1])
		name, _, _ := strings.Cut(strings.TrimPrefix(first, "`"), "`")
		rows[name] = cells[1:]
	}
	all := settings()
	if len(rows) != len(all) {
		t.Errorf("docs table has %d rows, want one per setting (%d)", len(rows), len(all))
	}
	for _, s := range all {
		t.Run(s.env, func(t *testing.T) {
			t.Parallel()
			cells, ok := rows[s.env]
			if !ok {
				t.Fatalf("docs table has no row for %s", s.env)
			}
			if flag := strings.TrimSpace(cells[1]); !strings.Contains(flag, "`--"+s.flag+"`") {
				t.Errorf("row %s: flag cell %q, want `--%s`", s.env, flag, s.flag)
			}
			def := strings.ReplaceAll(strings.TrimSpace(cells[2]), "`", "")
			if def != s.def {
				t.Errorf("row %s: default %q, want %q", s.env, def, s.def)
			}
		})
	}
}

func TestTokenLifecycleSettings(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, []string{"--jwt-alg", "eddsa", "--refresh-reuse-grace", "0"}, map[string]string{
		"GATEHOUSE_REFRESH_TOKEN_TTL":        "24h",
		"GATEHOUSE_SESSION_MAX_LIFETIME":     "720h",
		"GATEHOUSE_REVOCATION_CLIENTS":       "notes:s3cret, billing:other:with:colons",
		"GATEHOUSE_KEYS_RELOAD_INTERVAL":     "5s",
		"GATEHOUSE_REVOCATION_SYNC_INTERVAL": "250ms",
	})
	if c.JWTAlg != "EdDSA" || c.RefreshTokenTTL != 24*time.Hour || c.SessionMaxLifetime != 720*time.Hour ||
		c.RefreshReuseGrace != 0 || c.KeysReloadInterval != 5*time.Second || c.RevocationSyncInterval != 250*time.Millisecond {
		t.Errorf("config = %+v", c)
	}
	if want := map[string]string{"notes": "s3cret", "billing": "other:with:colons"}; !reflect.DeepEqual(c.RevocationClients, want) {
		t.Errorf("clients = %v", c.RevocationClients)
	}
	if s := fmt.Sprintf("%v", c); strings.Contains(s, "s3cret") {
		t.Errorf("formatted config leaks a client secret: %s", s)
	}

	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad algorithm", map[string]string{"GATEHOUSE_JWT_ALG": "none"}, "GATEHOUSE_JWT_ALG: invalid algorithm"},
		{"HS512 is not offered", map[string]string{"GATEHOUSE_JWT_ALG": "HS512"}, "GATEHOUSE_JWT_ALG: invalid algorithm"},
		{"client without secret", map[string]string{"GATEHOUSE_REVOCATION_CLIENTS": "notes"}, "GATEHOUSE_REVOCATION_CLIENTS: entry 1 is not id:secret"},
		{"duplicate client", map[string]string{"GATEHOUSE_REVOCATION_CLIENTS": "a:x,a:y"}, `GATEHOUSE_REVOCATION_CLIENTS: client "a" is listed twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, envOf(tt.env))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSigningAlgorithm(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		c    Config
		want string
	}{
		{"no secret: asymmetric default", Config{}, "ES256"},
		{"tutorial's SECRET_KEY: HS256", Config{SecretKey: "s"}, "HS256"},
		{"explicit wins", Config{SecretKey: "s", JWTAlg: "RS256"}, "RS256"},
	} {
		if got := tt.c.SigningAlgorithm(); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestValidateTokenLifecycle(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"refresh shorter than access", func(c *Config) { c.RefreshTokenTTL = 10 * time.Minute }, "GATEHOUSE_REFRESH_TOKEN_TTL"},
		{"session cap below refresh", func(c *Config) { c.SessionMaxLifetime = time.Hour }, "GATEHOUSE_SESSION_MAX_LIFETIME"},
		{"grace too long", func(c *Config) { c.RefreshReuseGrace = 2 * time.Minute }, "GATEHOUSE_REFRESH_REUSE_GRACE"},
		{"negative grace", func(c *Config) { c.RefreshReuseGrace = -time.Second }, "GATEHOUSE_REFRESH_REUSE_GRACE"},
		{"zero reload", func(c *Config) { c.KeysReloadInterval = 0 }, "GATEHOUSE_KEYS_RELOAD_INTERVAL"},
		{"production without issuer", func(c *Config) { *c = validProduction(t); c.Issuer = "" }, "production requires GATEHOUSE_ISSUER"},
		{"production http issuer", func(c *Config) { *c = validProduction(t); c.Issuer = "http://auth.example.com" }, "https GATEHOUSE_ISSUER"},
		{"issuer not a URL", func(c *Config) { c.Issuer = "auth-server" }, "GATEHOUSE_ISSUER must be an absolute"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://a.example/?x=1" }, "GATEHOUSE_ISSUER must be an absolute"},
		{"production feed secret too short", func(c *Config) {
			*c = validProduction(t)
			c.RevocationClients = map[string]string{"notes": "tiny-x"}
		}, "GATEHOUSE_REVOCATION_CLIENTS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults(t)
			tt.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "tiny-x") {
				t.Errorf("error echoes the secret: %v", err)
			}
		})
	}
}

func TestScaleOutSettings(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, map[string]string{
		"GATEHOUSE_REDIS_URL":       "redis://:hunter2@cache:6379/1",
		"GATEHOUSE_REDIS_PREFIX":    "blue:",
		"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 ,::1",
	})
	if c.RedisURL != "redis://:hunter2@cache:6379/1" || c.RedisPrefix != "blue:" {
		t.Errorf("redis settings: %q %q", c.RedisURL, c.RedisPrefix)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128"}
	if got := fmt.Sprint(c.TrustedProxies); got != fmt.Sprint(want) {
		t.Errorf("trusted proxies = %v, want %v", got, want)
	}
	if s := fmt.Sprintf("%+v", c); strings.Contains(s, "hunter2") {
		t.Errorf("formatted config leaks the Redis password: %s", s)
	}
	if _, err := Load(nil, envOf(map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/33"})); err == nil || !strings.HasPrefix(err.Error(), "GATEHOUSE_TRUSTED_PROXIES") {
		t.Errorf("bad CIDR: %v", err)
	}
}

func TestRateLimitSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		want    gatehouse.Limit
		wantErr bool
	}{
		{raw: "20/1m", want: gatehouse.Limit{N: 20, Per: time.Minute}},
		{raw: " 100 / 720h ", want: gatehouse.Limit{N: 100, Per: 720 * time.Hour}},
		{raw: "5/30", want: gatehouse.Limit{N: 5, Per: 30 * time.Second}},
		{raw: "0", want: gatehouse.Limit{}},
		{raw: "off", want: gatehouse.Limit{}},
		{raw: "0/1m", want: gatehouse.Limit{}},
		{raw: "10", wantErr: true},
		{raw: "-1/1m", wantErr: true},
		{raw: "ten/1m", wantErr: true},
		{raw: "10/", wantErr: true},
		{raw: "10/500ms", wantErr: true},
		{raw: "10/9000h", wantErr: true},
		{raw: "2000000/1h", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			for _, name := range []string{
				"GATEHOUSE_RATE_LIMIT_LOGIN_IP", "GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT", "GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT_ALL_IPS",
				"GATEHOUSE_RATE_LIMIT_REGISTER_IP", "GATEHOUSE_RATE_LIMIT_REFRESH_IP", "GATEHOUSE_RATE_LIMIT_MFA",
			} {
				c, err := Load(nil, envOf(map[string]string{name: tt.raw}))
				if tt.wantErr {
					if err == nil || !strings.HasPrefix(err.Error(), name) {
						t.Errorf("%s=%q: err %v, want an error naming the variable", name, tt.raw, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s=%q: %v", name, tt.raw, err)
				}
				got := map[string]gatehouse.Limit{
					"GATEHOUSE_RATE_LIMIT_LOGIN_IP":              c.RateLimitLoginIP,
					"GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT":         c.RateLimitLoginAccount,
					"GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT_ALL_IPS": c.RateLimitLoginAccountAllIPs,
					"GATEHOUSE_RATE_LIMIT_REGISTER_IP":           c.RateLimitRegisterIP,
					"GATEHOUSE_RATE_LIMIT_REFRESH_IP":            c.RateLimitRefreshIP,
					"GATEHOUSE_RATE_LIMIT_MFA":                   c.RateLimitMFA,
				}[name]
				if got != tt.want {
					t.Errorf("%s=%q: %+v, want %+v", name, tt.raw, got, tt.want)
				}
			}
		})
	}
	// The flag wins, as for every setting.
	c := mustLoad(t, []string{"--rate-limit-login-ip=3/1h"}, map[string]string{"GATEHOUSE_RATE_LIMIT_LOGIN_IP": "0"})
	if c.RateLimitLoginIP != (gatehouse.Limit{N: 3, Per: time.Hour}) {
		t.Errorf("flag over env: %+v", c.RateLimitLoginIP)
	}
}

func TestCORSSettings(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, []string{"--cors-credentials"}, map[string]string{"GATEHOUSE_CORS_ORIGINS": "https://app.example, http://localhost:5173"})
	if fmt.Sprint(c.CORSOrigins) != "[https://app.example http://localhost:5173]" || !c.CORSCredentials {
		t.Errorf("cors = %v %v", c.CORSOrigins, c.CORSCredentials)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid origins refused: %v", err)
	}
	for _, tt := range []struct {
		origins     []string
		credentials bool
	}{
		{[]string{"*"}, true},
		{[]string{"app.example"}, false},
		{[]string{"https://app.example/path"}, false},
		{[]string{"https://app.example/"}, false},
		{[]string{"ftp://app.example"}, false},
	} {
		c := defaults(t)
		c.CORSOrigins, c.CORSCredentials = tt.origins, tt.credentials
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_CORS") {
			t.Errorf("%v (credentials %v): %v", tt.origins, tt.credentials, err)
		}
	}
}

func TestProxyHeaderSetting(t *testing.T) {
	t.Parallel()
	if c := mustLoad(t, nil, map[string]string{"GATEHOUSE_PROXY_HEADER": "Forwarded"}); c.ProxyHeader != "forwarded" {
		t.Errorf("ProxyHeader = %q", c.ProxyHeader)
	}
	if _, err := Load(nil, envOf(map[string]string{"GATEHOUSE_PROXY_HEADER": "x-real-ip"})); err == nil || !strings.HasPrefix(err.Error(), "GATEHOUSE_PROXY_HEADER") {
		t.Errorf("unsupported header: %v", err)
	}
}
