package tokens

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultAlgorithm signs tokens when neither GATEHOUSE_JWT_ALG nor a secret
// chooses: ES256 keys and signatures are small (64-byte signatures against
// RS256's 256) and every JOSE library verifies it.
const DefaultAlgorithm = "ES256"

// The signing algorithms gatehouse supports, as named in a token's alg.
const (
	HS256 = "HS256"
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// ValidAlgorithm reports whether alg is one gatehouse can sign with:
// HS256, RS256, ES256 or EdDSA (exact spelling, as in a JWS header).
func ValidAlgorithm(alg string) bool {
	return alg == HS256 || asymmetric[alg].method != nil
}

// rsaBits is the size of generated RSA keys, the minimum RFC 7518 §3.3 and
// NIST allow; larger keys only make signing slower.
const rsaBits = 2048

// asymmetricAlg is what differs between the asymmetric algorithms.
type asymmetricAlg struct {
	method   jwt.SigningMethod
	generate func() (crypto.Signer, error)
}

var asymmetric = map[string]asymmetricAlg{
	RS256: {jwt.SigningMethodRS256, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, rsaBits) }},
	ES256: {jwt.SigningMethodES256, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
	EdDSA: {jwt.SigningMethodEdDSA, func() (crypto.Signer, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}},
}

// The states of a key, as KeyState reports them.
const (
	KeyCurrent  = "current"  // signs new tokens, and verifies
	KeyRetiring = "retiring" // rotated out: verifies the tokens it signed until RetiresAt, and is published
	KeyRetired  = "retired"  // verifies nothing and is not published
)

// KeyState describes one key for `gatehouse keys list`.
type KeyState struct {
	ID        string
	Algorithm string
	State     string // KeyCurrent, KeyRetiring or KeyRetired
	CreatedAt time.Time
	RetiresAt time.Time // zero for the current key
}

// stateAt returns the state at now of a key that retires at retiresAt
// (zero for the current key).
func stateAt(retiresAt, now time.Time) string {
	switch {
	case retiresAt.IsZero():
		return KeyCurrent
	case now.Before(retiresAt):
		return KeyRetiring
	default:
		return KeyRetired
	}
}

// ListKeys lists the keys of store, newest first, retired ones included,
// with their states at now. It only reads: unlike LoadKeyRing it adds no
// key to an empty store (it returns none), and, needing no seal key, it
// neither opens nor checks the keys, so it lists even those LoadKeyRing
// would refuse.
func ListKeys(ctx context.Context, store gatehouse.KeyStore, now time.Time) ([]KeyState, error) {
	if store == nil {
		return nil, errors.New("tokens: no key store")
	}
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("tokens: list signing keys: %w", err)
	}
	out := make([]KeyState, len(keys))
	for i, k := range keys {
		out[i] = KeyState{
			ID: k.ID, Algorithm: k.Algorithm, State: stateAt(k.RetiresAt, now),
			CreatedAt: k.CreatedAt, RetiresAt: k.RetiresAt,
		}
	}
	return out, nil
}

// A token whose kid the ring does not hold makes an asymmetric ring read
// its store again, since another instance may have rotated since the last
// Reload; otherwise its tokens would be refused here until then.
const (
	// kidReloadInterval bounds such reloads to one per interval per ring,
	// so that tokens with made-up kids cannot turn into a flood of queries.
	kidReloadInterval = time.Second
	// kidReloadTimeout bounds the reload: Verify has no context, and the
	// requests waiting on it should fail rather than hang on the database.
	kidReloadTimeout = 2 * time.Second
)

// kidReload is one reload on behalf of unknown kids, which the misses that
// arrive while it runs wait for instead of starting their own.
type kidReload struct {
	done chan struct{} // closed when the reload has finished
	err  error         // its result, written before done is closed
}

// KeyRing holds the key that signs access tokens and the keys tokens verify
// against. It is safe for concurrent use: the keys live in an immutable
// snapshot behind an atomic pointer, which Reload and Rotate replace whole,
// so Issue and Verify take no lock. Make one with NewHMACKeyRing or
// LoadKeyRing; the zero KeyRing holds no key.
type KeyRing struct {
	alg         string
	hmac        bool
	store       gatehouse.KeyStore // nil for an HMAC ring
	sealer      *sealer
	retireAfter time.Duration
	now         func() time.Time

	mu    sync.Mutex // serialises Reload and Rotate
	state atomic.Pointer[ringState]

	// kidMu guards the reloads made for unknown kids (see
	// reloadForUnknownKid): the one running, and when the last one began.
	kidMu         sync.Mutex
	kidReloading  *kidReload
	kidReloadedAt time.Time
}

// ringState is one immutable snapshot of the ring's keys.
type ringState struct {
	signer *ringKey
	// byKID holds the keys that may verify: the current key and those
	// retiring when the snapshot was taken. Whether a retiring key has
	// retired since is checked against the clock on every use.
	byKID map[string]*ringKey
	// published lists byKID's keys newest first, the JWKS order.
	published []*ringKey
	// all lists every key of the store, retired ones too, for States.
	all []KeyState
	// jwks caches the JWKS document until a published key retires.
	jwks atomic.Pointer[jwksDoc]
}

// ringKey is one key of a ring.
type ringKey struct {
	id        string
	alg       string
	method    jwt.SigningMethod
	verifyKey any // the public key, or the HMAC secret
	signKey   any // the private key or HMAC secret; set on the signer only
	// header is the encoded protected header and a dot, the constant start of
	// every token the key signs.
	header    string
	createdAt time.Time
	retiresAt time.Time // zero for the current key
	jwk       *jwk      // the published form; nil for HMAC, which is never published
}

// retired reports whether k verifies nothing any more at now.
func (k *ringKey) retired(now time.Time) bool {
	return !k.retiresAt.IsZero() && !now.Before(k.retiresAt)
}

// NewHMACKeyRing returns a ring that signs and verifies HS256 with secret,
// as the tutorial does, so that a resource server sharing SECRET_KEY can
// verify gatehouse's tokens.
//
// The kid is the first 72 bits of HMAC-SHA256(secret, "gatehouse kid"): it
// is stable across restarts and instances, changes with the secret, and
// reveals nothing of the secret (finding it from the kid means inverting
// HMAC, and anyone holding a token can already test guesses of the secret
// against its signature). The ring's JWKS is empty: an HMAC key is a secret.
func NewHMACKeyRing(secret []byte) (*KeyRing, error) {
	if len(secret) == 0 {
		return nil, errors.New("tokens: empty HMAC secret")
	}
	secret = bytes.Clone(secret)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("gatehouse kid"))
	k := &ringKey{
		id:        base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:9]),
		alg:       HS256,
		method:    jwt.SigningMethodHS256,
		verifyKey: secret,
		signKey:   secret,
	}
	k.header = encodeHeader(k.alg, k.id)
	st := &ringState{
		signer: k,
		byKID:  map[string]*ringKey{k.id: k},
		all:    []KeyState{{ID: k.id, Algorithm: HS256, State: KeyCurrent}},
	}
	st.jwks.Store(&jwksDoc{body: []byte(`{"keys":[]}`)})
	r := &KeyRing{alg: HS256, hmac: true, now: time.Now}
	r.state.Store(st)
	return r, nil
}

// LoadKeyRing loads the asymmetric keys of store, making sure the current
// key is one of alg (RS256, ES256 or EdDSA). On first start, or when the
// current key's algorithm is not alg (the operator changed
// GATEHOUSE_JWT_ALG), it generates a key and adds it in place of the
// current key it read (see gatehouse.KeyStore.AddSigningKey), which retires
// at now+retireAfter. If another instance added a key since that read
// (CodeConflict), it uses theirs instead.
//
// sealKey (SealKeyBytes long) encrypts private keys at rest with
// AES-256-GCM, each bound to its kid and algorithm. A key that does not open
// under it, or whose stored public key or kid does not match its private
// key, is an error: LoadKeyRing never replaces keys it cannot read, since
// that is what a wrong seal key looks like.
//
// retireAfter must cover the access token lifetime plus leeway (New checks
// that), and should also cover the interval at which other instances call
// Reload, since until then they keep signing with the key rotated out.
// now is the clock; nil means time.Now.
func LoadKeyRing(ctx context.Context, store gatehouse.KeyStore, alg string, sealKey []byte, retireAfter time.Duration, now func() time.Time) (*KeyRing, error) {
	if alg == HS256 {
		return nil, errors.New("tokens: HS256 keys come from GATEHOUSE_SECRET_KEY, not the database (use NewHMACKeyRing)")
	}
	if asymmetric[alg].method == nil {
		return nil, fmt.Errorf("tokens: unsupported signing algorithm %q (want RS256, ES256 or EdDSA)", alg)
	}
	if store == nil {
		return nil, errors.New("tokens: no key store")
	}
	if retireAfter <= 0 {
		return nil, fmt.Errorf("tokens: key retirement delay %v must be positive", retireAfter)
	}
	s, err := newSealer(sealKey)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	r := &KeyRing{alg: alg, store: store, sealer: s, retireAfter: retireAfter, now: now}

	r.mu.Lock()
	defer r.mu.Unlock()
	// The stored keys are loaded, and so checked, before any is added: if
	// they cannot be read, adding a key over them would hide the problem
	// and make every instance that can read them sign with a stale key.
	st, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	if st.signer != nil && st.signer.alg == alg {
		r.state.Store(st)
		return r, nil
	}
	_, err = r.add(ctx, st.signer)
	if err != nil && !gatehouse.IsCode(err, gatehouse.CodeConflict) {
		return nil, err
	}
	if st, err = r.read(ctx); err != nil {
		return nil, err
	}
	switch {
	case st.signer == nil:
		return nil, errors.New("tokens: no current signing key after adding one")
	case st.signer.alg != alg:
		// Another instance made a key of another algorithm current as this
		// one started: instances disagree about GATEHOUSE_JWT_ALG, and
		// adding ours again would only start a tug of war.
		return nil, fmt.Errorf("tokens: another instance made a %s key current while this one is configured for %s: set GATEHOUSE_JWT_ALG alike everywhere", st.signer.alg, alg)
	}
	r.state.Store(st)
	return r, nil
}

// Reload reads the store again, so that a rotation done by another process
// takes effect here, and swaps the new keys in at once. On error the ring
// keeps the keys it had. It does nothing for an HMAC ring.
func (r *KeyRing) Reload(ctx context.Context) error {
	if r.hmac {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked(ctx)
}

func (r *KeyRing) reloadLocked(ctx context.Context) error {
	st, err := r.read(ctx)
	if err != nil {
		return err
	}
	if st.signer == nil {
		return errors.New("tokens: reload: the store has no current signing key")
	}
	r.state.Store(st)
	return nil
}

// Rotate generates a key of the ring's algorithm and makes it current in
// place of the ring's current key, which retires, verifying the tokens it
// signed until then. It returns the new key without its private half. For
// an HMAC ring it is an error: HS256 keys come from GATEHOUSE_SECRET_KEY.
//
// If another process rotated since the ring last read the store, Rotate
// adds nothing: one rotation asked for must not become two, retiring a key
// this caller never saw. It reloads, so that the ring holds the other
// process's key, and returns an error with code CodeConflict.
func (r *KeyRing) Rotate(ctx context.Context) (*gatehouse.SigningKey, error) {
	if r.hmac {
		return nil, errors.New("tokens: HS256 keys cannot be rotated here: they come from GATEHOUSE_SECRET_KEY; change it to rotate (every token signed with the old one becomes invalid)")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := r.add(ctx, r.state.Load().signer)
	if gatehouse.IsCode(err, gatehouse.CodeConflict) {
		if rerr := r.reloadLocked(ctx); rerr != nil {
			return nil, fmt.Errorf("tokens: someone else rotated the signing key first, so this rotation was not made (and reloading failed: %v): %w", rerr, err)
		}
		return nil, fmt.Errorf("tokens: someone else rotated the signing key first (%s is current now), so this rotation was not made: %w",
			r.state.Load().signer.id, err)
	}
	if err != nil {
		return nil, err
	}
	if err := r.reloadLocked(ctx); err != nil {
		return nil, fmt.Errorf("tokens: key %s added, but reloading failed: %w", k.ID, err)
	}
	k.PrivateKey = nil
	return k, nil
}

// Algorithm returns the algorithm the ring generates keys for: its
// configured one. The current key has it too, unless another instance
// configured otherwise has rotated since the last Reload.
func (r *KeyRing) Algorithm() string { return r.alg }

// JWKS returns the RFC 7517 JWK Set of the public keys that verify tokens:
// the current key and the retiring ones, each with kty, kid, use "sig" and
// alg. Only public members are ever included, and an HMAC ring publishes
// no key at all ({"keys":[]}), since its key is the secret itself.
//
// The document is built when the keys are loaded, and again only when a
// published key retires, never per request; the caller gets its own copy.
func (r *KeyRing) JWKS() []byte {
	st := r.state.Load()
	doc := st.jwks.Load()
	if now := r.now(); doc == nil || (!doc.staleAt.IsZero() && !now.Before(doc.staleAt)) {
		doc = st.buildJWKS(now)
		st.jwks.Store(doc)
	}
	return bytes.Clone(doc.body)
}

// States lists every key the ring loaded, newest first, retired ones
// included, with its state at now.
func (r *KeyRing) States(now time.Time) []KeyState {
	st := r.state.Load()
	out := slices.Clone(st.all)
	for i := range out {
		out[i].State = stateAt(out[i].RetiresAt, now)
	}
	return out
}

// reloadForUnknownKid reloads the ring on behalf of a token whose kid it
// does not hold, at most once per kidReloadInterval: a miss while a reload
// runs waits for that one, and a miss soon after one returns
// errKidReloadThrottled at once, since the store was read just now. It is
// for asymmetric rings only; an HMAC ring's one key cannot change.
func (r *KeyRing) reloadForUnknownKid() error {
	r.kidMu.Lock()
	if c := r.kidReloading; c != nil {
		r.kidMu.Unlock()
		<-c.done
		return c.err
	}
	now := r.now()
	// A clock that went backwards (d < 0) does not hold reloads off.
	if d := now.Sub(r.kidReloadedAt); !r.kidReloadedAt.IsZero() && d >= 0 && d < kidReloadInterval {
		r.kidMu.Unlock()
		return errKidReloadThrottled
	}
	c := &kidReload{done: make(chan struct{})}
	r.kidReloading, r.kidReloadedAt = c, now
	r.kidMu.Unlock()

	// Detached from any request: the reload serves every waiter, and one
	// client going away must not cancel it for the others.
	ctx, cancel := context.WithTimeout(context.Background(), kidReloadTimeout)
	c.err = r.Reload(ctx)
	cancel()

	r.kidMu.Lock()
	r.kidReloading = nil
	r.kidMu.Unlock()
	close(c.done)
	return c.err
}

// errKidReloadThrottled reports an unknown kid that caused no reload,
// because one began less than kidReloadInterval before.
var errKidReloadThrottled = errors.New("keys reloaded less than a second ago")

// add generates a key of the ring's algorithm and adds it to the store as
// the current key in place of current, the current key as the caller last
// read it (nil when there was none). The caller holds r.mu.
func (r *KeyRing) add(ctx context.Context, current *ringKey) (*gatehouse.SigningKey, error) {
	// Microseconds: what SQL stores keep, so CreatedAt reads back as written.
	now := r.now().UTC().Truncate(time.Microsecond)
	k, err := r.generate(now)
	if err != nil {
		return nil, err
	}
	replaces := ""
	if current != nil {
		replaces = current.id
	}
	if err := r.store.AddSigningKey(ctx, k, replaces, now.Add(r.retireAfter)); err != nil {
		return nil, fmt.Errorf("tokens: add signing key: %w", err)
	}
	return k, nil
}

// generate returns a new key of the ring's algorithm, sealed. Its kid is the
// RFC 7638 thumbprint of its public key: unique without coordination,
// recomputable by anyone from the JWKS, and checked again on every load.
func (r *KeyRing) generate(now time.Time) (*gatehouse.SigningKey, error) {
	signer, err := asymmetric[r.alg].generate()
	if err != nil {
		return nil, fmt.Errorf("tokens: generate %s key: %w", r.alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("tokens: encode %s key: %w", r.alg, err)
	}
	defer clear(der)
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("tokens: encode %s public key: %w", r.alg, err)
	}
	j, err := newJWK(r.alg, signer.Public())
	if err != nil {
		return nil, err
	}
	kid := j.thumbprint()
	return &gatehouse.SigningKey{
		ID:         kid,
		Algorithm:  r.alg,
		PrivateKey: r.sealer.seal(kid, r.alg, der),
		PublicKey:  pub,
		CreatedAt:  now,
	}, nil
}

// read loads the store's keys into a new snapshot. Keys retired by now are
// listed but never unsealed: they verify nothing, and a dead row (perhaps
// sealed under an earlier seal key) must not stop the server from starting.
func (r *KeyRing) read(ctx context.Context) (*ringState, error) {
	keys, err := r.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("tokens: load signing keys: %w", err)
	}
	now := r.now()
	st := &ringState{byKID: make(map[string]*ringKey, 2)}
	for _, k := range keys {
		st.all = append(st.all, KeyState{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, RetiresAt: k.RetiresAt})
		if !k.Current() && !now.Before(k.RetiresAt) {
			continue
		}
		rk, err := r.open(k)
		if err != nil {
			return nil, fmt.Errorf("tokens: signing key %s: %w", k.ID, err)
		}
		if st.byKID[rk.id] != nil {
			return nil, fmt.Errorf("tokens: signing key %s is stored twice", k.ID)
		}
		st.byKID[rk.id] = rk
		st.published = append(st.published, rk)
		if k.Current() {
			if st.signer != nil {
				return nil, fmt.Errorf("tokens: keys %s and %s are both current", st.signer.id, k.ID)
			}
			st.signer = rk
		} else {
			rk.signKey = nil // a retiring key never signs
		}
	}
	slices.SortStableFunc(st.published, func(a, b *ringKey) int { return b.createdAt.Compare(a.createdAt) })
	st.jwks.Store(st.buildJWKS(now))
	return st, nil
}

// open unseals a stored key and checks it against the rest of its row. The
// public key used to verify is derived from the sealed private key, never
// read from the public_key column: a forged column must not let a key the
// attacker holds verify tokens.
func (r *KeyRing) open(k *gatehouse.SigningKey) (*ringKey, error) {
	alg, ok := asymmetric[k.Algorithm]
	if !ok {
		return nil, fmt.Errorf("unsupported algorithm %q", k.Algorithm)
	}
	der, err := r.sealer.open(k.ID, k.Algorithm, k.PrivateKey)
	if err != nil {
		return nil, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, errors.New("the sealed private key is not PKCS #8")
	}
	signer, err := checkKeyType(k.Algorithm, priv)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pub, k.PublicKey) {
		return nil, errors.New("the stored public key is not the public half of the sealed private key")
	}
	j, err := newJWK(k.Algorithm, signer.Public())
	if err != nil {
		return nil, err
	}
	if j.thumbprint() != k.ID {
		return nil, errors.New("the kid is not the thumbprint of the key")
	}
	j.Kid = k.ID
	return &ringKey{
		id:        k.ID,
		alg:       k.Algorithm,
		method:    alg.method,
		verifyKey: signer.Public(),
		signKey:   signer,
		header:    encodeHeader(k.Algorithm, k.ID),
		createdAt: k.CreatedAt,
		retiresAt: k.RetiresAt,
		jwk:       j,
	}, nil
}

// checkKeyType returns priv if it is a key of alg, of the size gatehouse
// generates: a row whose algorithm was changed must not make, say, an RSA
// key sign ES256 tokens.
func checkKeyType(alg string, priv any) (crypto.Signer, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg == RS256 && k.N.BitLen() >= rsaBits {
			return k, nil
		}
	case *ecdsa.PrivateKey:
		if alg == ES256 && k.Curve == elliptic.P256() {
			return k, nil
		}
	case ed25519.PrivateKey:
		if alg == EdDSA {
			return k, nil
		}
	}
	return nil, fmt.Errorf("the sealed private key (%T) is not a %s key", priv, alg)
}

// encodeHeader returns the encoded protected header of tokens signed by
// kid, and the dot after it. typ is "at+jwt" (RFC 9068 §2.1): explicit
// typing, so that an access token cannot pass for another kind of JWT signed
// by the same key, nor one of those for an access token (RFC 8725 §3.11).
func encodeHeader(alg, kid string) string {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, accessTokenType}) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(h) + "."
}

// jwk is the published form of a public key (RFC 7517, RFC 7518 §6, RFC 8037).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

func newJWK(alg string, pub crypto.PublicKey) (*jwk, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	j := &jwk{Use: "sig", Alg: alg}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		// The uncompressed point 04 || X || Y, whose coordinates are each
		// the full 32 bytes that RFC 7518 §6.2.1.2 requires.
		e, err := p.ECDH()
		if err != nil {
			return nil, fmt.Errorf("tokens: EC public key: %w", err)
		}
		pt := e.Bytes()
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(pt[1:33]), b64(pt[33:])
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(p)
	default:
		return nil, fmt.Errorf("tokens: unsupported public key %T", pub)
	}
	return j, nil
}

// thumbprint is the RFC 7638 JWK thumbprint: SHA-256 over the key's
// required members, in lexicographic order, with no whitespace. The values
// are base64url, which needs no JSON escaping.
func (j *jwk) thumbprint() string {
	var s string
	switch j.Kty {
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	default:
		s = `{"crv":"` + j.Crv + `","kty":"` + j.Kty + `","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwksDoc is an encoded JWK Set and the time it goes stale, when the first
// of its retiring keys retires (zero: never, until the next load).
type jwksDoc struct {
	body    []byte
	staleAt time.Time
}

func (st *ringState) buildJWKS(now time.Time) *jwksDoc {
	doc := &jwksDoc{}
	set := struct {
		Keys []*jwk `json:"keys"`
	}{Keys: []*jwk{}}
	for _, k := range st.published {
		if k.jwk == nil || k.retired(now) {
			continue
		}
		set.Keys = append(set.Keys, k.jwk)
		if !k.retiresAt.IsZero() && (doc.staleAt.IsZero() || k.retiresAt.Before(doc.staleAt)) {
			doc.staleAt = k.retiresAt
		}
	}
	doc.body, _ = json.Marshal(set) // strings only: cannot fail
	return doc
}
