package pgcluster

import (
	"slices"
	"testing"
)

func TestNewestFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dirs []string
		want []string
	}{
		{
			name: "Numeric",
			dirs: []string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/17/bin"},
			want: []string{"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"},
		},
		{
			name: "NotLexical",
			dirs: []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/10/bin"},
			want: []string{"/usr/lib/postgresql/10/bin", "/usr/lib/postgresql/9.6/bin"},
		},
		{
			name: "NonVersionLast",
			dirs: []string{"/usr/lib/postgresql/custom/bin", "/usr/lib/postgresql/15/bin"},
			want: []string{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/custom/bin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := newestFirst(slices.Clone(tt.dirs)); !slices.Equal(got, tt.want) {
				t.Errorf("newestFirst(%v) = %v, want %v", tt.dirs, got, tt.want)
			}
		})
	}
}

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if !hasServerBinaries(dir) {
		t.Errorf("FindBinDir() = %s, which lacks initdb or postgres", dir)
	}
}
