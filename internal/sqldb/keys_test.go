package sqldb_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

func TestKeyStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunKeyStore(t, func(t *testing.T) gatehouse.KeyStore {
			return newDB(t, b).Keys()
		})
	})
}

func TestKeyStoreInMemory(t *testing.T) {
	storetest.RunKeyStore(t, func(t *testing.T) gatehouse.KeyStore {
		db := openDB(t, "file::memory:")
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db.Keys()
	})
}

// TestKeyStoreTwoHandles races AddSigningKey through two handles on one
// database, as two instances would: the suite's race runs on one pool, this
// one across pools whose connections contend for the database's locks. All
// racers name the same current key (none, or "old"); exactly one may win and
// be current.
func TestKeyStoreTwoHandles(t *testing.T) {
	forEachBackend(t, testKeyStoreTwoHandles)
}

func testKeyStoreTwoHandles(t *testing.T, b backend) {
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		replaces string
	}{
		{"FirstKey", ""},
		{"Rotation", "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := b.url(t)
			first := openDB(t, url)
			if _, err := first.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			stores := []gatehouse.KeyStore{first.Keys(), openDB(t, url).Keys()}
			if tt.replaces != "" {
				old := &gatehouse.SigningKey{ID: tt.replaces, Algorithm: "ES256", PrivateKey: []byte("sealed"), PublicKey: []byte("public"), CreatedAt: created}
				if err := stores[0].AddSigningKey(t.Context(), old, "", created); err != nil {
					t.Fatal(err)
				}
			}
			const racers = 8
			errs := make([]error, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				// Distinct creation times, which must not decide: replaces does.
				k := &gatehouse.SigningKey{
					ID: fmt.Sprint("racer", i), Algorithm: "ES256",
					PrivateKey: []byte("sealed"), PublicKey: []byte("public"),
					CreatedAt: created.Add(time.Duration(i+1) * time.Second),
				}
				wg.Go(func() {
					<-start
					errs[i] = stores[i%len(stores)].AddSigningKey(t.Context(), k, tt.replaces, created.Add(time.Hour))
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !gatehouse.IsCode(err, gatehouse.CodeConflict):
					t.Errorf("racer %d: %v, want nil or code %s", i, err, gatehouse.CodeConflict)
				}
			}
			if won != 1 {
				t.Errorf("%d racers won, want 1", won)
			}
			keys, err := stores[1].SigningKeys(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			current, want := 0, 1
			for _, k := range keys {
				if k.Current() {
					current++
				}
			}
			if tt.replaces != "" {
				want = 2
			}
			if len(keys) != want || current != 1 {
				t.Errorf("store holds %d keys, %d current; want %d keys, 1 current", len(keys), current, want)
			}
		})
	}
}

// TestSigningKeyRows checks what AddSigningKey stores: times as users.go
// stores them, and the current flag only on the current row, cleared with
// the retirement. The schema's CHECK keeps retires_at and current in step.
func TestSigningKeyRows(t *testing.T) {
	forEachBackend(t, testSigningKeyRows)
}

func testSigningKeyRows(t *testing.T, b backend) {
	db := newDB(t, b)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("KST", 9*3600))
	replaces := ""
	for i, id := range []string{"a", "b"} {
		k := &gatehouse.SigningKey{
			ID: id, Algorithm: "EdDSA", PrivateKey: []byte{0, 1}, PublicKey: []byte{2, 3},
			CreatedAt: at.Add(time.Duration(i) * time.Hour),
		}
		if err := db.Keys().AddSigningKey(ctx, k, replaces, at.Add(90*time.Minute)); err != nil {
			t.Fatal(err)
		}
		replaces = id
	}
	tests := []struct {
		kid, created, retires string
		current               any
	}{
		{"a", "2026-03-01 00:00:00.123456", "2026-03-01 01:30:00.123456", nil},
		{"b", "2026-03-01 01:00:00.123456", "", int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.kid, func(t *testing.T) {
			var created string
			var retires, current any
			err := db.SQL().QueryRowContext(ctx, db.Bind(`SELECT `+b.timeText("created_at")+`, `+b.timeText("retires_at")+`, current FROM signing_keys WHERE kid = ?`), tt.kid).
				Scan(&created, &retires, &current)
			if err != nil {
				t.Fatal(err)
			}
			if retires == nil {
				retires = ""
			}
			if created != tt.created || fmt.Sprint(retires) != tt.retires || current != tt.current {
				t.Errorf("row = (%q, %v, %v), want (%q, %q, %v)", created, retires, current, tt.created, tt.retires, tt.current)
			}
		})
	}
	t.Run("CheckRefusesCurrentWithRetiresAt", func(t *testing.T) {
		_, err := db.SQL().ExecContext(ctx, `UPDATE signing_keys SET retires_at = '2026-03-02 00:00:00.000000' WHERE kid = 'b'`)
		if err == nil {
			t.Error("a current row accepted a retires_at")
		}
	})
}
