package verifier

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// settings is a Config with its defaults applied and its values checked.
type settings struct {
	algorithms []string
	hmacKey    []byte
	leeway     time.Duration
	client     *http.Client
	minRefresh time.Duration
	refresh    time.Duration
	allowHTTP  bool
	log        *slog.Logger
	now        func() time.Time

	// Revocations only.
	wait         time.Duration
	policy       FailurePolicy
	maxStaleness time.Duration
}

// resolve applies defaults and refuses a Config that cannot be used safely.
func resolve(cfg Config) (settings, error) {
	s := settings{
		leeway:     cfg.Leeway,
		client:     cfg.HTTPClient,
		minRefresh: cfg.MinRefreshInterval,
		refresh:    cfg.RefreshInterval,
		allowHTTP:  cfg.AllowInsecureHTTP,
		log:        cfg.Logger,
		now:        cfg.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.leeway == 0 {
		s.leeway = defaultLeeway
	}
	if s.leeway < 0 || s.leeway > MaxLeeway {
		return s, fmt.Errorf("verifier: Leeway %v outside (0, %v]", cfg.Leeway, MaxLeeway)
	}
	if s.minRefresh == 0 {
		s.minRefresh = defaultMinRefreshInterval
	}
	if s.refresh == 0 {
		s.refresh = max(defaultRefreshInterval, s.minRefresh)
	}
	if s.minRefresh < 0 || s.refresh < s.minRefresh {
		return s, fmt.Errorf("verifier: need 0 < MinRefreshInterval (%v) <= RefreshInterval (%v)", s.minRefresh, s.refresh)
	}
	if cfg.Issuer != "" {
		if err := checkURL("Issuer", cfg.Issuer, s.allowHTTP); err != nil {
			return s, err
		}
	}

	if cfg.HMACSecret != nil {
		if cfg.JWKSURL != "" {
			return s, errors.New("verifier: HMACSecret and JWKSURL exclude each other: HS256 keys are never published")
		}
		if len(cfg.HMACSecret) < 32 {
			return s, errors.New("verifier: HMACSecret must be at least 32 bytes (RFC 7518 §3.2)")
		}
		if len(cfg.Algorithms) > 0 && !slices.Equal(cfg.Algorithms, []string{"HS256"}) {
			return s, fmt.Errorf("verifier: with HMACSecret only HS256 is accepted, not %v", cfg.Algorithms)
		}
		s.algorithms = []string{"HS256"}
		s.hmacKey = slices.Clone(cfg.HMACSecret)
	} else {
		if cfg.Issuer == "" && cfg.JWKSURL == "" {
			return s, errors.New("verifier: set Issuer, JWKSURL or HMACSecret")
		}
		s.algorithms = slices.Clone(cfg.Algorithms)
		if len(s.algorithms) == 0 {
			s.algorithms = slices.Clone(defaultAlgorithms)
		}
		for _, a := range s.algorithms {
			if !slices.Contains(supportedAlgorithms, a) {
				return s, fmt.Errorf("verifier: algorithm %q not supported; choose among %v (HS256 needs HMACSecret)", a, supportedAlgorithms)
			}
		}
	}

	if r := cfg.Revocations; r != nil {
		if r.ClientID == "" || r.ClientSecret == "" {
			return s, errors.New("verifier: Revocations needs ClientID and ClientSecret: gatehouse authenticates the feed's readers")
		}
		s.wait = r.Wait
		if s.wait == 0 {
			s.wait = defaultWait
		}
		if s.wait < time.Second || s.wait > maxWait {
			return s, fmt.Errorf("verifier: Revocations.Wait %v outside [1s, %v]", r.Wait, maxWait)
		}
		s.policy = r.Policy
		switch s.policy {
		case FailOpen:
			s.maxStaleness = defaultFailOpenStaleness
		case FailClosed:
			s.maxStaleness = defaultFailClosedStaleness
		default:
			return s, fmt.Errorf("verifier: unknown Revocations.Policy %d", r.Policy)
		}
		if r.MaxStaleness != 0 {
			s.maxStaleness = r.MaxStaleness
		}
		if s.maxStaleness < 0 {
			return s, fmt.Errorf("verifier: negative Revocations.MaxStaleness %v", r.MaxStaleness)
		}
		if s.client != nil && s.client.Timeout != 0 && s.client.Timeout <= s.wait+pollGrace {
			return s, fmt.Errorf("verifier: HTTPClient.Timeout %v cuts the feed's long poll short: make it above %v, or 0", s.client.Timeout, s.wait+pollGrace)
		}
	}
	if s.client == nil {
		s.client = defaultClient()
	}
	return s, nil
}
