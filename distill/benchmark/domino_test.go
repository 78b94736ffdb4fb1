package benchmark

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faildirs/faildirs/distill/matrix"
)

// TestFitMixtureSeparatesErrorSlices: one class whose examples form two clusters of the same shape, the base model
// right on one and wrong on most of the other. The error-aware mixture puts the clusters in different components,
// and the error slice's component has the high error rate; posteriors are probabilities.
func TestFitMixtureSeparatesErrorSlices(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d = 400, 6
	x := matrix.Zeros(n, d)
	labels, preds := make([]int, n), make([]int, n)
	slice := make([]bool, n)
	for i := range n {
		slice[i] = i%4 == 0
		for k := range d {
			x.Row(i)[k] = float32(0.3 * rng.NormFloat64())
		}
		if slice[i] {
			x.Row(i)[2] += 2
			if rng.Float64() < 0.8 {
				preds[i] = 1
			}
		}
	}
	m, err := FitMixture(x, labels, preds, 2, 4, DominoOptions{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := m.LogPosterior(x, labels, preds)
	if err != nil {
		t.Fatal(err)
	}
	top := m.topSlices(lp, labels, preds, 2)[0]
	var hit, inTop int
	for i, row := range lp {
		var s float64
		best := 0
		for j, v := range row {
			s += math.Exp(v)
			if v > row[best] {
				best = j
			}
		}
		if math.Abs(s-1) > 1e-9 {
			t.Fatalf("row %d: posterior sums to %v", i, s)
		}
		if best == top {
			inTop++
			if slice[i] {
				hit++
			}
		}
	}
	t.Logf("%d iterations, log-likelihood %.3f; top slice: %d examples, %d of them in the planted slice (100)", m.Iterations, m.LogLikelihood, inTop, hit)
	if inTop == 0 || float64(hit)/float64(inTop) < 0.9 || hit < 60 {
		t.Errorf("the top slice holds %d examples, %d from the planted slice: want mostly the slice's errors", inTop, hit)
	}
	if _, err := FitMixture(x, labels[:3], preds, 2, 4, DominoOptions{}, 1); err == nil {
		t.Error("mismatched labels accepted")
	}
	if _, err := FitMixture(x, labels, preds, 2, n+1, DominoOptions{}, 1); err == nil {
		t.Error("more components than rows accepted")
	}
}
