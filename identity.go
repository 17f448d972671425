package gatehouse

import (
	"context"
	"time"
)

// Identity links a gatehouse user to an account at an upstream provider
// (Google, GitHub, a company's OpenID provider): the provider's name as
// configured and the subject it gives the account, which together name one
// upstream account for good. Email is what the provider said when the link
// was made, kept for display; it is never used to find a user.
type Identity struct {
	ID            int64
	UserID        int64
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
	CreatedAt     time.Time
}

// UpstreamUser is who an upstream provider says signed in, after the ID
// token was verified or the user-info endpoint read. EmailVerified is true
// only when the provider vouches for the address.
type UpstreamUser struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Username is the provider's handle for the account
	// (preferred_username, GitHub's login), a hint for a new username.
	Username string
}

// Upstream is one configured sign-in provider. The adapter
// (internal/upstream) speaks OAuth 2.0 and OpenID Connect to it.
type Upstream interface {
	// AuthURL is where to send the browser: the provider's authorization
	// endpoint with state, the PKCE S256 challenge and, for OpenID
	// providers, nonce. It fails (CodeUpstreamFailed) only when an OpenID
	// provider's discovery document cannot be fetched.
	AuthURL(ctx context.Context, state, nonce, challenge string) (string, error)
	// Exchange redeems code with the PKCE verifier and returns the
	// account, verified: for OpenID providers the ID token's signature
	// (the provider's JWKS), issuer, audience, expiry and nonce. Any
	// failure is an *Error with code CodeUpstreamFailed.
	Exchange(ctx context.Context, code, verifier, nonce string) (*UpstreamUser, error)
}

// OAuthLogin is a sign-in through a provider in progress, from the redirect
// to the provider until its callback. It is kept server-side under a hash
// of its state and taken once, which is what makes a replayed or forged
// state, and with it a replayed ID token (its nonce), fail.
type OAuthLogin struct {
	StateHash string // SHA-256 of the state sent to the provider, hex
	Provider  string
	Nonce     string
	Verifier  string // PKCE verifier of the upstream exchange
	// RedirectURI, AppState and CodeChallenge are the app's: where the
	// browser goes back to, the app's own state, and the S256 challenge
	// the app proves at the token endpoint.
	RedirectURI   string
	AppState      string
	CodeChallenge string
	// LinkUserID is the signed-in user who asked to link the identity; 0
	// for a sign-in.
	LinkUserID int64
	ExpiresAt  time.Time
}

// AuthCode is the one-time code a provider sign-in hands the app (through
// the browser) in place of tokens; the app redeems it at the token endpoint
// with its PKCE verifier. Only its hash is stored.
//
// A link's code (Link true) carries the upstream account instead: the
// identity is linked to UserID only when the app, signed in as that user,
// redeems the code with its verifier. So a link started by one person
// cannot be completed in another person's browser (link CSRF).
type AuthCode struct {
	CodeHash      string // SHA-256 of the code, hex
	UserID        int64
	Provider      string
	RedirectURI   string
	CodeChallenge string
	ExpiresAt     time.Time

	Link          bool
	Subject       string
	Email         string
	EmailVerified bool
}

// IdentityStore persists identities, provider sign-ins in progress and the
// one-time codes. Implementations must be safe for concurrent use.
type IdentityStore interface {
	// CreateIdentity inserts id and sets its ID and CreatedAt. CodeIdentityTaken
	// when (Provider, Subject) is linked already; CodeNotFound when there is
	// no such user.
	CreateIdentity(ctx context.Context, id *Identity) error

	// CreateUserWithIdentity inserts u and id, linked to it, in one
	// transaction. CodeUsernameTaken, CodeEmailTaken or CodeIdentityTaken
	// when a key is in use; then nothing is stored.
	CreateUserWithIdentity(ctx context.Context, u *User, id *Identity) error

	// IdentityBySubject returns the identity, or CodeNotFound.
	IdentityBySubject(ctx context.Context, provider, subject string) (*Identity, error)

	// ListIdentities returns the user's identities, oldest first.
	ListIdentities(ctx context.Context, userID int64) ([]*Identity, error)

	// DeleteIdentity removes the identity id of userID. CodeNotFound when
	// the user has no such identity; CodeLastSignInMethod, changing
	// nothing, when the user has no password and it is their last
	// identity. The check and the delete are one transaction, so two
	// concurrent unlinks cannot leave an account no one can enter.
	DeleteIdentity(ctx context.Context, userID, id int64) (*Identity, error)

	// SaveOAuthLogin stores l.
	SaveOAuthLogin(ctx context.Context, l *OAuthLogin) error

	// TakeOAuthLogin deletes and returns the login under stateHash if it
	// has not expired at now; CodeNotFound otherwise. Of concurrent takes
	// of one state, one wins.
	TakeOAuthLogin(ctx context.Context, stateHash string, now time.Time) (*OAuthLogin, error)

	// SaveAuthCode stores c.
	SaveAuthCode(ctx context.Context, c *AuthCode) error

	// TakeAuthCode deletes and returns the code under codeHash if it has
	// not expired at now; CodeNotFound otherwise. Of concurrent takes of
	// one code, one wins.
	TakeAuthCode(ctx context.Context, codeHash string, now time.Time) (*AuthCode, error)

	// PruneOAuth deletes logins and codes that expired before `before`,
	// returning how many.
	PruneOAuth(ctx context.Context, before time.Time) (int64, error)
}

// Error codes of provider sign-in (see error.go for the others).
const (
	CodeInvalidState       = "invalid_state"                // 400: unknown, expired or already used provider sign-in state
	CodeUpstreamFailed     = "upstream_failed"              // 400: the provider refused, or its answer did not verify
	CodeAccountExists      = "account_exists_link_required" // 409: an account has this email; sign in to it and link from there
	CodeIdentityTaken      = "identity_taken"               // 409: that provider account is linked to another user
	CodeLastSignInMethod   = "last_sign_in_method"          // 409: unlinking would leave no way to sign in
	CodeInvalidRedirectURI = "invalid_redirect_uri"         // 400: redirect_uri is not one of the allowed
)

// Audit events of provider sign-in.
const (
	EventProviderLogin    = "provider_login" // Detail "provider"; Reason tells failures apart
	EventIdentityLinked   = "identity_linked"
	EventIdentityUnlinked = "identity_unlinked"
	EventCodeExchanged    = "code_exchanged" // the app redeemed a provider sign-in's one-time code
)
