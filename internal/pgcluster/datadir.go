package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// socketName is the longest name postgres gives its socket (port 65535).
const socketName = "/.s.PGSQL.65535"

// maxSocketPath is the usable length of a unix socket path: sun_path is 108
// bytes on Linux but 104 on macOS, and postgres refuses a longer one.
const maxSocketPath = 103

// makeScratch creates the cluster's private temp dir, owned by the user the
// server runs as: postgres puts its socket (and lock file) there, and a
// temporary cluster its data.
func makeScratch(owner *runAs) (string, error) {
	base := os.TempDir()
	// A long TMPDIR (macOS's /var/folders/…, a CI workspace) would push the
	// socket path past the limit; /tmp is short everywhere unix is.
	if len(base)+len("/pgcluster-1234567890")+len(socketName) > maxSocketPath {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "pgcluster-")
	if err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	if err := owner.chown(dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	return dir, nil
}

// ensureInitialised makes dataDir a data directory, running initdb unless it
// already is one (PG_VERSION present). workDir is a directory the server user
// may read, for initdb's working directory.
func ensureInitialised(ctx context.Context, bin, dataDir, workDir string, owner *runAs, log io.Writer) error {
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err == nil {
		// A cluster made by a non-root run must become the server user's, or
		// postgres refuses it ("wrong ownership").
		if owner != nil && !owner.owns(dataDir) {
			if err := owner.chownTree(dataDir); err != nil {
				return fmt.Errorf("pgcluster: %w", err)
			}
		}
		return nil
	}

	entries, err := os.ReadDir(dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return initdbAtomically(ctx, bin, dataDir, workDir, owner, log)
	case err != nil:
		return fmt.Errorf("pgcluster: data dir: %w", err)
	case len(entries) > 0:
		// Checked here rather than left to initdb so that, as root, a
		// mistyped DataDir is not chowned to postgres before initdb refuses it.
		return fmt.Errorf("pgcluster: data dir %s is not empty and is not a Postgres data directory (no PG_VERSION)", dataDir)
	}
	// An existing empty directory (a volume mount point, say) cannot be
	// renamed over, so initdb fills it in place.
	if err := owner.chown(dataDir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return initdb(ctx, bin, dataDir, workDir, owner, log)
}

// initdbAtomically runs initdb in a sibling of dataDir and renames it into
// place, so that dataDir is either a complete cluster or absent: a run killed
// mid-initdb must not leave a half-made directory with a PG_VERSION that the
// next run would take for a cluster.
func initdbAtomically(ctx context.Context, bin, dataDir, workDir string, owner *runAs, log io.Writer) error {
	// The parents must stay traversable by the server user, hence not 0700.
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return fmt.Errorf("pgcluster: data dir: %w", err)
	}
	tmp := dataDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil { // left by a killed run
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("pgcluster: data dir: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := owner.chown(tmp); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := initdb(ctx, bin, tmp, workDir, owner, log); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		return fmt.Errorf("pgcluster: data dir: %w", err)
	}
	return nil
}

func initdb(ctx context.Context, bin, dataDir, workDir string, owner *runAs, log io.Writer) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dataDir,
		"-U", "postgres",
		"-A", "trust",
		"-E", "UTF8",
		"--locale=C",
		"--no-sync",
		"--no-instructions",
	)
	// Postgres's tools look up their working directory and complain when
	// the server user cannot enter it; the caller's may be root's home.
	cmd.Dir = workDir
	cmd.SysProcAttr = owner.sysProcAttr()
	// On cancellation, SIGINT lets initdb delete what it created; the kill
	// after WaitDelay is the fallback.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	tail := &tailBuffer{}
	cmd.Stdout = logWriter(tail, log)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("pgcluster: initdb %s: %w", dataDir, context.Cause(ctx))
		}
		if owner != nil && tail.Contains("Permission denied") {
			// The usual cause under root: a DataDir below a 0700 directory
			// such as /root or a t.TempDir().
			err = fmt.Errorf(`%w (initdb runs as user "postgres" because we run as root: every parent of the data dir must be searchable by it)`, err)
		}
		return fmt.Errorf("pgcluster: initdb %s: %w\n%s", dataDir, err, tail)
	}
	return nil
}
