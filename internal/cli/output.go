package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// OutputFile checks, before any work, that the file named by flag name can be written at the end: path is not a
// folder; its folder exists or can be created (the nearest existing ancestor is a folder this process can create
// files in); and an existing file is one the command may replace — recognize returns nil for it (nil recognize
// accepts any existing regular file). An empty path (the output is off) passes. Errors are [UsageError]s naming the
// flag and the path.
//
// The check does not create anything that stays; the command creates missing folders when it writes
// ([MakeParent]).
func OutputFile(name, path string, recognize func(path string) error) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return Usagef("-%s %s: is a folder, want a file name", name, path)
	case err == nil && !fi.Mode().IsRegular():
		return Usagef("-%s %s: exists and is not a regular file", name, path)
	case err == nil && recognize != nil:
		if rerr := recognize(path); rerr != nil {
			return Usagef("-%s %s: exists and is not a file this command writes (%v); refusing to overwrite it", name, path, rerr)
		}
	case err != nil && !missing(err):
		return Usagef("-%s %s: %v", name, path, err)
	}
	if err := writableFolder(filepath.Dir(path)); err != nil {
		return Usagef("-%s %s: %v", name, path, err)
	}
	return nil
}

// NotInput refuses an output path that names one of the command's input files (the same file, by os.SameFile):
// an output must never overwrite what it is computed from. A path that does not exist yet passes.
func NotInput(name, path string, inputs ...string) error {
	if path == "" {
		return nil
	}
	out, err := os.Stat(path)
	if err != nil {
		return nil
	}
	for _, in := range inputs {
		if fi, err := os.Stat(in); err == nil && os.SameFile(out, fi) {
			return Usagef("-%s %s: is an input of this command (%s); refusing to overwrite it", name, path, in)
		}
	}
	return nil
}

// OutputDir checks, before any work, that the folder named by flag name can be filled at the end: it is a folder
// or does not exist yet, it (or its nearest existing ancestor) is a folder this process can create files in, and an
// existing folder is one the command may fill or replace — recognize returns nil for it (nil accepts any existing
// folder). An empty dir passes.
func OutputDir(name, dir string, recognize func(dir string) error) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return Usagef("-%s %s: exists and is not a folder", name, dir)
	case err == nil && recognize != nil:
		if rerr := recognize(dir); rerr != nil {
			return Usagef("-%s %s: %v", name, dir, rerr)
		}
	case err != nil && !missing(err):
		return Usagef("-%s %s: %v", name, dir, err)
	}
	if err := writableFolder(dir); err != nil {
		return Usagef("-%s %s: %v", name, dir, err)
	}
	return nil
}

// writableFolder checks that files can be created in dir, or, when dir does not exist, in its nearest existing
// ancestor (so that dir can be created), by creating and removing a temporary file there.
func writableFolder(dir string) error {
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a folder", d)
			}
			break
		}
		if !missing(err) {
			return err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fmt.Errorf("no existing folder above %s", dir)
		}
		d = parent
	}
	f, err := os.CreateTemp(d, ".faildirs-write-check-*")
	if err != nil {
		if d != dir {
			return fmt.Errorf("cannot create %s: %w", dir, err)
		}
		return fmt.Errorf("folder is not writable: %w", err)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// missing reports an error of os.Stat for a path that does not exist, or that lies under a file (ENOTDIR; the
// folder walk then names that file).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// MakeParent creates the folder of path (and its parents) if missing, for a file checked by [OutputFile].
func MakeParent(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the folder of %s: %w", path, err)
	}
	return nil
}
