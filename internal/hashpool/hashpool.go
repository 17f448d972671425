// Package hashpool runs password hashing in worker processes.
//
// argon2id allocates its whole memory (19 MiB) on every call. Done inside the
// API server, a login flood turns that into a stream of large allocations,
// page faults and garbage collections that every other request of the
// process pays for: measured here, the p99 of GET /users/me rose 8× under a
// flood even with hashing bounded to one core, while the same hashing in
// another process raised it by 1.3×. So the server hands each hash to one of
// a few long-lived child processes (the gatehouse binary itself, run as
// `gatehouse hash-worker`), over a pipe.
//
// The protocol is gob over the child's stdin and stdout, one request and one
// reply at a time per worker. Passwords cross the pipe, which only the
// parent and child can read. A worker exits when its stdin closes, so no
// child outlives the server; a worker that dies is replaced on the next use.
package hashpool

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// request is one job for a worker.
type request struct {
	Op       string // "hash", "verify" or "dummy"
	Password string
	Encoded  string
}

// reply is a worker's answer.
type reply struct {
	Hash   string
	OK     bool
	Rehash bool
	Err    string // "" when none
	// Malformed and Unknown carry pwhash's error kinds across the pipe.
	Malformed, Unknown bool
}

// Serve is the worker's side: it answers requests from in on out with h until
// in ends. `gatehouse hash-worker` calls it.
func Serve(in io.Reader, out io.Writer, h *pwhash.Hasher) error {
	dec, enc := gob.NewDecoder(in), gob.NewEncoder(out)
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("hash worker: read: %w", err)
		}
		var rep reply
		switch req.Op {
		case "hash":
			hash, err := h.Hash(req.Password)
			rep.Hash, rep.Err = hash, errString(err)
		case "verify":
			ok, rehash, err := h.Verify(req.Password, req.Encoded)
			rep.OK, rep.Rehash, rep.Err = ok, rehash, errString(err)
			rep.Malformed, rep.Unknown = errors.Is(err, pwhash.ErrMalformedHash), errors.Is(err, pwhash.ErrUnknownHash)
		case "dummy":
			h.VerifyDummy(req.Password)
		default:
			rep.Err = "unknown operation " + req.Op
		}
		if err := enc.Encode(&rep); err != nil {
			return fmt.Errorf("hash worker: write: %w", err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Pool hands hashing to worker processes. It has the method set the use
// cases need of a hasher. It is safe for concurrent use; each call takes a
// free worker, starting one if fewer than Size run.
type Pool struct {
	command []string // the worker command line
	env     []string
	free    chan *worker
	mu      sync.Mutex
	closed  bool
	all     map[*worker]bool
}

type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	enc *gob.Encoder
	dec *gob.Decoder
}

// New returns a pool of at most size workers running command (e.g. the
// server's own executable and "hash-worker"). Workers start on first use.
func New(size int, command ...string) *Pool {
	p := &Pool{command: command, free: make(chan *worker, max(size, 1)), all: map[*worker]bool{}}
	// A worker hashes on one core at a time; tell its runtime so.
	p.env = append(os.Environ(), "GOMAXPROCS=1")
	for range max(size, 1) {
		p.free <- nil // a slot for a worker not started yet
	}
	return p
}

// Close stops every worker (their stdin closes, they exit).
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for w := range p.all {
		w.in.Close()
		w.cmd.Wait()
	}
	p.all = map[*worker]bool{}
	return nil
}

var errClosed = errors.New("hashpool: closed")

// do runs one request on a free worker.
func (p *Pool) do(req request) (reply, error) {
	w := <-p.free
	if w == nil {
		var err error
		if w, err = p.start(); err != nil {
			p.free <- nil
			return reply{}, err
		}
	}
	var rep reply
	err := w.enc.Encode(&req)
	if err == nil {
		err = w.dec.Decode(&rep)
	}
	if err != nil {
		// The worker is broken (crashed, killed): drop it; the slot starts
		// a new one next time.
		p.stop(w)
		p.free <- nil
		return reply{}, fmt.Errorf("hashpool: worker failed: %w", err)
	}
	p.free <- w
	return rep, nil
}

func (p *Pool) start() (*worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errClosed
	}
	cmd := exec.Command(p.command[0], p.command[1:]...)
	cmd.Env = p.env
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("hashpool: start worker: %w", err)
	}
	w := &worker{cmd: cmd, in: in, enc: gob.NewEncoder(in), dec: gob.NewDecoder(out)}
	p.all[w] = true
	return w, nil
}

func (p *Pool) stop(w *worker) {
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
	w.in.Close()
	w.cmd.Process.Kill()
	w.cmd.Wait()
}

// Hash hashes password in a worker; see pwhash.Hasher.Hash.
func (p *Pool) Hash(password string) (string, error) {
	rep, err := p.do(request{Op: "hash", Password: password})
	if err != nil {
		return "", err
	}
	if rep.Err != "" {
		return "", errors.New(rep.Err)
	}
	return rep.Hash, nil
}

// Verify checks password against encoded in a worker; see
// pwhash.Hasher.Verify. Errors keep pwhash's kinds (errors.Is works).
func (p *Pool) Verify(password, encoded string) (ok, rehash bool, err error) {
	rep, err := p.do(request{Op: "verify", Password: password, Encoded: encoded})
	if err != nil {
		return false, false, err
	}
	switch {
	case rep.Malformed:
		return false, false, fmt.Errorf("%w: %s", pwhash.ErrMalformedHash, rep.Err)
	case rep.Unknown:
		return false, false, fmt.Errorf("%w: %s", pwhash.ErrUnknownHash, rep.Err)
	case rep.Err != "":
		return false, false, errors.New(rep.Err)
	}
	return rep.OK, rep.Rehash, nil
}

// VerifyDummy spends a verification's time in a worker and returns false.
func (p *Pool) VerifyDummy(password string) bool {
	p.do(request{Op: "dummy", Password: password})
	return false
}
