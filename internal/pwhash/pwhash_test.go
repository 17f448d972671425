package pwhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// testParams are cheap, so that most tests take microseconds; the round trip
// and the benchmarks use DefaultParams.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Known-answer hashes made by other implementations, so that the PHC parsing
// and the bcrypt variants are checked against the outside world and not only
// against our own Hash.
const (
	// phc-winner-argon2 src/test.c: "password", salt "somesalt", m=256 t=2 p=1.
	refArgon2id = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	refArgon2i  = "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8"
	// crypt_blowfish's test vector for "U*U".
	refBcrypt2a = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
	// The PHP manual's password_verify example, "rasmuslerdorf".
	refBcrypt2y = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
)

func mustHash(tb testing.TB, h *Hasher, password string) string {
	tb.Helper()
	encoded, err := h.Hash(password)
	if err != nil {
		tb.Fatalf("Hash: %v", err)
	}
	return encoded
}

func mustBcrypt(tb testing.TB, password string, cost int) string {
	tb.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		tb.Fatalf("bcrypt.GenerateFromPassword: %v", err)
	}
	return string(b)
}

// argon2iHash encodes an argon2i hash of password, which Hash never makes.
func argon2iHash(password string, p Params) string {
	salt := []byte("0123456789abcdef")
	key := argon2.Key([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2i$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestHashFormat(t *testing.T) {
	t.Parallel()
	h := New(DefaultParams)
	encoded := mustHash(t, h, "correct horse battery staple")

	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(encoded, prefix) {
		t.Fatalf("hash does not start with %s", prefix)
	}
	fields := strings.Split(strings.TrimPrefix(encoded, prefix), "$")
	if len(fields) != 2 {
		t.Fatalf("want salt$key after the parameters, have %d fields", len(fields))
	}
	for i, want := range []int{16, 32} {
		b, err := base64.RawStdEncoding.Strict().DecodeString(fields[i])
		if err != nil || len(b) != want {
			t.Errorf("field %d: want %d bytes of unpadded base64, have %d (%v)", i, want, len(b), err)
		}
	}
	if again := mustHash(t, h, "correct horse battery staple"); again == encoded {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestHashRandError(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	h.rand = strings.NewReader("") // exhausted
	if _, err := h.Hash("password"); err == nil {
		t.Fatal("Hash with a failing random source: want error")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	const password = "correct horse battery staple"
	current := mustHash(t, h, password)

	other := func(p Params) string { return mustHash(t, New(p), password) }
	withMemory, withTime, withThreads, withSalt, withKey := testParams, testParams, testParams, testParams, testParams
	withMemory.Memory = 128
	withTime.Time = 2
	withThreads.Threads = 2
	withSalt.SaltLen = 32
	withKey.KeyLen = 64

	// One bcrypt hash under the three prefixes: they name one algorithm.
	body := mustBcrypt(t, password, bcrypt.MinCost)[4:]
	bcrypt2a, bcrypt2b, bcrypt2y := "$2a$"+body, "$2b$"+body, "$2y$"+body

	withNUL := "pass\x00word\x00"
	nulHash := mustHash(t, h, withNUL)
	nulBcrypt := mustBcrypt(t, withNUL, bcrypt.MinCost)

	tests := []struct {
		name       string
		password   string
		encoded    string
		wantOK     bool
		wantRehash bool
	}{
		{"argon2id round trip", password, current, true, false},
		{"argon2id wrong password", "correct horse battery stapler", current, false, false},
		{"argon2id empty password", "", current, false, false},
		{"argon2id other memory", password, other(withMemory), true, true},
		{"argon2id other time", password, other(withTime), true, true},
		{"argon2id other threads", password, other(withThreads), true, true},
		{"argon2id other salt length", password, other(withSalt), true, true},
		{"argon2id other key length", password, other(withKey), true, true},
		{"argon2id other params wrong password", "nope", other(withMemory), false, false},
		{"argon2i same params", password, argon2iHash(password, testParams), true, true},
		{"argon2i wrong password", "nope", argon2iHash(password, testParams), false, false},
		{"bcrypt $2a$", password, bcrypt2a, true, true},
		{"bcrypt $2b$", password, bcrypt2b, true, true},
		{"bcrypt $2y$", password, bcrypt2y, true, true},
		{"bcrypt wrong password", "Correct horse battery staple", bcrypt2b, false, false},
		{"reference argon2id", "password", refArgon2id, true, true},
		{"reference argon2id wrong", "Password", refArgon2id, false, false},
		{"reference argon2i", "password", refArgon2i, true, true},
		{"reference bcrypt $2a$", "U*U", refBcrypt2a, true, true},
		{"reference bcrypt $2b$", "U*U", "$2b$" + refBcrypt2a[4:], true, true},
		{"reference bcrypt $2y$", "rasmuslerdorf", refBcrypt2y, true, true},
		{"reference bcrypt wrong", "rasmuslerdorF", refBcrypt2y, false, false},
		{"NUL argon2id match", withNUL, nulHash, true, false},
		{"NUL argon2id prefix", "pass", nulHash, false, false},
		{"NUL argon2id without trailing NUL", "pass\x00word", nulHash, false, false},
		{"NUL argon2id extra byte", withNUL + "x", nulHash, false, false},
		{"NUL password against plain hash", "correct horse\x00battery staple", current, false, false},
		{"NUL bcrypt match", withNUL, nulBcrypt, true, true},
		{"NUL bcrypt prefix", "pass", nulBcrypt, false, false},
		{"invalid UTF-8 password", "\xff\xfe\x00", current, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(tt.password, tt.encoded)
			if err != nil {
				t.Fatalf("Verify: unexpected error %v", err)
			}
			if ok != tt.wantOK || rehash != tt.wantRehash {
				t.Errorf("Verify = ok %v, rehash %v; want %v, %v", ok, rehash, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

// TestVerifyBcryptNoTruncation checks that a bcrypt hash never matches a
// password longer than 72 bytes, even though bcrypt itself would: two
// 80-byte passwords sharing their first 72 bytes must not log in as each
// other.
func TestVerifyBcryptNoTruncation(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	shared := strings.Repeat("x", 72)
	hash72 := mustBcrypt(t, shared, bcrypt.MinCost)
	if _, err := bcrypt.GenerateFromPassword([]byte(shared+"A"), bcrypt.MinCost); err == nil {
		t.Fatal("x/crypto/bcrypt now accepts > 72 bytes; revisit bcryptHash.check")
	}
	// 71 ASCII bytes and a two-byte rune: 72 runes' worth is not the limit,
	// bytes are.
	multibyte := strings.Repeat("y", 71) + "é"
	hashMultibyte := mustBcrypt(t, multibyte[:72], bcrypt.MinCost)

	tests := []struct {
		name     string
		password string
		encoded  string
		wantOK   bool
	}{
		{"exactly 72 bytes", shared, hash72, true},
		{"80 bytes A", shared + "AAAAAAAA", hash72, false},
		{"80 bytes B", shared + "BBBBBBBB", hash72, false},
		{"73 bytes", shared + "x", hash72, false},
		{"73 bytes ending in a two-byte rune", multibyte, hashMultibyte, false},
		{"71 bytes", shared[:71], hash72, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(tt.password, tt.encoded)
			if err != nil {
				t.Fatalf("Verify: unexpected error %v", err)
			}
			if ok != tt.wantOK || rehash != tt.wantOK {
				t.Errorf("Verify = ok %v, rehash %v; want %v, %v", ok, rehash, tt.wantOK, tt.wantOK)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	const (
		salt   = "c29tZXNhbHQ" // "somesalt"
		key    = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
		bcBody = "CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW" // 53 characters
	)
	argon := func(variant, version, params, salt, key string) string {
		return "$" + variant + "$" + version + "$" + params + "$" + salt + "$" + key
	}
	good := func(params string) string { return argon("argon2id", "v=19", params, salt, key) }

	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrUnknownHash},
		{"plaintext", "plaintext", ErrUnknownHash},
		{"md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", ErrUnknownHash},
		{"sha512-crypt", "$6$saltsalt$" + strings.Repeat("a", 86), ErrUnknownHash},
		{"dollar only", "$", ErrUnknownHash},
		{"argon2d", argon("argon2d", "v=19", "m=256,t=2,p=1", salt, key), ErrUnknownHash},
		{"argon2 version 16", argon("argon2id", "v=16", "m=256,t=2,p=1", salt, key), ErrUnknownHash},
		{"argon2 without version", "$argon2i$m=256,t=2,p=1$" + salt + "$" + key, ErrUnknownHash},
		{"bcrypt $2x$", "$2x$05$" + bcBody, ErrUnknownHash},
		{"bcrypt $2$", "$2$05$" + bcBody, ErrUnknownHash},
		{"bcrypt $2c$", "$2c$05$" + bcBody, ErrUnknownHash},

		{"argon2id prefix only", "$argon2id$", ErrMalformedHash},
		{"argon2i prefix only", "$argon2i$", ErrMalformedHash},
		{"argon2id missing key", "$argon2id$v=19$m=256,t=2,p=1$" + salt, ErrMalformedHash},
		{"argon2id extra field", good("m=256,t=2,p=1") + "$", ErrMalformedHash},
		{"version garbage", argon("argon2id", "v=x", "m=256,t=2,p=1", salt, key), ErrMalformedHash},
		{"version missing name", argon("argon2id", "19", "m=256,t=2,p=1", salt, key), ErrMalformedHash},
		{"params reordered", good("t=2,m=256,p=1"), ErrMalformedHash},
		{"params missing", good("m=256,t=2"), ErrMalformedHash},
		{"params extra", good("m=256,t=2,p=1,keyid=x"), ErrMalformedHash},
		{"params empty", good(""), ErrMalformedHash},
		{"param empty value", good("m=,t=2,p=1"), ErrMalformedHash},
		{"param sign", good("m=+256,t=2,p=1"), ErrMalformedHash},
		{"param negative", good("m=-1,t=2,p=1"), ErrMalformedHash},
		{"param space", good("m= 256,t=2,p=1"), ErrMalformedHash},
		{"param underscore", good("m=2_56,t=2,p=1"), ErrMalformedHash},
		{"param hex", good("m=0x100,t=2,p=1"), ErrMalformedHash},
		{"huge m", good("m=4294967295,t=2,p=1"), ErrMalformedHash},
		{"m overflows uint32", good("m=99999999999999999999,t=2,p=1"), ErrMalformedHash},
		{"m just over 1 GiB", good("m=1048577,t=1,p=1"), ErrMalformedHash},
		{"m times t too much work", good("m=1048576,t=5,p=1"), ErrMalformedHash},
		{"m below 8 per lane", good("m=15,t=2,p=2"), ErrMalformedHash},
		{"m zero", good("m=0,t=2,p=1"), ErrMalformedHash},
		{"t zero", good("m=256,t=0,p=1"), ErrMalformedHash},
		{"t over 100", good("m=256,t=101,p=1"), ErrMalformedHash},
		{"p zero", good("m=256,t=2,p=0"), ErrMalformedHash},
		{"p over 255", good("m=4096,t=2,p=256"), ErrMalformedHash},
		{"bad base64 salt", argon("argon2id", "v=19", "m=256,t=2,p=1", "!!!!!!!!!!!", key), ErrMalformedHash},
		{"bad base64 key", argon("argon2id", "v=19", "m=256,t=2,p=1", salt, "****"), ErrMalformedHash},
		{"padded salt", argon("argon2id", "v=19", "m=256,t=2,p=1", salt+"=", key), ErrMalformedHash},
		{"url-safe base64", argon("argon2id", "v=19", "m=256,t=2,p=1", salt, strings.ReplaceAll(key, "/", "_")), ErrMalformedHash},
		{"newline in salt", argon("argon2id", "v=19", "m=256,t=2,p=1", salt[:4]+"\n"+salt[4:], key), ErrMalformedHash},
		{"non-canonical base64", argon("argon2id", "v=19", "m=256,t=2,p=1", "c29tZXNhbHR", key), ErrMalformedHash},
		{"impossible base64 length", argon("argon2id", "v=19", "m=256,t=2,p=1", "c29tZXNhb", key), ErrMalformedHash},
		{"salt too short", argon("argon2id", "v=19", "m=256,t=2,p=1", "c29tZQ", key), ErrMalformedHash},
		{"empty salt", argon("argon2id", "v=19", "m=256,t=2,p=1", "", key), ErrMalformedHash},
		{"key too short", argon("argon2id", "v=19", "m=256,t=2,p=1", salt, "AAA"), ErrMalformedHash},
		{"empty key", argon("argon2id", "v=19", "m=256,t=2,p=1", salt, ""), ErrMalformedHash},
		{"key too long", argon("argon2id", "v=19", "m=256,t=2,p=1", salt, strings.Repeat("A", 1368)), ErrMalformedHash},
		{"encoded too long", good("m=256,t=2,p=1") + strings.Repeat("A", maxEncodedLen), ErrMalformedHash},

		{"bcrypt short", "$2a$10$short", ErrMalformedHash},
		{"bcrypt prefix only", "$2b$", ErrMalformedHash},
		{"bcrypt trailing garbage", "$2a$05$" + bcBody + "x", ErrMalformedHash},
		{"bcrypt one short", "$2a$05$" + bcBody[:52], ErrMalformedHash},
		{"bcrypt cost letters", "$2a$1x$" + bcBody, ErrMalformedHash},
		{"bcrypt cost sign", "$2a$+5$" + bcBody, ErrMalformedHash},
		{"bcrypt cost below 4", "$2a$03$" + bcBody, ErrMalformedHash},
		{"bcrypt cost above cap", "$2a$17$" + bcBody, ErrMalformedHash},
		{"bcrypt cost 31", "$2b$31$" + bcBody, ErrMalformedHash},
		{"bcrypt bad character", "$2y$05$" + bcBody[:52] + "!", ErrMalformedHash},
		{"bcrypt standard base64 plus", "$2y$05$" + "+" + bcBody[1:], ErrMalformedHash},
		{"bcrypt missing separator", "$2a$05x" + bcBody, ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify("password", tt.encoded)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if ok || rehash {
				t.Errorf("Verify = ok %v, rehash %v with an error; want false, false", ok, rehash)
			}
			// Errors end up in logs; they must not carry the hash.
			if len(tt.encoded) >= 8 && strings.Contains(err.Error(), tt.encoded) {
				t.Error("error message contains the encoded hash")
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	h := New(testParams)
	if !strings.HasPrefix(h.dummy, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatal("dummy hash is not an argon2id hash with the Hasher's params")
	}
	if _, _, err := h.Verify("", h.dummy); err != nil {
		t.Fatalf("dummy hash does not parse: %v", err)
	}
	for _, password := range []string{"", "password", "\x00", strings.Repeat("x", 1024)} {
		if h.VerifyDummy(password) {
			t.Errorf("VerifyDummy(%d-byte password) = true", len(password))
		}
	}
}

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params Params
		ok     bool
	}{
		{"default", DefaultParams, true},
		{"test", testParams, true},
		{"RFC 9106 second recommendation", Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}, true},
		{"zero", Params{}, false},
		{"no threads", Params{Memory: 64, Time: 1, SaltLen: 16, KeyLen: 32}, false},
		{"no time", Params{Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"memory below 8 per lane", Params{Memory: 31, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}, false},
		{"memory over 1 GiB", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"too much work", Params{Memory: 1 << 20, Time: 5, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"short salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32}, false},
		{"short key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}, false},
		{"long key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 1025}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.params.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestNewPanicsOnInvalidParams(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New(Params{}) did not panic")
		}
	}()
	New(Params{})
}

// FuzzVerify checks that no input makes Verify panic, and that it keeps its
// contract: errors only of the two kinds, never together with ok or rehash.
// The seed corpus runs as part of go test.
func FuzzVerify(f *testing.F) {
	h := New(testParams)
	// Mutated parameters must not make one iteration take seconds or
	// allocate a gigabyte; the real bounds are tested in TestVerifyMalformed.
	h.limits = limits{
		memory: 1024, time: 4, work: 2048, bcryptCost: 5,
		scryptMemory: 1 << 20, scryptWork: 2 << 20, pbkdf2Iterations: 2000,
	}

	seeds := []struct{ password, encoded string }{
		{"password", refArgon2id},
		{"password", refArgon2i},
		{"U*U", refBcrypt2a},
		{"U*U", "$2b$" + refBcrypt2a[4:]},
		{"U*U", "$2y$" + refBcrypt2a[4:]},
		{"password", mustHash(f, h, "password")},
		{"pass\x00word", mustHash(f, h, "pass\x00word")},
		{strings.Repeat("x", 80), mustBcrypt(f, strings.Repeat("x", 72), bcrypt.MinCost)},
		{"", ""},
		{"password", "plaintext"},
		{"password", "$argon2id$"},
		{"password", "$argon2id$v=19$m=64,t=1,p=1$!!!$AAAA"},
		{"password", "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$AAAAAAAA"},
		{"password", "$argon2id$v=19$m=64,t=0,p=0$c29tZXNhbHQ$AAAAAAAA"},
		{"password", "$argon2i$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAA"},
		{"password", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"},
		{"password", "$2a$99$" + strings.Repeat(".", 53)},
		{"\xff\xfe", "$2a$04$" + strings.Repeat("\xff", 53)},
		{"password", refPasslibScrypt},
		{"password", refPHCScrypt},
		{"", refPasslibScryptEmpty},
		{"password", scryptPasslib(f, "password", []byte("somesalt"), 4, 8, 1, 32)},
		{"password", "$scrypt$ln=40,r=8,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
		{"password", "$scrypt$ln=1,r=1,p=4294967295$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
		{"password", "$scrypt$ln=4,r=0,p=0$$"},
		{"password", refPasslibPBKDF2SHA256},
		{"password", refPasslibPBKDF2SHA512},
		{"password", pbkdf2Passlib(f, "sha256", sha256.New, "password", []byte("somesalt"), 1000)},
		{"password", "$pbkdf2-sha256$01212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
		{"password", "$pbkdf2-sha512$4294967295$$"},
		{"lètmein", "pbkdf2_sha256$1000$seasalt$" + strings.Repeat("A", 43) + "="},
		{"lètmein", pbkdf2Django(f, "lètmein", "seasalt", 1000)},
		{"password", "pbkdf2_sha256$$$"},
	}
	for _, s := range seeds {
		f.Add(s.password, s.encoded)
	}
	f.Fuzz(func(t *testing.T, password, encoded string) {
		ok, rehash, err := h.Verify(password, encoded)
		if err != nil {
			if !errors.Is(err, ErrUnknownHash) && !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify error %v wraps neither ErrUnknownHash nor ErrMalformedHash", err)
			}
			if ok || rehash {
				t.Fatalf("Verify = ok %v, rehash %v together with error %v", ok, rehash, err)
			}
		}
		if rehash && !ok {
			t.Fatal("Verify asks for a rehash without a match")
		}
		// ValidateHash is parse: whatever it refuses, Verify refuses, and
		// the other way round (with the same bounds).
		if _, perr := h.parse(encoded); (perr == nil) != (err == nil) {
			t.Fatalf("parse error %v but Verify error %v", perr, err)
		}
		// Only argon2id with h's own parameters is current.
		if ok && !rehash && !strings.HasPrefix(encoded, "$argon2id$") {
			t.Fatal("a match of a foreign scheme does not ask for a rehash")
		}
		if ok && strings.HasPrefix(encoded, "$2") && len(password) > bcryptMaxPassword {
			t.Fatalf("bcrypt matched a %d-byte password", len(password))
		}
	})
}

func BenchmarkHash(b *testing.B) {
	h := New(DefaultParams)
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyArgon2id(b *testing.B) {
	h := New(DefaultParams)
	encoded := mustHash(b, h, "correct horse battery staple")
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkVerifyBcryptCost12(b *testing.B) {
	h := New(DefaultParams)
	encoded := mustBcrypt(b, "correct horse battery staple", 12)
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := New(DefaultParams)
	for b.Loop() {
		h.VerifyDummy("correct horse battery staple")
	}
}

// One password typed composed (Windows) or decomposed (macOS) is one password;
// a foreign argon2 hash of non-normalised bytes still verifies.
func TestVerifyUnicodeNormalization(t *testing.T) {
	h := New(testParams)
	composed := "비밀번호 한글 암호"                // precomposed syllables
	decomposed := norm.NFD.String(composed) // conjoining jamo
	if composed == decomposed {
		t.Fatal("test strings are equal")
	}
	for _, tc := range []struct{ name, hashOf, login string }{
		{"hashed composed, typed decomposed", composed, decomposed},
		{"hashed decomposed, typed composed", decomposed, composed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := h.Hash(tc.hashOf)
			if err != nil {
				t.Fatal(err)
			}
			if ok, _, err := h.Verify(tc.login, enc); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	t.Run("foreign hash of raw decomposed bytes", func(t *testing.T) {
		foreign := argon2idRaw(decomposed, testParams)
		if ok, _, err := h.Verify(decomposed, foreign); !ok || err != nil {
			t.Errorf("Verify = %v, %v", ok, err)
		}
		if ok, _, _ := h.Verify("other", foreign); ok {
			t.Error("wrong password verified")
		}
	})
}

// argon2idRaw hashes the exact bytes of password, as a system that does not
// normalise would.
func argon2idRaw(password string, p Params) string {
	salt := bytes.Repeat([]byte{7}, int(p.SaltLen))
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
