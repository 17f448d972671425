package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
)

// oauthErrors maps our codes to RFC 6749 §5.2 error codes for the token
// endpoint, whose clients parse {"error": …}.
var oauthErrors = map[string]string{
	gatehouse.CodeInvalidCredentials:   "invalid_grant", // §4.3: bad resource owner credentials
	gatehouse.CodeInactiveUser:         "invalid_grant",
	gatehouse.CodeEmailNotVerified:     "invalid_grant",
	gatehouse.CodeInvalidGrant:         "invalid_grant",
	gatehouse.CodeValidation:           "invalid_request",
	gatehouse.CodeInvalidRequest:       "invalid_request",
	gatehouse.CodeUnsupportedGrantType: "unsupported_grant_type",
	gatehouse.CodeUnsupportedMediaType: "invalid_request",
	gatehouse.CodePayloadTooLarge:      "invalid_request",
	// RFC 6749 has no error for "too many attempts"; slow_down is the one
	// registered for the token endpoint (RFC 8628 §3.5) and says what to do.
	// It is answered with 429 and Retry-After, not 400.
	gatehouse.CodeRateLimited: "slow_down",
}

// oauthError writes err as RFC 6749 §5.2 requires — status 400 and
// {"error", "error_description"} — keeping our {"detail", "code"} beside them
// so that one client library can read every gatehouse error. The description
// is always English, since §5.2 allows only printable ASCII there; detail is
// in the client's language.
func (o *responder) oauthError(w http.ResponseWriter, r *http.Request, err error) {
	var ge *gatehouse.Error
	oauthCode := ""
	if errors.As(err, &ge) {
		oauthCode = oauthErrors[ge.Code]
	}
	if oauthCode == "" {
		o.error(w, r, err)
		return
	}
	message := func(lang i18n.Lang) string {
		if len(ge.Fields) == 0 {
			return o.catalog.Message(lang, ge.MessageKey(), ge.Args)
		}
		f := ge.Fields[0]
		key := f.Key
		if key == "" {
			key = f.Type
		}
		msg := o.catalog.Message(lang, key, f.Args)
		if len(f.Loc) > 1 {
			msg = strings.Join(f.Loc[1:], ".") + ": " + msg
		}
		return msg
	}
	status := http.StatusBadRequest
	if ge.Code == gatehouse.CodeRateLimited {
		status = http.StatusTooManyRequests
		o.setRetryAfter(w, ge)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	encode(w, status, map[string]string{
		"error":             oauthCode,
		"error_description": message(i18n.English),
		"detail":            message(o.catalog.Match(r.Header.Get("Accept-Language"))),
		"code":              ge.Code,
	})
}

// invalidRequest is RFC 6749's invalid_request for one parameter.
func invalidRequest(name, typ string) error {
	return &gatehouse.Error{Code: gatehouse.CodeInvalidRequest, Fields: []gatehouse.FieldError{{Loc: []string{"body", name}, Type: typ}}}
}

// handleToken is the RFC 6749 token endpoint: grant_type=password (§4.3),
// grant_type=refresh_token (§6) and, with providers configured,
// grant_type=authorization_code (§4.1.3, with PKCE) for the one-time code
// of a provider sign-in; form-encoded (§3.2).
//
// Its body limit is applied here rather than by limitBody, so that even an
// oversized request gets an RFC 6749 error.
func handleToken(svc *auth.Service, fed *auth.Federation, maxBody int64, gate *HashGate, obs Observer, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, ok := mediaType(r)
		if !ok || mt != "application/x-www-form-urlencoded" {
			out.oauthError(w, r, &gatehouse.Error{Code: gatehouse.CodeUnsupportedMediaType, Args: map[string]any{"want": "application/x-www-form-urlencoded"}})
			return
		}
		if r.ContentLength > maxBody {
			out.oauthError(w, r, formError(&http.MaxBytesError{Limit: maxBody}))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			out.oauthError(w, r, formError(err))
			return
		}
		f := r.PostForm
		// §3.2: parameters must not be repeated.
		for name, vs := range f {
			if len(vs) > 1 {
				out.oauthError(w, r, invalidRequest(name, "repeated"))
				return
			}
		}
		var pair *auth.TokenPair
		var err error
		switch f.Get("grant_type") {
		case "password":
			if missing := missingFields(f.Get, "username", "password"); missing != nil {
				out.oauthError(w, r, missing)
				return
			}
			// Only this grant hashes a password; refreshes never wait here.
			release, ok := gate.enter(w, r, out)
			if !ok {
				return
			}
			pair, err = svc.Login(r.Context(), f.Get("username"), f.Get("password"), clientOf(r, f.Get("client_id"), f.Get("scope")))
			release()
			obs.LoginOutcome(outcome(err))
		case "refresh_token":
			if missing := missingFields(f.Get, "refresh_token"); missing != nil {
				out.oauthError(w, r, missing)
				return
			}
			pair, err = svc.Refresh(r.Context(), f.Get("refresh_token"), clientOf(r, f.Get("client_id"), ""))
		case "authorization_code":
			// The one-time code of a provider sign-in (upstream.go).
			if fed == nil {
				err = &gatehouse.Error{Code: gatehouse.CodeUnsupportedGrantType}
				break
			}
			if missing := missingFields(f.Get, "code", "redirect_uri", "code_verifier"); missing != nil {
				out.oauthError(w, r, missing)
				return
			}
			pair, err = fed.ExchangeCode(r.Context(), f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"), clientOf(r, f.Get("client_id"), ""))
		case "":
			err = missingFields(f.Get, "grant_type")
		default:
			err = &gatehouse.Error{Code: gatehouse.CodeUnsupportedGrantType}
		}
		if err != nil {
			out.oauthError(w, r, err)
			return
		}
		writeTokens(w, pair)
	})
}

func missingFields(get func(string) string, names ...string) error {
	for _, n := range names {
		if get(n) == "" {
			return invalidRequest(n, "missing")
		}
	}
	return nil
}

// handleJWKS publishes the public keys tokens are signed with. HMAC keys are
// secrets and never appear: an HS256 deployment publishes an empty set.
// Clients may cache the set for a few minutes: a new key signs only after
// rotation, and the old one stays published for a whole token lifetime, so
// a verifier that refetches on an unknown kid never misses one.
func handleJWKS(keys *tokens.KeyRing) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(keys.JWKS())
	})
}

// handleDiscovery serves the OpenID Provider / OAuth 2.0 authorization server
// metadata (OpenID Connect Discovery 1.0, RFC 8414) for what gatehouse does:
// a token endpoint with the password and refresh_token grants, its JWKS, and
// our revocation feed.
//
// With sign-in providers configured, the token endpoint also takes
// authorization_code (the one-time code of a provider sign-in).
func handleDiscovery(issuer string, keys *tokens.KeyRing, providers bool) http.Handler {
	// The issuer is published exactly as tokens carry it (RFC 8414 §3.3
	// requires them identical); endpoint URLs are built on it without a
	// doubled slash.
	base := strings.TrimSuffix(issuer, "/")
	// Built on first use, once: the key ring's algorithm is fixed for the
	// process (a change of GATEHOUSE_JWT_ALG takes a restart).
	grants := []string{"password", "refresh_token"}
	if providers {
		grants = append(grants, "authorization_code")
	}
	doc := sync.OnceValue(func() []byte {
		b, _ := json.Marshal(map[string]any{
			"issuer":                                issuer,
			"jwks_uri":                              base + "/.well-known/jwks.json",
			"token_endpoint":                        base + "/auth/token",
			"grant_types_supported":                 grants,
			"response_types_supported":              []string{"token"},
			"token_endpoint_auth_methods_supported": []string{"none"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{keys.Algorithm()},
			"claims_supported":                      []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "username", "client_id", "scope", "amr", "aal"},
			"service_documentation":                 base + "/docs",
			"revocation_feed_endpoint":              base + "/auth/revocations",
		})
		return b
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(doc())
	})
}

// handleRevocations is the revocation feed resource servers follow (the
// verifier package does): revoked session ids with the expiry of their last
// access token, by cursor, as a long poll. Clients authenticate with HTTP
// Basic and a credential from GATEHOUSE_REVOCATION_CLIENTS; with none
// configured the feed does not exist (404).
func handleRevocations(svc *auth.Service, clients map[string]string, stop <-chan struct{}, out *responder) http.Handler {
	type entry struct {
		SessionID string `json:"sid"`
		ExpiresAt int64  `json:"exp"`
	}
	type response struct {
		Revocations []entry `json:"revocations"`
		Cursor      string  `json:"cursor"`
	}
	// Secrets are compared as SHA-256 digests in constant time, so neither
	// their content nor their length leaks through timing.
	digests := make(map[string][32]byte, len(clients))
	for id, secret := range clients {
		digests[id] = sha256.Sum256([]byte(secret))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(digests) == 0 {
			out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeNotFound})
			return
		}
		id, secret, ok := r.BasicAuth()
		want, known := digests[id]
		got := sha256.Sum256([]byte(secret))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse revocations"`)
			out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeInvalidClient})
			return
		}
		q := r.URL.Query()
		since := int64(auth.SnapshotCursor)
		if v := q.Get("since"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeInvalidCursor})
				return
			}
			since = n
		}
		wait := 25 * time.Second
		if v := q.Get("wait"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				out.error(w, r, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"query", "wait"}, Type: "int_parsing"}))
				return
			}
			wait = min(time.Duration(n)*time.Second, auth.MaxFeedWait)
		}
		// The server's write timeout is shorter than a long poll may last.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
		revs, cursor, err := svc.RevocationFeed(r.Context(), since, wait, stop)
		if err != nil {
			out.error(w, r, err)
			return
		}
		res := response{Revocations: make([]entry, 0, len(revs)), Cursor: strconv.FormatInt(cursor, 10)}
		for _, v := range revs {
			res.Revocations = append(res.Revocations, entry{SessionID: v.SessionID, ExpiresAt: v.ExpiresAt.Unix()})
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, res)
	})
}
