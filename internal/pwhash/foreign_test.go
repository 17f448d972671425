package pwhash

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"
)

// Literal hashes made by the reference implementations, each also checked
// by recomputing it with crypto/pbkdf2 or x/crypto/scrypt when it was added.
const (
	// passlib's test suite (test_handlers.py, pbkdf2_sha256_test and
	// pbkdf2_sha512_test): "password", 1212 rounds.
	refPasslibPBKDF2SHA256 = "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"
	refPasslibPBKDF2SHA512 = "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww"
	// passlib's pbkdf2_sha256 vector for UPASS_WAV, a Greek name: the
	// password is hashed as its UTF-8 bytes.
	refPasslibPBKDF2SHA256WAV = "$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI"
	upassWAV                  = "\u0399\u03c9\u03b1\u03bd\u03bd\u03b7\u03c2"

	// passlib's scrypt_test: RFC 7914 vector 2 ("password", salt "NaCl",
	// N=1024, r=8, p=16) in passlib's format with its 32-byte hash; a
	// passlib-made hash of "test"; RFC 7914 vector 1 (empty password, empty
	// salt).
	refPasslibScrypt      = "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI"
	refPasslibScryptTest  = "$scrypt$ln=8,r=8,p=1$wlhLyXmP8b53bm1NKYVQqg$mTpvG8lzuuDk+DWz8HZIB6Vum6erDuUm0As5yU+VxWA"
	refPasslibScryptEmpty = "$scrypt$ln=4,r=1,p=1$$d9ZXYjhleyA7GcpCwYoEl/FrSETjB0ro39/6P+3iFEI"
	// simonepri/phc-scrypt's vectors: the same RFC 7914 vector 2 with the
	// whole 64-byte output.
	refPHCScrypt = "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA"

	// Django's tests/auth_tests/test_hashers.py test_pbkdf2:
	// make_password("lètmein", "seasalt", "pbkdf2_sha256") in Django 1.5
	// (10,000 iterations) and Django 5.1 (870,000).
	refDjangoPBKDF2     = "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="
	refDjangoPBKDF2V5_1 = "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac="
)

// scryptPasslib encodes an scrypt hash as passlib does.
func scryptPasslib(tb testing.TB, password string, salt []byte, ln, r, p, keyLen int) string {
	tb.Helper()
	key, err := scrypt.Key([]byte(password), salt, 1<<ln, r, p, keyLen)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", ln, r, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// ab64 is passlib's adapted base64.
func ab64(b []byte) string {
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
}

// pbkdf2Passlib encodes a PBKDF2 hash as passlib's pbkdf2_sha256 or
// pbkdf2_sha512 does.
func pbkdf2Passlib[H hash.Hash](tb testing.TB, name string, h func() H, password string, salt []byte, rounds int) string {
	tb.Helper()
	key, err := pbkdf2.Key(h, password, salt, rounds, h().Size())
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("$pbkdf2-%s$%d$%s$%s", name, rounds, ab64(salt), ab64(key))
}

// pbkdf2Django encodes a hash as Django's PBKDF2PasswordHasher does.
func pbkdf2Django(tb testing.TB, password, salt string, iterations int) string {
	tb.Helper()
	key, err := pbkdf2.Key(sha256.New, password, []byte(salt), iterations, sha256.Size)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, salt, base64.StdEncoding.EncodeToString(key))
}

func TestVerifyForeign(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	const password = "correct horse battery staple"
	// A salt whose ab64 form has both '.' and '/', so the alphabet swap is
	// exercised: 0xfb 0xef 0xbe encodes to "++++" in standard base64.
	salt := []byte{0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if s := ab64(salt); !strings.Contains(s, ".") || !strings.Contains(s, "/") {
		t.Fatalf("test salt's ab64 form %q lacks '.' or '/'", s)
	}
	withNUL := "pass\x00word\x00"

	tests := []struct {
		name     string
		password string
		encoded  string
		wantOK   bool
	}{
		{"scrypt passlib", password, scryptPasslib(t, password, salt, 4, 8, 1, 32), true},
		{"scrypt passlib wrong password", password + "!", scryptPasslib(t, password, salt, 4, 8, 1, 32), false},
		{"scrypt 64-byte hash", password, scryptPasslib(t, password, salt, 5, 2, 3, 64), true},
		{"scrypt 16-byte hash", password, scryptPasslib(t, password, salt, 5, 2, 3, 16), true},
		{"scrypt empty salt", password, scryptPasslib(t, password, nil, 4, 1, 1, 32), true},
		{"scrypt NUL", withNUL, scryptPasslib(t, withNUL, salt, 4, 1, 1, 32), true},
		{"scrypt NUL prefix", "pass", scryptPasslib(t, withNUL, salt, 4, 1, 1, 32), false},
		{"pbkdf2-sha256", password, pbkdf2Passlib(t, "sha256", sha256.New, password, salt, 1000), true},
		{"pbkdf2-sha256 wrong password", "Correct horse battery staple", pbkdf2Passlib(t, "sha256", sha256.New, password, salt, 1000), false},
		{"pbkdf2-sha512", password, pbkdf2Passlib(t, "sha512", sha512.New, password, salt, 1000), true},
		{"pbkdf2-sha512 wrong password", "", pbkdf2Passlib(t, "sha512", sha512.New, password, salt, 1000), false},
		{"pbkdf2 passlib empty salt", password, pbkdf2Passlib(t, "sha256", sha256.New, password, nil, 1), true},
		{"django", password, pbkdf2Django(t, password, "aB3dE5gH7jK9mN1pQ3sT5v", 1000), true},
		{"django wrong password", "nope", pbkdf2Django(t, password, "aB3dE5gH7jK9mN1pQ3sT5v", 1000), false},
		{"django salt with spaces and Hangul", password, pbkdf2Django(t, password, "소금 salt", 1000), true},
		{"django NUL", withNUL, pbkdf2Django(t, withNUL, "seasalt", 1000), true},

		{"reference passlib pbkdf2-sha256", "password", refPasslibPBKDF2SHA256, true},
		{"reference passlib pbkdf2-sha256 wrong", "Password", refPasslibPBKDF2SHA256, false},
		{"reference passlib pbkdf2-sha256 UTF-8", upassWAV, refPasslibPBKDF2SHA256WAV, true},
		{"reference passlib pbkdf2-sha512", "password", refPasslibPBKDF2SHA512, true},
		{"reference passlib pbkdf2-sha512 wrong", "password ", refPasslibPBKDF2SHA512, false},
		{"reference passlib scrypt", "password", refPasslibScrypt, true},
		{"reference passlib scrypt wrong", "passwore", refPasslibScrypt, false},
		{"reference passlib scrypt test", "test", refPasslibScryptTest, true},
		{"reference passlib scrypt empty", "", refPasslibScryptEmpty, true},
		{"reference phc-scrypt", "password", refPHCScrypt, true},
		{"reference django 1.5", "lètmein", refDjangoPBKDF2, true},
		{"reference django wrong", "letmein", refDjangoPBKDF2, false},
		{"reference django 5.1", "lètmein", refDjangoPBKDF2V5_1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(tt.password, tt.encoded)
			if err != nil {
				t.Fatalf("Verify: unexpected error %v", err)
			}
			// Every foreign scheme is replaced by argon2id on a match.
			if ok != tt.wantOK || rehash != tt.wantOK {
				t.Errorf("Verify = ok %v, rehash %v; want %v, %v", ok, rehash, tt.wantOK, tt.wantOK)
			}
			if err := ValidateHash(tt.encoded); err != nil {
				t.Errorf("ValidateHash: %v", err)
			}
		})
	}
}

// A foreign hash, once verified, is replaced by an argon2id hash that needs
// no further rehash: the upgrade path Login follows.
func TestForeignRehashRoundTrip(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	ok, rehash, err := h.Verify("lètmein", refDjangoPBKDF2)
	if !ok || !rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
	upgraded := mustHash(t, h, "lètmein")
	if ok, rehash, err := h.Verify("lètmein", upgraded); !ok || rehash || err != nil {
		t.Errorf("Verify(upgraded) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestVerifyForeignMalformed(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	const (
		b64Salt = "c29tZXNhbHQ"                                 // "somesalt"
		b64Key  = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" // 32 bytes
		ab64Key = "hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ" // 32 bytes
		djKey   = "CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="
	)
	sha512Key := ab64(make([]byte, 64))
	scr := func(params, salt, key string) string { return "$scrypt$" + params + "$" + salt + "$" + key }
	pl := func(rounds, salt, key string) string { return "$pbkdf2-sha256$" + rounds + "$" + salt + "$" + key }
	dj := func(iterations, salt, key string) string {
		return "pbkdf2_sha256$" + iterations + "$" + salt + "$" + key
	}

	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"passlib pbkdf2 sha1", "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI", ErrUnknownHash},
		{"passlib pbkdf2 sha384", "$pbkdf2-sha384$1212$c29tZQ$" + ab64Key, ErrUnknownHash},
		{"django pbkdf2_sha1", "pbkdf2_sha1$10000$wz5B6WkasRoF$atJmJ1o+XfJxKq1+Nu1f1i57Z5I=", ErrUnknownHash},
		{"django argon2", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" + b64Key, ErrUnknownHash},
		{"werkzeug pbkdf2", "pbkdf2:sha256:600000$salt$" + strings.Repeat("ab", 32), ErrUnknownHash},
		{"werkzeug scrypt", "scrypt:32768:8:1$salt$" + strings.Repeat("ab", 64), ErrUnknownHash},
		{"libscrypt $7$", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", ErrUnknownHash},
		{"django prefix upper case", "PBKDF2_SHA256$10000$seasalt$" + djKey, ErrUnknownHash},

		{"scrypt prefix only", "$scrypt$", ErrMalformedHash},
		{"scrypt missing hash", "$scrypt$ln=4,r=8,p=1$" + b64Salt, ErrMalformedHash},
		{"scrypt extra field", scr("ln=4,r=8,p=1", b64Salt, b64Key) + "$", ErrMalformedHash},
		{"scrypt params reordered", scr("r=8,ln=4,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt N instead of ln", scr("N=16,r=8,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt params missing", scr("ln=4,r=8", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt params extra", scr("ln=4,r=8,p=1,len=32", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt ln zero", scr("ln=0,r=8,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt ln 31", scr("ln=31,r=1,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt ln 256", scr("ln=256,r=1,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt r zero", scr("ln=4,r=0,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt p zero", scr("ln=4,r=8,p=0", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt sign", scr("ln=+4,r=8,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt 1.125 GiB", scr("ln=20,r=9,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt 2 GiB", scr("ln=21,r=8,p=1", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt huge r", scr("ln=1,r=4294967295,p=1", b64Salt, b64Key), ErrMalformedHash},
		// Small N, huge p: little mixing memory but 128·r·p bytes of lane
		// blocks.
		{"scrypt huge p", scr("ln=1,r=1,p=4294967295", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt lanes over 16 MiB", scr("ln=1,r=8,p=16385", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt too much work", scr("ln=19,r=8,p=9", b64Salt, b64Key), ErrMalformedHash},
		{"scrypt padded hash", scr("ln=4,r=8,p=1", b64Salt, b64Key+"="), ErrMalformedHash},
		{"scrypt ab64 hash", scr("ln=4,r=8,p=1", b64Salt, ab64Key), ErrMalformedHash},
		{"scrypt url-safe base64", scr("ln=4,r=8,p=1", b64Salt, strings.ReplaceAll(b64Key, "/", "_")), ErrMalformedHash},
		{"scrypt hash too short", scr("ln=4,r=8,p=1", b64Salt, "AAAAAAAAAAAAAAAAAAAA"), ErrMalformedHash},
		{"scrypt empty hash", scr("ln=4,r=8,p=1", b64Salt, ""), ErrMalformedHash},

		{"passlib pbkdf2 prefix only", "$pbkdf2-sha256$", ErrMalformedHash},
		{"passlib pbkdf2 leading zero", pl("01212", "4vjV83LKPjQzk31VI4E0Vw", ab64Key), ErrMalformedHash},
		{"passlib pbkdf2 empty rounds", pl("", "4vjV83LKPjQzk31VI4E0Vw", ab64Key), ErrMalformedHash},
		{"passlib pbkdf2 zero rounds", pl("0", "4vjV83LKPjQzk31VI4E0Vw", ab64Key), ErrMalformedHash},
		{"passlib pbkdf2 sign", pl("+1212", "4vjV83LKPjQzk31VI4E0Vw", ab64Key), ErrMalformedHash},
		{"passlib pbkdf2 too many rounds", pl("10000001", "4vjV83LKPjQzk31VI4E0Vw", ab64Key), ErrMalformedHash},
		{"passlib pbkdf2 rounds overflow", pl("99999999999999999999", "4vjV83LKPjQzk31VI4E0Vw", ab64Key), ErrMalformedHash},
		{"passlib pbkdf2 trailing $", pl("1212", "4vjV83LKPjQzk31VI4E0Vw", ab64Key) + "$", ErrMalformedHash},
		{"passlib pbkdf2 plus in hash", pl("1212", "4vjV83LKPjQzk31VI4E0Vw", strings.ReplaceAll(ab64Key, ".", "+")), ErrMalformedHash},
		{"passlib pbkdf2 padded hash", pl("1212", "4vjV83LKPjQzk31VI4E0Vw", ab64Key+"="), ErrMalformedHash},
		{"passlib pbkdf2 short hash", pl("1212", "4vjV83LKPjQzk31VI4E0Vw", ab64Key[:40]), ErrMalformedHash},
		// Each extra digest-length of output costs another full run of the
		// iterations: two digests for the price of a bound on one.
		{"passlib pbkdf2 two digests", pl("1212", "4vjV83LKPjQzk31VI4E0Vw", ab64(make([]byte, 64))), ErrMalformedHash},
		{"passlib pbkdf2-sha512 with a sha256 hash", "$pbkdf2-sha512$1212$4vjV83LKPjQzk31VI4E0Vw$" + ab64Key, ErrMalformedHash},
		{"passlib pbkdf2-sha256 with a sha512 hash", pl("1212", "4vjV83LKPjQzk31VI4E0Vw", sha512Key), ErrMalformedHash},

		{"django prefix only", "pbkdf2_sha256$", ErrMalformedHash},
		{"django empty salt", dj("10000", "", djKey), ErrMalformedHash},
		{"django missing hash", "pbkdf2_sha256$10000$seasalt", ErrMalformedHash},
		{"django dollar in hash", dj("10000", "seasalt", djKey) + "$x", ErrMalformedHash},
		{"django leading zero", dj("010000", "seasalt", djKey), ErrMalformedHash},
		{"django too many iterations", dj("10000001", "seasalt", djKey), ErrMalformedHash},
		{"django unpadded hash", dj("10000", "seasalt", strings.TrimSuffix(djKey, "=")), ErrMalformedHash},
		{"django url-safe hash", dj("10000", "seasalt", "-"+djKey[1:]), ErrMalformedHash},
		{"django newline in hash", dj("10000", "seasalt", djKey[:10]+"\n"+djKey[10:]), ErrMalformedHash},
		{"django 64-byte hash", dj("10000", "seasalt", base64.StdEncoding.EncodeToString(make([]byte, 64))), ErrMalformedHash},
		{"django salt too long", dj("10000", strings.Repeat("s", 1025), djKey), ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			ok, rehash, err := h.Verify("password", tt.encoded)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if ok || rehash {
				t.Errorf("Verify = ok %v, rehash %v with an error; want false, false", ok, rehash)
			}
			// Refusal is decided before any hashing: a crafted cost costs
			// nothing.
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing took %v", d)
			}
			if verr := ValidateHash(tt.encoded); !errors.Is(verr, tt.want) {
				t.Errorf("ValidateHash error = %v, want %v", verr, tt.want)
			}
			// Errors end up in logs and import reports: they may name the
			// scheme and its cost, never quote the salt or the hash.
			// The scheme's name comes first (after a leading "$" or not).
			parts := strings.Split(tt.encoded, "$")
			parts = parts[min(2, len(parts)):]
			for _, part := range parts[max(0, len(parts)-2):] {
				if len(part) >= 8 && strings.Contains(err.Error(), part) {
					t.Errorf("error message quotes the salt or hash: %v", err)
				}
			}
		})
	}
}

// The bounds admit what real systems write: passlib's default scrypt
// (ln=16,r=8,p=1: 64 MiB), Django's (N=2^14, r=8, p=1), 1 GiB exactly, and
// Django's and passlib's PBKDF2 round counts up to the bound. Only parsed
// here; running them is the benchmarks' business.
func TestForeignBoundsAdmitRealParameters(t *testing.T) {
	t.Parallel()
	const b64Salt, b64Key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	for _, encoded := range []string{
		"$scrypt$ln=16,r=8,p=1$" + b64Salt + "$" + b64Key,
		"$scrypt$ln=14,r=8,p=1$" + b64Salt + "$" + b64Key,
		"$scrypt$ln=14,r=8,p=16$" + b64Salt + "$" + b64Key,
		"$scrypt$ln=20,r=8,p=1$" + b64Salt + "$" + b64Key,     // libsodium's "sensitive": 1 GiB
		"$scrypt$ln=19,r=16,p=4$" + b64Salt + "$" + b64Key,    // 1 GiB, four lanes
		"$scrypt$ln=4,r=1,p=131072$" + b64Salt + "$" + b64Key, // 16 MiB of lane blocks
		"$pbkdf2-sha256$29000$" + "N2YMIWQsBWBMae09x1jrPQ" + "$" + strings.ReplaceAll(b64Key, "+", "."),
		"$pbkdf2-sha512$10000000$c29tZQ$" + ab64(make([]byte, 64)),
		"pbkdf2_sha256$1000000$" + "aB3dE5gH7jK9mN1pQ3sT5v" + "$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
	} {
		if err := ValidateHash(encoded); err != nil {
			t.Errorf("ValidateHash(%.30s…) = %v", encoded, err)
		}
	}
}

func TestValidateHash(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"argon2id", mustHash(t, h, "password"), nil},
		{"argon2i reference", refArgon2i, nil},
		{"bcrypt reference", refBcrypt2y, nil},
		{"bcrypt passlib $2b$", "$2b$" + refBcrypt2a[4:], nil},
		{"scrypt", refPasslibScrypt, nil},
		{"pbkdf2-sha512", refPasslibPBKDF2SHA512, nil},
		{"django", refDjangoPBKDF2, nil},
		{"empty", "", ErrUnknownHash},
		{"plaintext", "hunter2", ErrUnknownHash},
		{"md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", ErrUnknownHash},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$AAAAAAAA", ErrUnknownHash},
		{"bcrypt cost 31", "$2b$31$" + refBcrypt2a[7:], ErrMalformedHash},
		{"argon2id 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$AAAAAAAA", ErrMalformedHash},
		{"too long", "$2b$" + strings.Repeat("A", maxEncodedLen), ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateHash(tt.encoded)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ValidateHash = %v, want %v", err, tt.want)
			}
		})
	}
}

func BenchmarkVerifyScryptPasslibDefault(b *testing.B) {
	h := New(DefaultParams)
	encoded := scryptPasslib(b, "correct horse battery staple", []byte("0123456789abcdef"), 16, 8, 1, 32)
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkVerifyDjangoPBKDF2(b *testing.B) {
	h := New(DefaultParams)
	encoded := pbkdf2Django(b, "correct horse battery staple", "aB3dE5gH7jK9mN1pQ3sT5v", 1_000_000)
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}
