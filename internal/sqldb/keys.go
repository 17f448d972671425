package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// keyStore is the gatehouse.KeyStore of a DB. It holds no state of its own:
// signing keys are read at start-up and on a reload, never per request, so
// nothing is worth preparing or caching here.
type keyStore struct{ db *DB }

var _ gatehouse.KeyStore = keyStore{}

// Keys returns the gatehouse.KeyStore backed by db.
func (db *DB) Keys() gatehouse.KeyStore { return keyStore{db: db} }

// AddSigningKey makes k the current key and retires the key it replaces at
// retireOld, in one transaction.
//
// The current key is always the newest one: the UPDATE retires the current
// key only if it was created before k, and the INSERT marks k current, which
// the one-current constraint of signing_keys refuses while another row is
// still current. A refusal is reported as CodeConflict, never checked for
// beforehand, so that the constraint decides even between processes. It
// happens when
//   - the current key was created at or after k, so k's creator cannot have
//     seen it (two instances that found no key at the same instant), or
//   - another transaction added a key concurrently and committed first, which
//     only databases that run writers side by side allow (SQLite serialises
//     them, and the later one then replaces the earlier key if it is older).
func (s keyStore) AddSigningKey(ctx context.Context, k *gatehouse.SigningKey, retireOld time.Time) error {
	switch {
	case k.ID == "" || k.Algorithm == "":
		return errors.New("add signing key: no kid or algorithm")
	case k.CreatedAt.IsZero():
		return fmt.Errorf("add signing key %s: no CreatedAt", k.ID)
	case !k.RetiresAt.IsZero():
		return fmt.Errorf("add signing key %s: a new key is current, so its RetiresAt must be zero", k.ID)
	case retireOld.IsZero():
		return fmt.Errorf("add signing key %s: zero retirement time for the old key", k.ID)
	}
	tx, err := s.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add signing key %s: %w", k.ID, err)
	}
	defer tx.Rollback()

	tv := s.db.dialect.timeValue
	if _, err := tx.ExecContext(ctx,
		`UPDATE signing_keys SET current = NULL, retires_at = ? WHERE current = 1 AND created_at < ?`,
		tv(retireOld), tv(k.CreatedAt)); err != nil {
		return fmt.Errorf("add signing key %s: retire current key: %w", k.ID, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, current) VALUES (?, ?, ?, ?, ?, 1)`,
		k.ID, k.Algorithm, k.PrivateKey, k.PublicKey, tv(k.CreatedAt)); err != nil {
		err = fmt.Errorf("add signing key %s: %w", k.ID, err)
		if s.db.dialect.uniqueColumn(err) == "current" {
			return &gatehouse.Error{Code: gatehouse.CodeConflict, Err: err}
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add signing key %s: %w", k.ID, err)
	}
	return nil
}

// SigningKeys returns every key, newest first. Keys are added newest-last
// (see AddSigningKey), so kid only breaks ties that cannot arise from it.
func (s keyStore) SigningKeys(ctx context.Context) ([]*gatehouse.SigningKey, error) {
	rows, err := s.db.sql.QueryContext(ctx,
		`SELECT kid, alg, private_key, public_key, created_at, retires_at FROM signing_keys ORDER BY created_at DESC, kid`)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	keys := []*gatehouse.SigningKey{}
	for rows.Next() {
		k := new(gatehouse.SigningKey)
		// retires_at is NULL for the current key, which scanTime refuses, so
		// it is read raw and decoded only when set.
		var retires any
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicKey, scanTime(&k.CreatedAt), &retires); err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		if retires != nil {
			if err := scanTime(&k.RetiresAt).Scan(retires); err != nil {
				return nil, fmt.Errorf("signing key %s: retires_at: %w", k.ID, err)
			}
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return keys, nil
}
