package sqldb

import (
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
