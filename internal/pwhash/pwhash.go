// Package pwhash hashes and verifies passwords and decides which passwords are
// acceptable.
//
// New hashes are argon2id PHC strings. Verify also accepts argon2i, the
// bcrypt hashes ($2a$, $2b$, $2y$) written by passlib and the Python tutorial
// this server replaces, and the scrypt and PBKDF2 hashes of passlib and Django
// that users imported from other systems bring along (see foreign.go). It
// reports when a stored hash should be upgraded, so that users move to
// argon2id with the current parameters as they log in.
//
// Nothing in this package logs, and no error it returns contains a password or
// any part of a hash.
package pwhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

var (
	// ErrUnknownHash means an encoded hash is of a scheme or version that
	// Verify does not implement (plaintext, MD5-crypt "$1$", argon2d, ...).
	ErrUnknownHash = errors.New("pwhash: unknown hash scheme")

	// ErrMalformedHash means an encoded hash names a known scheme but cannot
	// be parsed, or asks for parameters outside the bounds Verify accepts.
	ErrMalformedHash = errors.New("pwhash: malformed hash")
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes (parallelism)
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultParams are the argon2id parameters of the OWASP Password Storage
// Cheat Sheet: 19 MiB of memory, two passes, one lane, a 16-byte salt and a
// 32-byte key.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on what Verify accepts from a stored hash. The parameters of a hash
// are read from the hash itself, so without bounds one crafted or corrupted
// row (an import, a bad migration, an attacker with write access to one
// column) could make every login attempt for that user allocate gigabytes or
// run for minutes.
const (
	maxEncodedLen = 4096    // bytes of an encoded hash; far above any real one
	maxMemory     = 1 << 20 // KiB, i.e. 1 GiB (libsodium's "sensitive" level)
	maxTime       = 100
	maxWork       = 4 << 20 // memory*time in KiB-passes: 1 GiB×4, libsodium "sensitive"
	minSaltLen    = 8       // the reference implementation's minimum
	maxSaltLen    = 1024
	minKeyLen     = 4 // the reference implementation's minimum
	maxKeyLen     = 1024

	// bcrypt cost 16 takes some seconds; passlib's default is 12. The
	// algorithm itself allows 31, which is days.
	maxBcryptCost = 16

	// bcrypt reads only the first 72 bytes of a password.
	bcryptMaxPassword = 72
)

// Validate reports whether p can be used to hash new passwords: it must lie
// within the bounds Verify accepts (so every hash we make can be checked
// again), and salt and key must be at least 16 bytes.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("pwhash: argon2 threads must be at least 1")
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("pwhash: argon2 time %d outside 1..%d", p.Time, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("pwhash: argon2 memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case uint64(p.Memory)*uint64(p.Time) > maxWork:
		return fmt.Errorf("pwhash: argon2 memory×time %d exceeds %d", uint64(p.Memory)*uint64(p.Time), maxWork)
	case p.SaltLen < 16 || p.SaltLen > maxSaltLen:
		return fmt.Errorf("pwhash: argon2 salt length %d outside 16..%d", p.SaltLen, maxSaltLen)
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen:
		return fmt.Errorf("pwhash: argon2 key length %d outside 16..%d", p.KeyLen, maxKeyLen)
	}
	return nil
}

// limits are the verification bounds of one Hasher. They are always the
// package constants except in the fuzz test, which lowers them so that a
// mutated hash cannot make one iteration take seconds.
type limits struct {
	memory     uint32
	time       uint32
	work       uint64
	bcryptCost int

	scryptMemory     uint64 // bytes
	scryptWork       uint64 // bytes × lanes
	pbkdf2Iterations uint64
}

func defaultLimits() limits {
	return limits{
		memory: maxMemory, time: maxTime, work: maxWork, bcryptCost: maxBcryptCost,
		scryptMemory: maxScryptMemory, scryptWork: maxScryptWork, pbkdf2Iterations: maxPBKDF2Iterations,
	}
}

// Hasher hashes passwords with one set of argon2id parameters and verifies
// them against hashes of any supported scheme. It is safe for concurrent use.
type Hasher struct {
	params Params
	rand   io.Reader
	limits limits
	dummy  string // argon2id hash of a random password, made with params
}

// New returns a Hasher that makes argon2id hashes with p, drawing salts from
// crypto/rand. It precomputes the dummy hash that VerifyDummy checks against,
// which costs one hash. New panics if p.Validate fails: parameters are fixed
// at start-up, and configuration should call Validate before this.
func New(p Params) *Hasher {
	return newHasher(p, rand.Reader)
}

func newHasher(p Params, r io.Reader) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	h := &Hasher{params: p, rand: r, limits: defaultLimits()}
	// The dummy password is random and then forgotten, so no input can match
	// the dummy hash; VerifyDummy returns false regardless, this is only belt
	// and braces.
	secret := make([]byte, 32)
	if _, err := io.ReadFull(r, secret); err != nil {
		panic(fmt.Errorf("pwhash: reading random dummy password: %w", err))
	}
	dummy, err := h.hash(secret)
	if err != nil {
		panic(err)
	}
	h.dummy = dummy
	return h
}

// Hash returns the argon2id PHC string of password, in the format of the
// reference implementation:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. The password is first put
// in Unicode Normalization Form C (NIST SP 800-63B §5.1.1.2), so that one
// password typed on keyboards that compose differently (e.g. Hangul entered
// decomposed on macOS, composed on Windows) is one password. The error is
// non-nil only if no random salt could be read.
func (h *Hasher) Hash(password string) (string, error) {
	return h.hash([]byte(norm.NFC.String(password)))
}

func (h *Hasher) hash(password []byte) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("pwhash: reading salt: %w", err)
	}
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify checks password against an encoded hash. ok reports a match; rehash
// reports that the hash should be replaced by h.Hash(password) (it is of
// another scheme than argon2id, or argon2id with parameters other than h's),
// and is only ever true together with ok. err is non-nil only for an encoded
// hash it cannot parse (it wraps ErrUnknownHash or ErrMalformedHash), never
// for a wrong password.
//
// Passwords are compared in NFC for argon2 (see Hash) and as the bytes of the
// string for every other scheme, as passlib and Django hashed them: any byte,
// NUL included, simply matches or does not.
//
// Supported: argon2id and argon2i (version 19) PHC strings; bcrypt $2a$, $2b$
// and $2y$; scrypt, passlib PBKDF2 and Django PBKDF2 as described in
// foreign.go. A bcrypt hash never matches a password longer than 72 bytes;
// see bcryptHash.check.
func (h *Hasher) Verify(password, encoded string) (ok, rehash bool, err error) {
	stored, err := h.parse(encoded)
	if err != nil {
		return false, false, err
	}
	return stored.check(password, h.params)
}

// ValidateHash reports whether Verify can check passwords against encoded,
// without running the hash function: nil when the scheme is supported and
// the hash parses within the bounds Verify accepts, else an error wrapping
// ErrUnknownHash or ErrMalformedHash (whose text never quotes the hash).
// Importers call it to refuse a row up front rather than store an account
// nobody can log in to. It parses exactly as Verify does, so the two never
// disagree.
func ValidateHash(encoded string) error {
	_, err := (&Hasher{limits: defaultLimits()}).parse(encoded)
	return err
}

// storedHash is a parsed encoded hash whose parameters have passed the
// bounds of the Hasher that parsed it.
type storedHash interface {
	// check reports whether password matches and whether a match should be
	// replaced by a hash made with p. An error means the hash could not be
	// evaluated after all; it is never returned together with ok.
	check(password string, p Params) (ok, rehash bool, err error)
}

// parse recognises the scheme of encoded by its prefix and parses it.
func (h *Hasher) parse(encoded string) (storedHash, error) {
	if len(encoded) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	var (
		stored storedHash
		err    error
	)
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"), strings.HasPrefix(encoded, "$argon2i$"):
		stored, err = h.parseArgon2(encoded)
	case strings.HasPrefix(encoded, "$argon2d$"):
		// argon2d is not meant for passwords and x/crypto does not implement it.
		return nil, fmt.Errorf("%w: argon2d", ErrUnknownHash)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		stored, err = h.parseBcrypt(encoded)
	case strings.HasPrefix(encoded, "$scrypt$"):
		stored, err = h.parseScrypt(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2-sha256$"), strings.HasPrefix(encoded, "$pbkdf2-sha512$"):
		stored, err = h.parsePasslibPBKDF2(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		stored, err = h.parseDjangoPBKDF2(encoded)
	default:
		// The scheme is not named in the error: an unknown "hash" may well be
		// a plaintext password.
		return nil, ErrUnknownHash
	}
	if err != nil {
		// Not stored: on error it holds a zero value, which is no nil interface.
		return nil, err
	}
	return stored, nil
}

// VerifyDummy spends the same time as a real Verify against an argon2id hash
// made with h's params and always returns false. Call it when the user is
// unknown, so that "no such user" and "wrong password" take about the same
// time and the login endpoint cannot be used to enumerate accounts.
func (h *Hasher) VerifyDummy(password string) bool {
	_, _, _ = h.Verify(password, h.dummy)
	return false
}

// argon2Hash is a parsed argon2 PHC string.
type argon2Hash struct {
	variant string // "argon2id" or "argon2i"
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// matches reports whether password derives a's key.
func (a argon2Hash) matches(password string) bool {
	var key []byte
	if a.variant == "argon2id" {
		key = argon2.IDKey([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	} else {
		key = argon2.Key([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	}
	return subtle.ConstantTimeCompare(key, a.key) == 1
}

// check verifies password; see storedHash.
func (a argon2Hash) check(password string, p Params) (ok, rehash bool, err error) {
	// Our hashes are of the NFC form (see Hash). A hash imported from a
	// system that did not normalise is of the raw bytes, so a non-NFC
	// password that fails in NFC is tried once more as given.
	nfc := norm.NFC.String(password)
	if !a.matches(nfc) && (nfc == password || !a.matches(password)) {
		return false, false, nil
	}
	current := a.variant == "argon2id" &&
		a.memory == p.Memory && a.time == p.Time && a.threads == p.Threads &&
		uint32(len(a.salt)) == p.SaltLen && uint32(len(a.key)) == p.KeyLen
	return true, !current, nil
}

// parseArgon2 parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" (or argon2i) and
// checks its parameters against h.limits. Errors name the offending field and
// its numeric value only, never the salt or key.
func (h *Hasher) parseArgon2(encoded string) (argon2Hash, error) {
	var a argon2Hash
	fields := strings.Split(encoded, "$")
	// Version 1.0 hashes have no v= field; x/crypto implements only 1.3.
	if len(fields) == 5 && strings.HasPrefix(fields[2], "m=") {
		return a, fmt.Errorf("%w: argon2 version 16", ErrUnknownHash)
	}
	if len(fields) != 6 {
		return a, fmt.Errorf("%w: argon2: want 6 $-separated fields, have %d", ErrMalformedHash, len(fields))
	}
	a.variant = fields[1]

	version, err := parseParam("argon2", fields[2], "v=", 32)
	if err != nil {
		return a, err
	}
	if version != argon2.Version {
		return a, fmt.Errorf("%w: argon2 version %d", ErrUnknownHash, version)
	}

	// The reference implementation writes exactly m,t,p in this order;
	// optional PHC fields (keyid, data) are not supported.
	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return a, fmt.Errorf("%w: argon2: want m,t,p parameters", ErrMalformedHash)
	}
	m, err := parseParam("argon2", params[0], "m=", 32)
	if err != nil {
		return a, err
	}
	t, err := parseParam("argon2", params[1], "t=", 32)
	if err != nil {
		return a, err
	}
	p, err := parseParam("argon2", params[2], "p=", 8)
	if err != nil {
		return a, err
	}
	a.memory, a.time, a.threads = uint32(m), uint32(t), uint8(p)

	// Bounds first, so that argon2 (which panics on t=0 or p=0) is never
	// called with anything we have not checked.
	switch {
	case a.threads < 1:
		return a, fmt.Errorf("%w: argon2 p=0", ErrMalformedHash)
	case a.time < 1 || a.time > h.limits.time:
		return a, fmt.Errorf("%w: argon2 t=%d outside 1..%d", ErrMalformedHash, a.time, h.limits.time)
	case a.memory < 8*uint32(a.threads) || a.memory > h.limits.memory:
		return a, fmt.Errorf("%w: argon2 m=%d outside %d..%d", ErrMalformedHash, a.memory, 8*uint32(a.threads), h.limits.memory)
	case uint64(a.memory)*uint64(a.time) > h.limits.work:
		return a, fmt.Errorf("%w: argon2 m×t=%d exceeds %d", ErrMalformedHash, uint64(a.memory)*uint64(a.time), h.limits.work)
	}

	if a.salt, err = decodeB64(fields[4], "argon2 salt", minSaltLen, maxSaltLen); err != nil {
		return a, err
	}
	if a.key, err = decodeB64(fields[5], "argon2 key", minKeyLen, maxKeyLen); err != nil {
		return a, err
	}
	return a, nil
}

// parseParam parses "name=decimal" into an unsigned integer of the given bit
// size. strconv.ParseUint with base 10 admits only ASCII digits (no sign, no
// spaces, no underscores), which is what PHC allows. scheme names the hash in
// errors.
func parseParam(scheme, s, name string, bits int) (uint64, error) {
	digits, found := strings.CutPrefix(s, name)
	if !found {
		return 0, fmt.Errorf("%w: %s: want %s", ErrMalformedHash, scheme, name)
	}
	n, err := strconv.ParseUint(digits, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %s is not a %d-bit decimal", ErrMalformedHash, scheme, name, bits)
	}
	return n, nil
}

// decodeB64 decodes unpadded standard base64 as PHC strings use it; what
// names the field in errors ("argon2 salt"). Go's decoder silently skips '\r'
// and '\n', so the alphabet is checked first: a stored hash has exactly one
// spelling.
func decodeB64(s, what string, minLen, maxLen int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, fmt.Errorf("%w: %s is not unpadded base64", ErrMalformedHash, what)
		}
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not unpadded base64", ErrMalformedHash, what)
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, fmt.Errorf("%w: %s length %d outside %d..%d", ErrMalformedHash, what, len(b), minLen, maxLen)
	}
	return b, nil
}

// bcryptHash is a $2a$, $2b$ or $2y$ hash whose shape and cost have been
// checked. The three prefixes name the same algorithm for passwords of at most
// 72 bytes ($2b$ fixed an OpenBSD length wrap past 255 bytes, $2y$ is
// crypt_blowfish's name for the correct algorithm); $2x$, crypt_blowfish's
// deliberately buggy mode, is not accepted. A match always asks for a rehash:
// bcrypt is only read, never written.
type bcryptHash string

// parseBcrypt checks the shape and cost of a bcrypt hash. x/crypto/bcrypt
// ignores bytes after the 60th and accepts any minor version letter, so the
// shape is checked here: $2?$NN$ + 53 characters.
func (h *Hasher) parseBcrypt(encoded string) (bcryptHash, error) {
	const bcryptLen = 60
	if len(encoded) != bcryptLen || encoded[6] != '$' {
		return "", fmt.Errorf("%w: bcrypt: want %d bytes", ErrMalformedHash, bcryptLen)
	}
	c1, c2 := encoded[4], encoded[5]
	if c1 < '0' || c1 > '9' || c2 < '0' || c2 > '9' {
		return "", fmt.Errorf("%w: bcrypt: cost is not two digits", ErrMalformedHash)
	}
	cost := int(c1-'0')*10 + int(c2-'0')
	if cost < bcrypt.MinCost || cost > h.limits.bcryptCost {
		return "", fmt.Errorf("%w: bcrypt cost %d outside %d..%d", ErrMalformedHash, cost, bcrypt.MinCost, h.limits.bcryptCost)
	}
	for i := 7; i < len(encoded); i++ {
		c := encoded[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '/') {
			return "", fmt.Errorf("%w: bcrypt: salt or hash is not bcrypt base64", ErrMalformedHash)
		}
	}
	return bcryptHash(encoded), nil
}

// check verifies password; see storedHash.
//
// No silent truncation: bcrypt looks at only the first 72 bytes of a
// password, so a password longer than that never matches, even when its first
// 72 bytes do. Otherwise any password sharing those 72 bytes would log in.
// Python's passlib and older bcrypt releases truncated silently, so an
// imported user who chose a password longer than 72 bytes cannot log in and
// must reset it.
func (b bcryptHash) check(password string, _ Params) (ok, rehash bool, err error) {
	pw := []byte(password)
	tooLong := len(pw) > bcryptMaxPassword
	if tooLong {
		// Still run bcrypt, so that refusing a long password takes as long as
		// checking one and does not tell an observer this user has a bcrypt
		// hash.
		pw = pw[:bcryptMaxPassword]
	}
	switch cmpErr := bcrypt.CompareHashAndPassword([]byte(b), pw); {
	case cmpErr == nil:
		return !tooLong, !tooLong, nil
	case errors.Is(cmpErr, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		// Unreachable after parseBcrypt; kept so that a change in x/crypto
		// surfaces as an error rather than a match. err itself is not
		// wrapped: some of its messages quote bytes of the hash.
		return false, false, fmt.Errorf("%w: bcrypt rejected the hash", ErrMalformedHash)
	}
}
