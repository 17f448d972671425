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

// AddSigningKey makes k the current key and retires replaces at retireOld,
// in one transaction, if replaces is still the current key (see
// gatehouse.KeyStore).
//
// The compare-and-swap is the UPDATE itself: it retires replaces only
// where that row is still current, and touching no row means another
// process rotated first, so nothing is read beforehand to go stale. A
// database that runs writers side by side (PostgreSQL at READ COMMITTED)
// makes the second of two such UPDATEs wait for the first and then find
// the row no longer current. With replaces "" there is nothing to retire,
// and the one-current constraint of signing_keys refuses the INSERT while
// any key is current. That constraint also stands behind the UPDATE, so
// that no interleaving the UPDATE misses can leave two keys current.
func (s keyStore) AddSigningKey(ctx context.Context, k *gatehouse.SigningKey, replaces string, retireOld time.Time) error {
	switch {
	case k.ID == "" || k.Algorithm == "":
		return errors.New("add signing key: no kid or algorithm")
	case k.CreatedAt.IsZero():
		return fmt.Errorf("add signing key %s: no CreatedAt", k.ID)
	case !k.RetiresAt.IsZero():
		return fmt.Errorf("add signing key %s: a new key is current, so its RetiresAt must be zero", k.ID)
	case replaces != "" && retireOld.IsZero():
		return fmt.Errorf("add signing key %s: zero retirement time for key %s", k.ID, replaces)
	}
	sqlTx, err := s.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add signing key %s: %w", k.ID, err)
	}
	defer sqlTx.Rollback()

	tx := runner{sqlTx, s.db.dialect}
	tv := s.db.dialect.timeValue
	if replaces != "" {
		res, err := tx.exec(ctx,
			`UPDATE signing_keys SET current = NULL, retires_at = ? WHERE kid = ? AND current = 1`,
			tv(retireOld), replaces)
		if err != nil {
			return fmt.Errorf("add signing key %s: retire key %s: %w", k.ID, replaces, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("add signing key %s: retire key %s: %w", k.ID, replaces, err)
		}
		if n != 1 {
			return gatehouse.Errorf(gatehouse.CodeConflict, "add signing key %s: key %s is not current", k.ID, replaces)
		}
	}
	if _, err := tx.exec(ctx,
		`INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, current) VALUES (?, ?, ?, ?, ?, 1)`,
		k.ID, k.Algorithm, k.PrivateKey, k.PublicKey, tv(k.CreatedAt)); err != nil {
		if s.db.dialect.uniqueColumn(err) == "current" {
			return gatehouse.Errorf(gatehouse.CodeConflict, "add signing key %s: another key is current: %w", k.ID, err)
		}
		return fmt.Errorf("add signing key %s: %w", k.ID, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("add signing key %s: %w", k.ID, err)
	}
	return nil
}

// SigningKeys returns every key, newest CreatedAt first; kid breaks ties,
// so that the order is stable.
func (s keyStore) SigningKeys(ctx context.Context) ([]*gatehouse.SigningKey, error) {
	rows, err := s.db.pool().query(ctx,
		`SELECT kid, alg, private_key, public_key, created_at, retires_at FROM signing_keys ORDER BY created_at DESC, kid`)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	keys := []*gatehouse.SigningKey{}
	for rows.Next() {
		k := new(gatehouse.SigningKey)
		// retires_at is NULL for the current key.
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicKey, scanTime(&k.CreatedAt), scanNullTime(&k.RetiresAt)); err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return keys, nil
}
