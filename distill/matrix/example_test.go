package matrix_test

import (
	"fmt"
	"log"

	"github.com/faildirs/faildirs/distill/matrix"
)

// Embeddings are rows of a Dense: build it from rows (or wrap a flat slice with New), scale each row to unit
// length as CLIP comparisons do, and pick rows by index.
func Example() {
	emb, err := matrix.FromRows([][]float32{{3, 4}, {0, 2}, {1, 0}})
	if err != nil {
		log.Fatal(err)
	}
	emb.NormalizeRows()
	fmt.Println(emb.Rows, emb.Cols, emb.Row(0), emb.Row(1))
	picked := emb.Select([]int{2, 0})
	fmt.Println(picked.Data)
	// Output:
	// 3 2 [0.6 0.8] [0 1]
	// [1 0 0.6 0.8]
}
