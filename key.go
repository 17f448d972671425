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

// KeyStore persists signing keys.
type KeyStore interface {
	// AddSigningKey makes k the current key, setting RetiresAt = retireOld on
	// the key that was current, in one transaction. If another process added a
	// current key concurrently, exactly one wins and the other gets an *Error
	// with code CodeConflict.
	AddSigningKey(ctx context.Context, k *SigningKey, retireOld time.Time) error

	// SigningKeys returns every key, newest first, retired ones included.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
}
