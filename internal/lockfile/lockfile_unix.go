//go:build unix

package lockfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// acquire opens (creating it if needed) and flocks the lock file. After locking it checks that the path still
// names the locked file: a releasing holder removes the file, and a process that opened the old file just before
// would otherwise hold a lock nobody else sees.
func acquire(path string) (*Lock, error) {
	lp := path + Suffix
	for range 100 {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &HeldError{Path: path, Holder: readHolder(lp)}
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !sameFile(f, lp) {
			_ = f.Close() // removed or replaced by its previous holder: lock the new one
			continue
		}
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt(holderRecord(), 0)
		}
		return &Lock{path: lp, f: f}, nil
	}
	return nil, fmt.Errorf("locking %s: the lock file keeps changing", path)
}

func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// release removes the lock file while still holding the lock, then unlocks by closing it.
func release(l *Lock) error {
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
