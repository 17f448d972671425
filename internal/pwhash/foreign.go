package pwhash

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Foreign schemes: hashes that users imported from other systems bring along
// (`gatehouse import users`). Verify checks them so that those users keep
// their passwords, and always asks for a rehash on a match, so that each one
// is replaced by argon2id at its first login; nothing here is ever written.
// The encodings accepted, each with exactly one spelling:
//
//	$scrypt$ln=L,r=R,p=P$<salt>$<hash>
//	    passlib's scrypt, and the PHC-style strings of phc-scrypt (node) and
//	    others, which share the syntax. N = 2^L. Salt and hash are unpadded
//	    standard base64 of raw bytes (passlib's "b64s"); the salt may be empty
//	    (passlib's own test vectors have one), the hash is 16..1024 bytes
//	    (passlib writes 32, phc-scrypt 64). Parameters in exactly this order.
//	    libscrypt/yescrypt's "$7$" and Werkzeug's "scrypt:N:r:p$" are not
//	    accepted.
//	$pbkdf2-sha256$<rounds>$<salt>$<hash>, $pbkdf2-sha512$...
//	    passlib's PBKDF2-HMAC-SHA256/512. Salt and hash in passlib's "ab64":
//	    standard base64 with '.' for '+', unpadded. The hash is exactly one
//	    digest (32 or 64 bytes), as passlib requires. passlib's SHA-1 variant
//	    ("$pbkdf2$") is not accepted.
//	pbkdf2_sha256$<iterations>$<salt>$<hash>
//	    Django's default hasher. The salt is used as its text (UTF-8 bytes),
//	    not decoded; the hash is padded standard base64 of exactly 32 bytes.
//	    Django's other hashers (argon2$, bcrypt_sha256$, pbkdf2_sha1$) are not
//	    accepted.
//
// Round counts are decimal without leading zeros: passlib refuses "01212" as
// malformed, and Django compares the re-encoded string, so such a hash never
// verified where it came from either.
//
// Bounds: the cost of these hashes is read from the hash, so, as for argon2,
// one crafted row must not make a login allocate gigabytes or run for
// minutes. scrypt may mix up to 1 GiB (128·r·N bytes: argon2's m ceiling,
// and libsodium's "sensitive" scrypt level, N=2^20 and r=8) once per lane, up
// to 4 GiB × lanes in all (argon2's m×t ceiling); its lanes' own blocks
// (128·r·p bytes) are held to 16 MiB, which no real setting comes near.
// PBKDF2 may run up to 10 million iterations, some seconds, ten times Django
// 5.2's default of 1,000,000. PBKDF2's cost also grows with the length of its
// output, which is why its hash must be exactly one digest long.
const (
	maxScryptLogN       = 30               // N = 2^30 at r=1 is already 128 GiB: the memory bound decides first
	maxScryptMemory     = maxMemory * 1024 // bytes of mixing: 128·r·N
	maxScryptWork       = maxWork * 1024   // bytes × lanes: 128·r·N·p
	maxScryptLaneBytes  = 16 << 20         // bytes of the lanes' blocks: 128·r·p
	maxPBKDF2Iterations = 10_000_000
	minForeignKeyLen    = 16 // a shorter scrypt output would let many passwords match
)

// scryptHash is a parsed scrypt hash.
type scryptHash struct {
	logN uint8
	r, p int
	salt []byte
	key  []byte
}

// parseScrypt parses "$scrypt$ln=L,r=R,p=P$salt$hash" and checks its cost
// against h.limits before anything is allocated.
func (h *Hasher) parseScrypt(encoded string) (scryptHash, error) {
	var s scryptHash
	fields := strings.Split(encoded, "$")
	if len(fields) != 5 {
		return s, fmt.Errorf("%w: scrypt: want 5 $-separated fields, have %d", ErrMalformedHash, len(fields))
	}
	params := strings.Split(fields[2], ",")
	if len(params) != 3 {
		return s, fmt.Errorf("%w: scrypt: want ln,r,p parameters", ErrMalformedHash)
	}
	ln, err := parseParam("scrypt", params[0], "ln=", 8)
	if err != nil {
		return s, err
	}
	r, err := parseParam("scrypt", params[1], "r=", 32)
	if err != nil {
		return s, err
	}
	p, err := parseParam("scrypt", params[2], "p=", 32)
	if err != nil {
		return s, err
	}
	if ln < 1 || ln > maxScryptLogN {
		return s, fmt.Errorf("%w: scrypt ln=%d outside 1..%d", ErrMalformedHash, ln, maxScryptLogN)
	}
	if r < 1 || p < 1 {
		return s, fmt.Errorf("%w: scrypt r and p must be at least 1", ErrMalformedHash)
	}
	// Division rather than multiplication, so that no product can
	// overflow: r and p are up to 2^32 and N up to 2^30. x/crypto allocates
	// 128·r·N bytes for the mixing and 128·r·p for the lanes' blocks, and
	// mixes 128·r·N bytes once per lane. 128·r·N is at most the memory
	// limit once the first check has passed.
	n := uint64(1) << ln
	if r > h.limits.scryptMemory/128/n {
		return s, fmt.Errorf("%w: scrypt ln=%d,r=%d needs more than %d bytes", ErrMalformedHash, ln, r, h.limits.scryptMemory)
	}
	if p > maxScryptLaneBytes/128/r {
		return s, fmt.Errorf("%w: scrypt r=%d,p=%d: lanes need more than %d bytes", ErrMalformedHash, r, p, maxScryptLaneBytes)
	}
	if p > h.limits.scryptWork/(128*r*n) {
		return s, fmt.Errorf("%w: scrypt ln=%d,r=%d,p=%d exceeds the work bound", ErrMalformedHash, ln, r, p)
	}
	s.logN, s.r, s.p = uint8(ln), int(r), int(p)
	if s.salt, err = decodeB64(fields[3], "scrypt salt", 0, maxSaltLen); err != nil {
		return s, err
	}
	if s.key, err = decodeB64(fields[4], "scrypt hash", minForeignKeyLen, maxKeyLen); err != nil {
		return s, err
	}
	return s, nil
}

// check verifies password; see storedHash. A match always asks for a rehash.
func (s scryptHash) check(password string, _ Params) (ok, rehash bool, err error) {
	key, err := scrypt.Key([]byte(password), s.salt, 1<<s.logN, s.r, s.p, len(s.key))
	if err != nil {
		// Unreachable within the bounds parseScrypt checks. x/crypto's
		// messages quote no bytes of the hash, but the cause is not kept:
		// the contract is that errors carry nothing of it.
		return false, false, fmt.Errorf("%w: scrypt refused the parameters", ErrMalformedHash)
	}
	match := subtle.ConstantTimeCompare(key, s.key) == 1
	return match, match, nil
}

// pbkdf2Hash is a parsed PBKDF2 hash, of passlib or Django.
type pbkdf2Hash struct {
	scheme     string // for errors
	newHash    func() hash.Hash
	iterations int
	salt       []byte
	key        []byte
}

// parsePasslibPBKDF2 parses "$pbkdf2-sha256$rounds$salt$hash" (or -sha512).
func (h *Hasher) parsePasslibPBKDF2(encoded string) (pbkdf2Hash, error) {
	k := pbkdf2Hash{scheme: "pbkdf2-sha256", newHash: sha256.New}
	if strings.HasPrefix(encoded, "$pbkdf2-sha512$") {
		k = pbkdf2Hash{scheme: "pbkdf2-sha512", newHash: sha512.New}
	}
	fields := strings.Split(encoded, "$")
	if len(fields) != 5 {
		return k, fmt.Errorf("%w: %s: want 5 $-separated fields, have %d", ErrMalformedHash, k.scheme, len(fields))
	}
	var err error
	if k.iterations, err = h.parseIterations(k.scheme, fields[2]); err != nil {
		return k, err
	}
	if k.salt, err = decodeAB64(fields[3], k.scheme+" salt", 0, maxSaltLen); err != nil {
		return k, err
	}
	size := k.newHash().Size()
	if k.key, err = decodeAB64(fields[4], k.scheme+" hash", size, size); err != nil {
		return k, err
	}
	return k, nil
}

// parseDjangoPBKDF2 parses Django's "pbkdf2_sha256$iterations$salt$hash".
func (h *Hasher) parseDjangoPBKDF2(encoded string) (pbkdf2Hash, error) {
	k := pbkdf2Hash{scheme: "django pbkdf2_sha256", newHash: sha256.New}
	fields := strings.Split(encoded, "$")
	if len(fields) != 4 {
		return k, fmt.Errorf("%w: %s: want 4 $-separated fields, have %d", ErrMalformedHash, k.scheme, len(fields))
	}
	var err error
	if k.iterations, err = h.parseIterations(k.scheme, fields[1]); err != nil {
		return k, err
	}
	// Django's salt is text, hashed as its UTF-8 bytes; Django refuses an
	// empty one.
	if n := len(fields[2]); n < 1 || n > maxSaltLen {
		return k, fmt.Errorf("%w: %s salt length %d outside 1..%d", ErrMalformedHash, k.scheme, n, maxSaltLen)
	}
	k.salt = []byte(fields[2])
	// Django writes base64.b64encode(...): padded, standard alphabet. The
	// strict decoder refuses '\r', '\n' and non-zero padding bits, so that,
	// as in Django (which compares the re-encoded string), one hash has one
	// spelling.
	key, err := base64.StdEncoding.Strict().DecodeString(fields[3])
	if err != nil || strings.ContainsAny(fields[3], "\r\n") {
		return k, fmt.Errorf("%w: %s hash is not padded base64", ErrMalformedHash, k.scheme)
	}
	if len(key) != sha256.Size {
		return k, fmt.Errorf("%w: %s hash length %d, want %d", ErrMalformedHash, k.scheme, len(key), sha256.Size)
	}
	k.key = key
	return k, nil
}

// parseIterations parses a PBKDF2 round count: decimal digits, no leading
// zero, 1..h.limits.pbkdf2Iterations.
func (h *Hasher) parseIterations(scheme, s string) (int, error) {
	if s == "" || s[0] == '0' {
		return 0, fmt.Errorf("%w: %s: iterations empty or with a leading zero", ErrMalformedHash, scheme)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: iterations are not a 32-bit decimal", ErrMalformedHash, scheme)
	}
	if n > h.limits.pbkdf2Iterations {
		return 0, fmt.Errorf("%w: %s: %d iterations exceed %d", ErrMalformedHash, scheme, n, h.limits.pbkdf2Iterations)
	}
	return int(n), nil
}

// decodeAB64 decodes passlib's "adapted base64": standard base64 with '.' in
// place of '+' and no padding. A '+' is refused, so that one hash has one
// spelling.
func decodeAB64(s, what string, minLen, maxLen int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '/') {
			return nil, fmt.Errorf("%w: %s is not ab64 (./A-Za-z0-9)", ErrMalformedHash, what)
		}
	}
	return decodeB64(strings.ReplaceAll(s, ".", "+"), what, minLen, maxLen)
}

// check verifies password; see storedHash. A match always asks for a rehash.
func (k pbkdf2Hash) check(password string, _ Params) (ok, rehash bool, err error) {
	key, err := pbkdf2.Key(k.newHash, password, k.salt, k.iterations, len(k.key))
	if err != nil {
		// Only in FIPS 140-3 enforcing mode, which refuses short salts and
		// keys that passlib and Django allow.
		return false, false, fmt.Errorf("%w: %s parameters refused by crypto/pbkdf2", ErrMalformedHash, k.scheme)
	}
	match := subtle.ConstantTimeCompare(key, k.key) == 1
	return match, match, nil
}
