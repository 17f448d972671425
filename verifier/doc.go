// Package verifier lets a Go service (a "resource server") accept gatehouse
// access tokens without calling gatehouse on every request.
//
// Given the issuer URL, [New] reads the issuer's discovery document, fetches
// and caches its JSON Web Key Set (JWKS), and, when asked to, follows the
// issuer's revocation feed so that a token whose session was logged out is
// refused within seconds. [Verifier.Verify] checks a token; [Verifier.Middleware]
// protects net/http handlers and puts the verified [Claims] in the request
// context, where [ClaimsFromContext] finds them.
//
// # Usage
//
//	v, err := verifier.New(ctx, verifier.Config{
//		Issuer:   "https://auth.example.com",
//		Audience: "notes", // when gatehouse is configured with GATEHOUSE_AUDIENCE
//		Revocations: &verifier.RevocationConfig{
//			ClientID:     "notes",
//			ClientSecret: feedSecret, // one of gatehouse's GATEHOUSE_REVOCATION_CLIENTS
//		},
//	})
//	if err != nil {
//		return err // gatehouse unreachable or misconfigured: fail fast
//	}
//	defer v.Close()
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /notes", v.Middleware(listNotes()))
//	mux.Handle("POST /notes", v.RequireScope("notes:write")(createNote()))
//
//	func listNotes() http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			claims, _ := verifier.ClaimsFromContext(r.Context())
//			fmt.Fprintf(w, "notes of %s\n", claims.Username)
//		})
//	}
//
// # What is checked
//
// Verification follows RFC 8725 (JWT best current practices) and RFC 9068
// (JWT access tokens):
//
//   - the token is at most [MaxTokenBytes] long and is a JWS in compact form;
//   - its "typ" header is "at+jwt" (or "application/at+jwt", any case), so an
//     ID token or some other JWT signed by the same keys is not taken for an
//     access token;
//   - its "alg" is one of [Config.Algorithms] (never "none"), and the key named
//     by its "kid" was published for exactly that algorithm, so a token cannot
//     choose how its own signature is checked (no RS256/HS256 confusion);
//   - a "crit" header is refused; "jku", "x5u", "x5c" and "jwk" headers are
//     ignored: keys come only from the configured JWKS, never from a token;
//   - "exp" is required; "exp", "nbf" and "iat" are checked with a leeway of at
//     most [MaxLeeway];
//   - "iss" equals [Config.Issuer] and "aud" contains [Config.Audience], when set;
//   - "sub" and "sid" (the gatehouse session) are non-empty strings;
//   - the session has not been revoked, when [Config.Revocations] is set.
//
// A key set is refreshed when a token names an unknown kid (at most once per
// [Config.MinRefreshInterval], however many such tokens arrive) and
// periodically, so that rotated-in keys are picked up and removed keys stop
// verifying.
//
// # Revocation
//
// With [Config.Revocations] set, a goroutine long-polls gatehouse's revocation
// feed and keeps the set of revoked session ids in memory; checking a token
// against it is a map look-up. If the feed cannot be reached, tokens not known
// to be revoked are still accepted until the revocation data is older than
// [RevocationConfig.MaxStaleness], and then refused with [ErrUnavailable]
// (see [FailurePolicy]). [Verifier.Stats] reports the feed's health.
//
// Every verified token is remembered by its exact bytes until it expires, so
// a client's repeated requests cost a map look-up, a clock check and the
// revocation look-up.
package verifier
