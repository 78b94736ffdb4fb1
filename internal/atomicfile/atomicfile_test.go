package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesOrLeavesUntouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		_, _ = w.Write([]byte("half-written"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap the fill error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("after a failed write the file holds %q, want the old content", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := WriteBytes(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Fatalf("file holds %q, want %q", got, "new")
	}
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	fill := func(content string) func(string) error {
		return func(tmp string) error { return WriteBytes(filepath.Join(tmp, "a.txt"), []byte(content)) }
	}
	if err := WriteDir(dir, false, fill("one")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "one" {
		t.Fatalf("a.txt holds %q", got)
	}
	if err := WriteDir(dir, false, fill("two")); err == nil {
		t.Fatal("WriteDir replaced an existing folder without replace")
	}
	boom := errors.New("boom")
	if err := WriteDir(dir, true, func(string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the fill error", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "one" {
		t.Fatalf("a failed replace changed the folder: a.txt holds %q", got)
	}
	if err := WriteDir(dir, true, fill("two")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "two" {
		t.Fatalf("a.txt holds %q after replace", got)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("temporary or old folders left behind: %v", entries)
	}
}
