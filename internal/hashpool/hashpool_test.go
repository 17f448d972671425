package hashpool

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// The test binary doubles as the worker, as the gatehouse binary does.
func TestMain(m *testing.M) {
	if os.Getenv("HASHPOOL_TEST_WORKER") == "1" {
		params := pwhash.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
		if err := Serve(os.Stdin, os.Stdout, pwhash.New(params)); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newPool(t *testing.T, size int) *Pool {
	t.Helper()
	t.Setenv("HASHPOOL_TEST_WORKER", "1")
	p := New(size, os.Args[0])
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPool(t *testing.T) {
	p := newPool(t, 2)
	hash, err := p.Hash("correct horse")
	if err != nil || !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("Hash = %q, %v", hash, err)
	}
	if ok, _, err := p.Verify("correct horse", hash); !ok || err != nil {
		t.Errorf("Verify(right) = %v, %v", ok, err)
	}
	if ok, _, err := p.Verify("wrong", hash); ok || err != nil {
		t.Errorf("Verify(wrong) = %v, %v", ok, err)
	}
	if _, _, err := p.Verify("x", "$argon2id$v=19$m=oops"); !errors.Is(err, pwhash.ErrMalformedHash) {
		t.Errorf("malformed hash: %v", err)
	}
	if _, _, err := p.Verify("x", "plaintext"); !errors.Is(err, pwhash.ErrUnknownHash) {
		t.Errorf("unknown hash: %v", err)
	}
	if p.VerifyDummy("anything") {
		t.Error("VerifyDummy returned true")
	}
	// NUL bytes and long passwords cross the pipe intact.
	odd := "a\x00b" + strings.Repeat("é", 400)
	h2, _ := p.Hash(odd)
	if ok, _, _ := p.Verify(odd, h2); !ok {
		t.Error("a password with NUL and multi-byte runes did not survive the pipe")
	}
}

func TestPoolConcurrent(t *testing.T) {
	p := newPool(t, 2)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			pw := strings.Repeat("p", i+1)
			h, err := p.Hash(pw)
			if err != nil {
				t.Error(err)
				return
			}
			if ok, _, err := p.Verify(pw, h); !ok || err != nil {
				t.Errorf("verify %d: %v %v", i, ok, err)
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	n := len(p.all)
	p.mu.Unlock()
	if n > 2 {
		t.Errorf("%d workers for a pool of 2", n)
	}
}

// A worker that dies is replaced on the next use.
func TestPoolReplacesDeadWorker(t *testing.T) {
	p := newPool(t, 1)
	if _, err := p.Hash("a"); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	for w := range p.all {
		w.cmd.Process.Kill()
	}
	p.mu.Unlock()
	// The first call may see the dead worker and fail; the pool recovers.
	var err error
	for range 3 {
		if _, err = p.Hash("b"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("pool did not recover: %v", err)
	}
}

func TestClosedPool(t *testing.T) {
	p := newPool(t, 1)
	p.Close()
	if _, err := p.Hash("a"); !errors.Is(err, errClosed) {
		t.Errorf("Hash on a closed pool: %v", err)
	}
}
