package gatehouse

import (
	"context"
	"time"
)

// SigningKey is an asymmetric key that signs access tokens. One key is
// current (it signs); keys rotated out keep verifying until RetiresAt, when
// the last token they signed has expired, and then leave the JWKS.
//
// HMAC (HS256) keys are never SigningKeys: they come from configuration and,
// being secret, are never published.
type SigningKey struct {
	ID         string // the kid
	Algorithm  string // "RS256", "ES256" or "EdDSA"
	PrivateKey []byte // PKCS #8 DER, sealed (encrypted and authenticated) with the server's key-encryption key
	PublicKey  []byte // PKIX DER
	CreatedAt  time.Time
	// RetiresAt is zero for the current key; for a rotated-out key, the time
	// after which it verifies nothing.
	RetiresAt time.Time
}

// Current reports whether k is the signing key.
func (k *SigningKey) Current() bool { return k.RetiresAt.IsZero() }

// KeyStore persists signing keys. Several gatehouse processes may share one
// store; AddSigningKey is how they agree on which key signs.
type KeyStore interface {
	// AddSigningKey makes k the current key, in one transaction, provided
	// the current key is still the one the caller saw: replaces is its kid,
	// or "" if the caller saw no current key. The key replaced gets
	// RetiresAt = retireOld.
	//
	// If the current key is not replaces (another process rotated since the
	// caller read the store), or replaces is "" and a key is current, it
	// returns an *Error with code CodeConflict and changes nothing: of
	// several processes adding keys over the same current key, exactly one
	// wins. Whether k's CreatedAt is later than the current key's is not
	// checked, since instances' clocks may differ.
	AddSigningKey(ctx context.Context, k *SigningKey, replaces string, retireOld time.Time) error

	// SigningKeys returns every key, retired ones included, newest CreatedAt
	// first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
}
