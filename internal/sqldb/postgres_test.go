package sqldb

import "testing"

func TestDollarPlaceholders(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"None", `SELECT 1`, `SELECT 1`},
		{"InOrder", `UPDATE t SET a = ?, b = ? WHERE id = ?`, `UPDATE t SET a = $1, b = $2 WHERE id = $3`},
		{"Adjacent", `VALUES (?,?)`, `VALUES ($1,$2)`},
		{"TenOrMore", `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
		{"StringLiteral", `SELECT '?', ? WHERE x = 'it''s ?'`, `SELECT '?', $1 WHERE x = 'it''s ?'`},
		{"QuotedIdentifier", `SELECT "a?b" FROM t WHERE c = ?`, `SELECT "a?b" FROM t WHERE c = $1`},
		{"LineComment", "SELECT ? -- why?\nFROM t WHERE a = ?", "SELECT $1 -- why?\nFROM t WHERE a = $2"},
		{"BlockComment", `SELECT /* ? */ ?`, `SELECT /* ? */ $1`},
		{"Minus", `SELECT ? - ?`, `SELECT $1 - $2`},
		{"UnterminatedLiteral", `SELECT ? WHERE a = 'x?`, `SELECT $1 WHERE a = 'x?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dollarPlaceholders(tt.query); got != tt.want {
				t.Errorf("dollarPlaceholders(%q)\n = %q\nwant %q", tt.query, got, tt.want)
			}
		})
	}
}

// TestBindCaches checks that a query is rewritten once and then served
// from the cache, for every dialect's own placeholders.
func TestBindCaches(t *testing.T) {
	const q = `SELECT id FROM users WHERE username_key = ?`
	if got := sqliteDialect.bind(q); got != q {
		t.Errorf("SQLite bind = %q, want the query unchanged", got)
	}
	d := postgresDialect // a cache of its own
	d.placeholders = &placeholderCache{}
	want := `SELECT id FROM users WHERE username_key = $1`
	for range 2 {
		if got := d.bind(q); got != want {
			t.Errorf("PostgreSQL bind = %q, want %q", got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { d.bind(q) }); n != 0 {
		t.Errorf("a cached bind allocates %v times, want 0", n)
	}
}

// BenchmarkBind is the cost a PostgreSQL query pays per call for having
// been written with ? placeholders.
func BenchmarkBind(b *testing.B) {
	q := selectSession + ` WHERE id = ?`
	postgresDialect.bind(q)
	for b.Loop() {
		postgresDialect.bind(q)
	}
}
