package intervene_test

import (
	"fmt"

	"github.com/faildirs/faildirs/distill/intervene"
)

// The three reweighting schemes on one class of four training examples, from their decision values (≤ 0: flagged as
// a predicted failure), and the K = 2 pool examples per class with the lowest decision values.
func Example() {
	labels := []int{0, 0, 0, 0}
	dv := []float32{-1, -0.5, 0.5, 1}
	for _, s := range intervene.Schemes {
		w, err := intervene.Weights(s, labels, dv, 1, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-12s %v\n", s, w)
	}
	poolLabels := []int{0, 1, 0, 1, 0}
	poolDV := []float32{0.3, -0.2, -1.5, 0.9, 0.1}
	sel, err := intervene.Lowest(poolLabels, poolDV, 2, 2, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("pool picks:", sel)
	// Output:
	// overweight_2 [2 2 1 1]
	// balanced     [1 1 1 1]
	// soft         [2 1.5 0.5 0]
	// pool picks: [2 4 1 3]
}
