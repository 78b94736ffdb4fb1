package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill/safetensors"
)

// Save tensors with metadata to a file (atomically), open it and read one tensor back.
func Example() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "emb.safetensors")
	err = safetensors.Save(path, []safetensors.Tensor{
		{Name: "embeddings", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "status", Shape: []int{2}, U8: []uint8{1, 0}},
	}, map[string]string{"format": "example"})
	if err != nil {
		log.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	values, shape, err := f.Float32("embeddings")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Names(), f.Metadata["format"], shape, values)
	// Output:
	// [embeddings status] example [2 3] [1 2 3 4 5 6]
}
