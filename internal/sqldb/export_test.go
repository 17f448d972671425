package sqldb

import "database/sql"

// SQL gives the tests the pool, to read pragmas and rows as stored.
func (db *DB) SQL() *sql.DB { return db.sql }
