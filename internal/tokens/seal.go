package tokens

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// SealKeyBytes is the size of the key that seals private keys at rest:
// AES-256.
const SealKeyBytes = 32

// sealVersion prefixes every sealed key, so that a later format can be told
// apart; it is authenticated too, so it cannot be rewritten to downgrade.
const sealVersion = 1

// sealer encrypts and authenticates PKCS #8 private keys for the store, so
// that a copy of the database alone (a backup, a dump, a read-only SQL
// injection) yields no key that can sign.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != SealKeyBytes {
		return nil, fmt.Errorf("tokens: seal key is %d bytes, want %d", len(key), SealKeyBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokens: seal key: %w", err)
	}
	// A random 96-bit nonce per seal, generated and prepended by the AEAD
	// itself: a server seals a handful of keys in its life, far below the
	// 2^32 messages after which random GCM nonces risk repeating.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("tokens: seal key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns plaintext encrypted under the seal key, bound to kid and alg.
func (s *sealer) seal(kid, alg string, plaintext []byte) []byte {
	return s.aead.Seal([]byte{sealVersion}, nil, plaintext, sealAD(kid, alg))
}

// errUnseal is deliberately vague: whether the seal key is wrong or the row
// was altered, the answer is the same, and the error must not help guess.
var errUnseal = errors.New("cannot unseal the private key: the seal key is not the one it was sealed with, or the row was altered")

// open reverses seal. It fails unless sealed was made by seal under the same
// key for the same kid and alg, so that a sealed key copied into another row
// (to make a key the attacker knows the public half of sign under another
// kid, or under another algorithm) does not open.
func (s *sealer) open(kid, alg string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	out, err := s.aead.Open(nil, nil, sealed[1:], sealAD(kid, alg))
	if err != nil {
		return nil, errUnseal
	}
	return out, nil
}

// sealAD is the additional data of a sealed key: the format version, then
// kid and alg, each length-prefixed so that no two pairs encode alike.
func sealAD(kid, alg string) []byte {
	ad := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(kid)+len(alg))
	ad = append(ad, sealVersion)
	ad = binary.AppendUvarint(ad, uint64(len(kid)))
	ad = append(ad, kid...)
	ad = binary.AppendUvarint(ad, uint64(len(alg)))
	return append(ad, alg...)
}
