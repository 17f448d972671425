package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// RunKeyStore runs the KeyStore conformance suite against stores made by
// newStore (called once per subtest; each must be empty and isolated). The
// subtests run in parallel, so newStore may be called concurrently.
//
// The store treats key material as opaque bytes, so the suite stores
// arbitrary bytes rather than real keys. Times are whole seconds in UTC,
// which every store keeps exactly.
func RunKeyStore(t *testing.T, newStore func(t *testing.T) gatehouse.KeyStore) {
	tests := []struct {
		name string
		test func(t *testing.T, s gatehouse.KeyStore)
	}{
		{"Empty", testKeysEmpty},
		{"AddFirst", testKeysAddFirst},
		{"RetireOnAdd", testKeysRetireOnAdd},
		{"NewestFirst", testKeysNewestFirst},
		{"ReplacesNotCurrent", testKeysReplacesNotCurrent},
		{"CreatedAtNotCompared", testKeysCreatedAtNotCompared},
		{"DuplicateID", testKeysDuplicateID},
		{"ConcurrentAdd", testKeysConcurrentAdd(nil)},
		{"ConcurrentAddReplacingCurrent", testKeysConcurrentAdd(newKey("old", "RS256", keyEpoch))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStore(t))
		})
	}
}

// keyEpoch is the CreatedAt of the first key of each test.
var keyEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testKeysEmpty(t *testing.T, s gatehouse.KeyStore) {
	keys, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("empty store lists %d keys", len(keys))
	}
}

func testKeysAddFirst(t *testing.T, s gatehouse.KeyStore) {
	k := newKey("first", "ES256", keyEpoch)
	mustAddKey(t, s, k, "", keyEpoch.Add(time.Hour))
	checkKeys(t, s, []*gatehouse.SigningKey{k})
}

// testKeysRetireOnAdd adds keys one after another, as rotations do: each
// becomes current and the one it replaces gets the retirement time given
// with it, while keys retired earlier keep theirs.
func testKeysRetireOnAdd(t *testing.T, s gatehouse.KeyStore) {
	a := newKey("a", "ES256", keyEpoch)
	b := newKey("b", "ES256", keyEpoch.Add(time.Hour))
	c := newKey("c", "RS256", keyEpoch.Add(2*time.Hour))
	steps := []struct {
		name      string
		add       *gatehouse.SigningKey
		replaces  string
		retireOld time.Time
		want      []*gatehouse.SigningKey
	}{
		{"First", a, "", keyEpoch.Add(time.Minute), []*gatehouse.SigningKey{a}},
		{"Second", b, "a", b.CreatedAt.Add(40 * time.Minute), []*gatehouse.SigningKey{b, retired(a, b.CreatedAt.Add(40*time.Minute))}},
		{
			name: "ThirdOtherAlgorithm", add: c, replaces: "b", retireOld: c.CreatedAt.Add(40 * time.Minute),
			want: []*gatehouse.SigningKey{c, retired(b, c.CreatedAt.Add(40*time.Minute)), retired(a, b.CreatedAt.Add(40*time.Minute))},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mustAddKey(t, s, st.add, st.replaces, st.retireOld)
			checkKeys(t, s, st.want)
		})
	}
}

// testKeysNewestFirst lists keys by CreatedAt, not by kid or insertion
// accident: newest first is descending kid order here, which a store
// sorting by kid would get backwards.
func testKeysNewestFirst(t *testing.T, s gatehouse.KeyStore) {
	var want []*gatehouse.SigningKey
	replaces := ""
	for i := range 5 {
		k := newKey(fmt.Sprint("k", i), "EdDSA", keyEpoch.Add(time.Duration(i)*time.Hour))
		mustAddKey(t, s, k, replaces, k.CreatedAt.Add(time.Minute))
		replaces = k.ID
		for _, w := range want {
			if w.Current() {
				w.RetiresAt = k.CreatedAt.Add(time.Minute)
			}
		}
		want = append([]*gatehouse.SigningKey{copyKey(k)}, want...)
	}
	checkKeys(t, s, want)
}

// testKeysReplacesNotCurrent adds keys whose caller's view of the current
// key is out of date: each must be refused with CodeConflict, changing
// nothing, since adding it would retire a key its caller never saw.
func testKeysReplacesNotCurrent(t *testing.T, s gatehouse.KeyStore) {
	t.Run("NoKeyYet", func(t *testing.T) {
		err := s.AddSigningKey(t.Context(), newKey("early", "ES256", keyEpoch), "imagined", keyEpoch.Add(time.Hour))
		checkCode(t, err, gatehouse.CodeConflict)
		checkKeys(t, s, nil)
	})
	old := newKey("old", "ES256", keyEpoch)
	cur := newKey("current", "ES256", keyEpoch.Add(time.Hour))
	mustAddKey(t, s, old, "", keyEpoch.Add(time.Minute))
	mustAddKey(t, s, cur, old.ID, cur.CreatedAt.Add(time.Minute))
	want := []*gatehouse.SigningKey{cur, retired(old, cur.CreatedAt.Add(time.Minute))}
	tests := []struct {
		name     string
		replaces string
	}{
		{"Stale", old.ID},           // the caller read the store before the last rotation
		{"SawNone", ""},             // two instances found no key; the other one added first
		{"Unknown", "never-stored"}, // nothing the store ever held
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AddSigningKey(t.Context(), newKey("late-"+tt.name, "ES256", keyEpoch.Add(2*time.Hour)), tt.replaces, keyEpoch.Add(3*time.Hour))
			checkCode(t, err, gatehouse.CodeConflict)
			checkKeys(t, s, want)
		})
	}
}

// testKeysCreatedAtNotCompared adds a key created before the current one,
// naming it: instances' clocks differ, so the store must let replaces
// alone decide, and the older key becomes current.
func testKeysCreatedAtNotCompared(t *testing.T, s gatehouse.KeyStore) {
	cur := newKey("ahead", "ES256", keyEpoch.Add(time.Minute))
	behind := newKey("behind", "ES256", keyEpoch)
	mustAddKey(t, s, cur, "", keyEpoch)
	mustAddKey(t, s, behind, cur.ID, keyEpoch.Add(time.Hour))
	checkKeys(t, s, []*gatehouse.SigningKey{retired(cur, keyEpoch.Add(time.Hour)), behind})
}

// testKeysDuplicateID re-adds a kid. The store must refuse it and roll back
// the retirement of the current key that came before the insert.
func testKeysDuplicateID(t *testing.T, s gatehouse.KeyStore) {
	k := newKey("dup", "ES256", keyEpoch)
	mustAddKey(t, s, k, "", keyEpoch.Add(time.Hour))
	if err := s.AddSigningKey(t.Context(), newKey("dup", "ES256", keyEpoch.Add(time.Hour)), k.ID, keyEpoch.Add(2*time.Hour)); err == nil {
		t.Error("AddSigningKey accepted a kid already stored")
	}
	checkKeys(t, s, []*gatehouse.SigningKey{k})
}

// testKeysConcurrentAdd adds keys from many goroutines at once, all naming
// the same current key (setup's, or none when setup is nil), as instances
// that read the store at the same moment would. Exactly one may win; every
// loser must get CodeConflict (never a lock timeout) and leave nothing
// behind, neither its row nor its retirement time on setup.
//
// Each racer's key has a CreatedAt and gives setup a retirement time of its
// own, so that what the store holds names the winner and shows any write a
// loser left behind. (ReplacesNotCurrent is what pins, whatever the
// interleaving, that a newer key does not win over a stale replaces.)
func testKeysConcurrentAdd(setup *gatehouse.SigningKey) func(t *testing.T, s gatehouse.KeyStore) {
	return func(t *testing.T, s gatehouse.KeyStore) {
		const n = 10
		ctx := t.Context()
		replaces := ""
		if setup != nil {
			mustAddKey(t, s, setup, "", setup.CreatedAt.Add(time.Minute))
			replaces = setup.ID
		}
		keys := make([]*gatehouse.SigningKey, n)
		retireOld := make([]time.Time, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			created := keyEpoch.Add(time.Hour + time.Duration(i)*time.Second)
			keys[i] = newKey(fmt.Sprint("racer", i), "ES256", created)
			retireOld[i] = created.Add(30 * time.Minute)
			wg.Go(func() {
				<-start
				errs[i] = s.AddSigningKey(ctx, keys[i], replaces, retireOld[i])
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("racers %s and %s both won", keys[winner].ID, keys[i].ID)
				}
				winner = i
			case !gatehouse.IsCode(err, gatehouse.CodeConflict):
				t.Errorf("racer %d: AddSigningKey error %v, want nil or code %s", i, err, gatehouse.CodeConflict)
			}
		}
		if winner < 0 {
			t.Fatal("no racer won")
		}
		want := []*gatehouse.SigningKey{keys[winner]}
		if setup != nil {
			want = append(want, retired(setup, retireOld[winner]))
		}
		checkKeys(t, s, want)
	}
}

// newKey returns a current key whose material is distinct, recognisable
// bytes (including a zero byte and a non-UTF-8 one, which a store must keep).
func newKey(id, alg string, created time.Time) *gatehouse.SigningKey {
	return &gatehouse.SigningKey{
		ID:         id,
		Algorithm:  alg,
		PrivateKey: append([]byte("sealed\x00\xff"), id...),
		PublicKey:  append([]byte("public\x00\xfe"), id...),
		CreatedAt:  created,
	}
}

// retired returns a copy of k as it reads once retired at `at`.
func retired(k *gatehouse.SigningKey, at time.Time) *gatehouse.SigningKey {
	c := copyKey(k)
	c.RetiresAt = at
	return c
}

func copyKey(k *gatehouse.SigningKey) *gatehouse.SigningKey {
	c := *k
	return &c
}

// mustAddKey adds k in place of the current key replaces, retiring that
// at retireOld.
func mustAddKey(tb testing.TB, s gatehouse.KeyStore, k *gatehouse.SigningKey, replaces string, retireOld time.Time) {
	tb.Helper()
	if err := s.AddSigningKey(tb.Context(), k, replaces, retireOld); err != nil {
		tb.Fatalf("AddSigningKey(%s): %v", k.ID, err)
	}
}

// checkKeys reports unless the store lists exactly want, in order, comparing
// times as instants.
func checkKeys(tb testing.TB, s gatehouse.KeyStore, want []*gatehouse.SigningKey) {
	tb.Helper()
	got, err := s.SigningKeys(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	if len(got) != len(want) {
		var ids []string
		for _, k := range got {
			ids = append(ids, k.ID)
		}
		tb.Fatalf("store lists %d keys %q, want %d", len(got), ids, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Algorithm != w.Algorithm ||
			!bytes.Equal(g.PrivateKey, w.PrivateKey) || !bytes.Equal(g.PublicKey, w.PublicKey) ||
			!g.CreatedAt.Equal(w.CreatedAt) || !g.RetiresAt.Equal(w.RetiresAt) {
			tb.Errorf("key %d = %+v\nwant    %+v", i, *g, *w)
		}
	}
}
