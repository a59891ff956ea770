package pgcluster

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNotInstalled means FindBinDir found no PostgreSQL server binaries. Its
// text is the fix.
var ErrNotInstalled = errors.New(`pgcluster: PostgreSQL server binaries (initdb, postgres) not found on PATH, in /usr/lib/postgresql/*/bin or at "pg_config --bindir": ` +
	`install them with "apt-get install postgresql" (Debian, Ubuntu) or "brew install postgresql@16" (macOS; then add "$(brew --prefix postgresql@16)/bin" to PATH)`)

// FindBinDir returns a directory holding both initdb and postgres. It looks
// on PATH, then in /usr/lib/postgresql/*/bin newest version first (Debian and
// Ubuntu install the server there, off PATH), then at pg_config --bindir. It
// returns ErrNotInstalled if none has them.
func FindBinDir() (string, error) {
	for _, candidates := range []func() []string{pathBinDirs, debianBinDirs, pgConfigBinDir} {
		for _, dir := range candidates() {
			if hasServerBinaries(dir) {
				return dir, nil
			}
		}
	}
	return "", ErrNotInstalled
}

// pathBinDirs returns the directory of the initdb on PATH and, if it is a
// symlink, the directory it points into: postgres must sit beside one of them.
func pathBinDirs() []string {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return nil
	}
	dirs := []string{filepath.Dir(initdb)}
	if real, err := filepath.EvalSymlinks(initdb); err == nil {
		dirs = append(dirs, filepath.Dir(real))
	}
	return dirs
}

func debianBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	return newestFirst(dirs)
}

// newestFirst sorts …/<version>/bin dirs by version, newest first, comparing
// numerically so that 9.6 < 10 < 15 < 16.
func newestFirst(dirs []string) []string {
	version := func(dir string) []int {
		var v []int
		for _, part := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				n = -1 // not a version: last
			}
			v = append(v, n)
		}
		return v
	}
	slices.SortStableFunc(dirs, func(a, b string) int {
		return slices.Compare(version(b), version(a))
	})
	return dirs
}

// pgConfigBinDir asks pg_config, which is on PATH more often than initdb
// (libpq-dev ships it) and knows where its server was installed.
func pgConfigBinDir() []string {
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		return nil
	}
	return []string{strings.TrimSpace(string(out))}
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}
