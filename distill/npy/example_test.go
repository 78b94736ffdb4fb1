package npy_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill/npy"
)

// Save decision values and read them back; a header claiming more data than the file holds is an error, not an
// allocation.
func Example() {
	dir, err := os.MkdirTemp("", "npy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "decisions.npy")
	if err := npy.SaveFloat32(path, []int{2, 2}, []float32{-1.5, 0.25, 2, 0}); err != nil {
		log.Fatal(err)
	}
	a, err := npy.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	values, err := a.Float32()
	fmt.Println(a.Shape, a.DType(), values, err)

	forged := filepath.Join(dir, "forged.npy")
	raw, _ := os.ReadFile(path)
	os.WriteFile(forged, raw[:len(raw)-8], 0o644) // two values cut off
	_, err = npy.Load(forged)
	fmt.Println(err != nil)
	// Output:
	// [2 2] f4 [-1.5 0.25 2 0] <nil>
	// true
}
