package lockfile_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/internal/lockfile"
)

// A second writer of the same file is refused while the first holds the lock.
func Example() {
	dir, err := os.MkdirTemp("", "lock-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cache := filepath.Join(dir, "emb.safetensors")
	first, err := lockfile.Acquire(cache)
	if err != nil {
		log.Fatal(err)
	}
	_, err = lockfile.Acquire(cache)
	var held *lockfile.HeldError
	fmt.Println(errors.As(err, &held), held.Holder.PID == os.Getpid())
	first.Release()
	second, err := lockfile.Acquire(cache)
	fmt.Println(err)
	second.Release()
	// Output:
	// true true
	// <nil>
}
