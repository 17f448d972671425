package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretFileName is the file, inside the data directory, that holds the
// development signing secret.
const SecretFileName = "secret.key"

// secretBytes is the size of a generated secret: 256 bits, HS256's key size.
const secretBytes = 32

// LoadOrCreateSecret returns the signing secret kept in dir, generating a
// random 256-bit one on first use. created reports a new secret. The file is
// written with mode 0600 and refused if group or others can read it, so that
// a secret that leaked through permissions is not silently trusted.
//
// It exists so that a development server works with no configuration and
// still never signs with a well-known default secret, and so that tokens
// survive a restart.
func LoadOrCreateSecret(dir string) (secret []byte, path string, created bool, err error) {
	path = filepath.Join(dir, SecretFileName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, path, false, fmt.Errorf("create data dir: %w", err)
	}
	secret, err = readSecret(path)
	if err == nil {
		return secret, path, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, path, false, err
	}
	secret = make([]byte, secretBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, path, false, fmt.Errorf("generate secret: %w", err)
	}
	// O_EXCL: if another process created the file meanwhile, use its secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		secret, err = readSecret(path)
		return secret, path, false, err
	}
	if err != nil {
		return nil, path, false, fmt.Errorf("create secret file: %w", err)
	}
	_, werr := f.WriteString(base64.RawURLEncoding.EncodeToString(secret) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return nil, path, false, fmt.Errorf("write secret file: %w", err)
	}
	return secret, path, true, nil
}

func readSecret(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s has mode %04o: it must not be accessible to group or others (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	secret, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) != secretBytes {
		return nil, fmt.Errorf("secret file %s is corrupt: remove it to generate a new one (all issued tokens become invalid)", path)
	}
	return secret, nil
}
