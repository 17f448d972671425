package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/hashpool"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/redis"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
	"github.com/gatehouse-auth/gatehouse/internal/web"
)

// The user cache bounds: entries, and how long a change made by another
// process (another instance, an operator's command) may go unseen.
const (
	userCacheEntries = 10000
	userCacheTTL     = 2 * time.Second
)

// hashWorkerCommand is the subcommand the server runs its hashing workers as.
const hashWorkerCommand = "hash-worker"

// newHashPool starts the hashing workers: copies of this executable, one per
// hashing slot, so that argon2's large allocations never touch the API
// process (see internal/hashpool). One hash at start proves they run.
func newHashPool(cfg config.Config) (*hashpool.Pool, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("hash workers: %w", err)
	}
	pool := hashpool.New(hashConcurrency(cfg), exe, hashWorkerCommand, cfg.HashPriority)
	if _, err := pool.Hash("start-up check"); err != nil {
		pool.Close()
		return nil, fmt.Errorf("hash workers: %w", err)
	}
	return pool, nil
}

// tokenLeeway is the clock skew tolerated on exp, nbf and iat.
const tokenLeeway = 30 * time.Second

// pruneInterval is how often expired sessions and revocations are deleted.
const pruneInterval = time.Hour

// deriveKey derives a 32-byte key for one purpose from the server secret
// (HKDF-SHA256), so that the secret itself only ever signs HS256 tokens and a
// key used for one purpose tells nothing about another.
func deriveKey(secret []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, "gatehouse "+purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce; 32 is fine
	}
	return k
}

// loadKeys returns the signing key ring: the secret itself for HS256, else
// asymmetric keys kept (sealed) in the database, created on first start.
func loadKeys(ctx context.Context, cfg config.Config, db *sqldb.DB, secret []byte) (*tokens.KeyRing, error) {
	alg := cfg.SigningAlgorithm()
	if alg == config.AlgHS256 {
		return tokens.NewHMACKeyRing(secret)
	}
	// A rotated-out key verifies until the last token it signed expires —
	// counting tokens an instance signs with it before its next reload.
	retireAfter := cfg.AccessTokenTTL + tokens.MaxLeeway + cfg.KeysReloadInterval
	return tokens.LoadKeyRing(ctx, db.Keys(), alg, deriveKey(secret, "signing-key encryption v1"), retireAfter, nil)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	secret, err := signingSecret(cfg, log)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	keyRing, err := loadKeys(ctx, cfg, db, secret)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	// Redis is checked once at start, so that a wrong URL or password stops
	// the server here rather than degrading it silently; later outages are
	// survived (see docs/deployment.md).
	var shared *redis.Client
	if cfg.RedisURL != "" {
		shared, err = redis.Open(ctx, cfg.RedisURL, redis.Options{Prefix: cfg.RedisPrefix, Leeway: tokens.MaxLeeway, Logger: log})
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		defer shared.Close()
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	issuer := cfg.Issuer
	if issuer == "" {
		// Development only (production requires GATEHOUSE_ISSUER): tokens
		// then name the address this process serves.
		issuer = url
	}

	// Background work (revocation sync, key reload, pruning) stops when
	// the server has shut down.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() { stopBackground(); wg.Wait() }()

	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New()
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listen: %w", err)
		}
		log.Info("metrics listening", "addr", mln.Addr().String())
		wg.Go(func() { serveMetrics(bg, mln, m, log) })
	}
	hasher, err := newHashPool(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer hasher.Close()
	handler, shutdown, drain, err := newHandler(bg, &wg, cfg, log, stores{hasher: hasher, metrics: m, db: db, shared: shared, keys: keyRing, secret: secret, issuer: issuer})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	// Long polls (the revocation feed) answer at once when shutdown begins,
	// instead of holding it up.
	srv.RegisterOnShutdown(shutdown)
	log.Info("listening", "addr", ln.Addr().String(), "url", url, "issuer", issuer, "alg", keyRing.Algorithm(),
		"env", cfg.Env, "version", gatehouse.Version)

	errc := make(chan error, 1)
	go func() {
		if cfg.TLS() {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	// A fresh context: the one we were given is already cancelled.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Links asked for just before the shutdown are mailed, not lost: the
	// requests were answered 202 already.
	if err := drain(sctx); err != nil {
		log.Warn("shutdown timeout reached with mail still queued", "error", err.Error())
	}
	log.Info("stopped")
	return nil
}

// stores are what newHandler wires the use cases to.
type stores struct {
	metrics *metrics.Metrics // nil: no metrics
	hasher  auth.Hasher
	db      *sqldb.DB
	shared  *redis.Client // nil without Redis: one instance keeps shared state in process
	keys    *tokens.KeyRing
	secret  []byte
	issuer  string
}

// newHandler wires the use cases and the HTTP layer, and starts the
// background loops on bg. It returns the handler, a func that starts the
// HTTP layer's shutdown, and one that waits, until its context ends, for
// the mail queued by requests already answered.
func newHandler(bg context.Context, wg *sync.WaitGroup, cfg config.Config, log *slog.Logger, st stores) (http.Handler, func(), func(context.Context) error, error) {
	db, keyRing, issuer := st.db, st.keys, st.issuer
	tm, err := tokens.New(tokens.Options{
		TTL:          cfg.AccessTokenTTL,
		Issuer:       issuer,
		Audience:     cfg.Audience,
		Leeway:       tokenLeeway,
		CacheEntries: 10000,
		Keys:         keyRing,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	lang, err := i18n.Parse(cfg.Locale)
	if err != nil {
		return nil, nil, nil, err
	}
	sessions := db.Sessions()
	local := inmem.NewRevocations(sessions, nil, log)
	// Every authenticated request reads its user by id; the cache answers
	// repeats from memory and forgets a user on every write made here.
	cache := inmem.NewUserCache(db.Users(), userCacheTTL, userCacheEntries, nil)
	var revocations auth.Revocations = local
	var users gatehouse.UserStore = cache
	emailTokens := cache.EmailTokens(db.EmailTokens())
	// Rate limit budgets live in process; with Redis they are shared by
	// every instance, and the in-process limiter decides while Redis is down.
	var limiter gatehouse.RateLimiter = inmem.NewRateLimiter(nil)
	if st.shared != nil {
		limiter = st.shared.RateLimiter(limiter)
	}
	if st.shared != nil {
		// With Redis, revocations and user changes made on any instance are
		// seen by every instance at once (see docs/deployment.md).
		shared := st.shared.Revocations(local, sessions)
		announced := st.shared.Users(cache)
		revocations, users, emailTokens = shared, announced, announced.EmailTokens(emailTokens)
		wg.Go(func() {
			st.shared.Listen(bg, func() {
				if err := shared.Sync(bg); err != nil && bg.Err() == nil {
					log.Error("revocation sync failed", "error", err.Error())
				}
			}, cache.Forget)
		})
	}
	if err := revocations.Sync(bg); err != nil {
		return nil, nil, nil, fmt.Errorf("load revocations: %w", err)
	}
	mailer, err := newMailer(cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	svc := auth.New(auth.Deps{
		Users:       users,
		Sessions:    sessions,
		Revocations: revocations,
		Hasher:      st.hasher,
		Policy:      passwordPolicy(cfg),
		Tokens:      tm,
		RefreshKey:  deriveKey(st.secret, "refresh-token MAC v1"),
		Lifetimes: auth.Lifetimes{
			Refresh: cfg.RefreshTokenTTL, Session: cfg.SessionMaxLifetime, Grace: cfg.RefreshReuseGrace,
		},
		Logger:  log,
		Audit:   db.Audit(),
		Limiter: limiter,
		Limits: auth.Limits{
			LoginIP:            cfg.RateLimitLoginIP,
			LoginAccount:       cfg.RateLimitLoginAccount,
			LoginAccountAllIPs: cfg.RateLimitLoginAccountAllIPs,
			RegisterIP:         cfg.RateLimitRegisterIP,
			RefreshIP:          cfg.RateLimitRefreshIP,
			MFA:                cfg.RateLimitMFA,
		},
		MFA:        db.MFA(),
		MFAKey:     deriveKey(st.secret, "mfa secrets v1"),
		TOTPIssuer: cfg.TOTPIssuer,
		Email: auth.Email{
			Tokens: emailTokens, Mailer: mailer, RequireVerified: cfg.Email.RequireVerified,
			PublicURL: cfg.PublicBaseURL(), VerifyTTL: cfg.Email.VerifyTTL, ResetTTL: cfg.Email.ResetTTL,
			IPLimit: cfg.Email.RateLimitIP, AddressLimit: cfg.Email.RateLimitAddress,
		},
	})
	wg.Go(func() { svc.RunMail(bg) })
	fed, err := newFederation(cfg, svc, db.Identities())
	if err != nil {
		return nil, nil, nil, err
	}
	shuttingDown := make(chan struct{})
	var once sync.Once
	gate := web.NewHashGate(hashConcurrency(cfg), hashQueue(cfg), cfg.HashQueueWait)
	var instrument func(string, http.Handler) http.Handler
	var observer web.Observer
	if m := st.metrics; m != nil {
		instrument, observer = m.Route, m
		m.HashQueue(gate.Waiting, gate.Rejected)
		m.RevocationSet(local.Len)
		m.ActiveSessions(func(ctx context.Context) (int64, error) {
			return sessions.CountActiveSessions(ctx, time.Now())
		}, metrics.DefaultSessionsEvery)
	}
	// The admin API goes through the same wrappers as svc's users, so that
	// a role change is forgotten by every cache at once.
	adminStore, ok := users.(gatehouse.AdminStore)
	if !ok {
		return nil, nil, nil, fmt.Errorf("user store %T has no admin methods", users)
	}
	catalog := i18n.New(lang)
	adminAPI := auth.NewAdminAPI(svc, adminStore)
	ui, err := pages.New(pages.Deps{
		Auth: svc, Catalog: catalog, Logger: log, Gate: gate, Policy: passwordPolicy(cfg),
		Secure:          cfg.TLS() || cfg.TrustTLSProxy,
		CSRFKey:         deriveKey(st.secret, "ui csrf v1"),
		RedirectOrigins: cfg.UIRedirectOrigins,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		Admin:           adminAPI,
		Federation:      fed, OAuthRedirectURI: pagesCallback(cfg),
	})
	if err != nil {
		return nil, nil, nil, err
	}
	handler := web.NewServer(web.Deps{
		Admin:          adminAPI,
		Pages:          ui,
		HashGate:       gate,
		CORS:           web.CORS{Origins: cfg.CORSOrigins, Credentials: cfg.CORSCredentials},
		Instrument:     instrument,
		Observer:       observer,
		Auth:           svc,
		Federation:     fed,
		Catalog:        catalog,
		Logger:         log,
		Ready:          map[string]gatehouse.Pinger{"database": db},
		MaxBodyBytes:   cfg.MaxBodyBytes,
		HSTS:           cfg.TLS() || cfg.TrustTLSProxy,
		Keys:           keyRing,
		Issuer:         issuer,
		FeedClients:    cfg.RevocationClients,
		Shutdown:       shuttingDown,
		TrustedProxies: cfg.TrustedProxies,
		ProxyHeader:    cfg.ProxyHeader,
	})

	wg.Go(func() { keepAuditRetention(bg, db.Audit(), cfg.AuditRetention, pruneInterval, time.Now, log) })
	wg.Go(func() {
		every(bg, cfg.RevocationSyncInterval, func() {
			// On failure the set keeps what it knows; the next tick tries again.
			if err := revocations.Sync(bg); err != nil && bg.Err() == nil {
				log.Error("revocation sync failed", "error", err.Error())
			}
		})
	})
	wg.Go(func() {
		every(bg, cfg.KeysReloadInterval, func() {
			if err := keyRing.Reload(bg); err != nil {
				log.Error("signing key reload failed", "error", err.Error())
			}
		})
	})
	wg.Go(func() {
		every(bg, pruneInterval, func() {
			n, err := sessions.PruneSessions(bg, time.Now())
			if err != nil {
				log.Error("pruning sessions failed", "error", err.Error())
			} else if n > 0 {
				log.Info("pruned expired sessions and revocations", "rows", n)
			}
			if n, err := db.EmailTokens().PruneOneTimeTokens(bg, time.Now()); err != nil {
				log.Error("pruning email link tokens failed", "error", err.Error())
			} else if n > 0 {
				log.Info("pruned expired email link tokens", "rows", n)
			}
			if n, err := db.Identities().PruneOAuth(bg, time.Now()); err != nil {
				log.Error("pruning provider sign-ins failed", "error", err.Error())
			} else if n > 0 {
				log.Info("pruned expired provider sign-ins and codes", "rows", n)
			}
		})
	})
	return handler, func() { once.Do(func() { close(shuttingDown) }) }, svc.WaitMail, nil
}

// hashConcurrency is GATEHOUSE_HASH_CONCURRENCY, or half the CPUs (at
// least 1): argon2id takes a whole core per hash, and the other half keeps
// token checks fast while logins flood in.
func hashConcurrency(cfg config.Config) int {
	if cfg.HashConcurrency > 0 {
		return cfg.HashConcurrency
	}
	return max(runtime.GOMAXPROCS(0)/2, 1)
}

// hashQueue is GATEHOUSE_HASH_QUEUE, or twice the concurrency: a short
// queue smooths bursts without letting waits grow past a few hash times.
func hashQueue(cfg config.Config) int {
	if cfg.HashQueue > 0 {
		return cfg.HashQueue
	}
	return 2 * hashConcurrency(cfg)
}

// serveMetrics serves /metrics on its own listener until ctx ends.
func serveMetrics(ctx context.Context, ln net.Listener, m *metrics.Metrics, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Error("metrics server stopped", "error", err.Error())
	}
}

// every calls f every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
