//go:build unix

package pgcluster

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// runAs is the OS user initdb and postgres run as when we run as root; nil
// means they run as ourselves.
type runAs struct{ uid, gid int }

// lookupRunAs returns nil unless we are root. initdb and postgres refuse to
// run as root (a server bug would own the machine), so as root — a container,
// CI — they run as the "postgres" user the server package created.
func lookupRunAs() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf(`pgcluster: running as root, which initdb and postgres refuse, and cannot run them as user "postgres": %w (create it with "useradd --system postgres", or run as a non-root user)`, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user postgres: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user postgres: gid %q: %w", u.Gid, err)
	}
	return &runAs{uid: uid, gid: gid}, nil
}

// sysProcAttr returns the attributes a child needs to run as r.
func (r *runAs) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if r != nil {
		// No Groups: the child drops root's supplementary groups.
		attr.Credential = &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid)}
	}
	return attr
}

// chown gives path to r; nothing to do when r is nil.
func (r *runAs) chown(path string) error {
	if r == nil {
		return nil
	}
	return os.Chown(path, r.uid, r.gid)
}

// chownTree gives root and everything under it to r.
func (r *runAs) chownTree(root string) error {
	if r == nil {
		return nil
	}
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, r.uid, r.gid)
	})
}

// owns reports whether path belongs to r.
func (r *runAs) owns(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == r.uid
}
