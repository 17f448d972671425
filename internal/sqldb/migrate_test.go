package sqldb

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr string
	}{
		{
			name: "VersionOrder",
			fsys: fstest.MapFS{"0010_later.sql": file("x"), "0002_second.sql": file("x"), "0001_first.sql": file("x")},
			want: []string{"0001_first", "0002_second", "0010_later"},
		},
		{name: "Empty", fsys: fstest.MapFS{}},
		{
			name:    "Misnamed",
			fsys:    fstest.MapFS{"0001_users.sql": file("x"), "2_sessions.sql": file("x")},
			wantErr: "not named NNNN_name.sql",
		},
		{
			name:    "NotSQL",
			fsys:    fstest.MapFS{"0001_users.txt": file("x")},
			wantErr: "not named NNNN_name.sql",
		},
		{
			name:    "SharedVersion",
			fsys:    fstest.MapFS{"0001_users.sql": file("x"), "0001_sessions.sql": file("x")},
			wantErr: "share version 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := readMigrations(tt.fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("migrations %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMigrateFailure checks that a failing migration leaves nothing of
// itself behind, keeps what came before, and is applied once fixed.
func TestMigrateFailure(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	good := &fstest.MapFile{Data: []byte("CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);")}
	steps := []struct {
		name    string
		second  string
		want    []string
		wantErr bool
		tables  []string
	}{
		{
			name:    "SecondStatementFails",
			second:  "CREATE TABLE c (z INTEGER);\nINSERT INTO nowhere VALUES (1);",
			want:    []string{"0001_ab"},
			wantErr: true,
			tables:  []string{"a", "b", "schema_migrations"},
		},
		{
			name:   "Fixed",
			second: "CREATE TABLE c (z INTEGER);\nINSERT INTO c VALUES (1);",
			want:   []string{"0002_c"},
			tables: []string{"a", "b", "c", "schema_migrations"},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			fsys := fstest.MapFS{"0001_ab.sql": good, "0002_c.sql": {Data: []byte(st.second)}}
			applied, err := db.migrate(ctx, fsys)
			if (err != nil) != st.wantErr {
				t.Fatalf("migrate error = %v, want error %v", err, st.wantErr)
			}
			if !slices.Equal(applied, st.want) {
				t.Errorf("applied %q, want %q", applied, st.want)
			}
			var tables []string
			rows, err := db.sql.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, name)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tables, st.tables) {
				t.Errorf("tables %q, want %q", tables, st.tables)
			}
		})
	}
}
