//go:build !unix

package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// acquire creates the lock file exclusively (no flock here: a file left by a crash must be removed by hand).
func acquire(path string) (*Lock, error) {
	lp := path + Suffix
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, &HeldError{Path: path, Holder: readHolder(lp), Stale: true}
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	_, _ = f.Write(holderRecord())
	return &Lock{path: lp, f: f}, nil
}

func release(l *Lock) error {
	cerr := l.f.Close()
	if err := os.Remove(l.path); err != nil {
		return err
	}
	return cerr
}
