package distill_test

import (
	"fmt"
	"io"
	"log"
	"math/rand/v2"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/matrix"
)

// planted returns a split of n examples per class (2 classes) with 4-d latents. In each class a fifth of the
// examples form a subgroup shifted along feature 0; the base model gets 80% of the subgroup wrong and nearly
// everything else right. Groups marks the subgroup (1).
func planted(name string, n int, rng *rand.Rand) distill.Split {
	s := distill.Split{Name: name, Latents: matrix.Zeros(2*n, 4)}
	for i := range 2 * n {
		class := i / n
		sub := rng.Float64() < 0.2
		row := s.Latents.Row(i)
		for k := range row {
			row[k] = float32(rng.NormFloat64())
		}
		row[1] += float32(3 * class) // the classes differ along feature 1
		wrong := rng.Float64() < 0.02
		if sub {
			row[0] += 4
			wrong = rng.Float64() < 0.8
		}
		pred := class
		if wrong {
			pred = 1 - class
		}
		group := 0
		if sub {
			group = 1
		}
		s.Labels, s.Preds, s.Groups = append(s.Labels, class), append(s.Preds, pred), append(s.Groups, group)
	}
	return s
}

// Fit the per-class failure SVMs on a planted problem, then rank test examples by decision value: the failure
// direction points away from the shifted subgroup, and the hardest test examples are subgroup members.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	train, val, test := planted("train", 300, rng), planted("val", 300, rng), planted("test", 300, rng)

	opts := distill.DefaultOptions()
	opts.Progress = io.Discard                   // no progress bar in this example's output
	m, err := distill.Fit(nil, train, val, opts) // nil: the backend package picks the backend
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range m.Classes() {
		fmt.Printf("class %d: %s, %d of %d validation examples wrong, C = %g\n", c.Class, c.Status, c.NErrors, c.NVal, c.C)
	}
	dir, _ := m.Direction(0)
	fmt.Printf("failure direction of class 0 along feature 0: %.1f\n", dir[0])

	hard, _, err := m.Extremes(test, 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	sub := 0
	for _, i := range hard {
		sub += test.Groups[i]
	}
	fmt.Printf("subgroup members among the 10 hardest test examples of class 0: %d\n", sub)
	// Output:
	// class 0: fitted, 52 of 300 validation examples wrong, C = 1
	// class 1: fitted, 44 of 300 validation examples wrong, C = 1
	// failure direction of class 0 along feature 0: -1.0
	// subgroup members among the 10 hardest test examples of class 0: 10
}
