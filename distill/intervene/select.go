package intervene

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Selector is a way of choosing pool examples to add to the training set, K per class.
type Selector string

// The pool selections of the reference code's CIFAR interventions; every one takes the same number per class.
const (
	// SelectSVM takes each class's K pool examples with the lowest decision value of their true class's SVM.
	SelectSVM Selector = "svm"
	// SelectConfidence takes each class's K pool examples on which the base model is least confident in the true
	// class.
	SelectConfidence Selector = "confidence"
	// SelectRandom takes K pool examples of each class at random (seeded).
	SelectRandom Selector = "random"
)

// Selectors lists the pool selections in the order reports show them.
var Selectors = []Selector{SelectSVM, SelectConfidence, SelectRandom}

// Lowest returns, for each class, the indices of its k examples with the lowest score (all of them when it has
// fewer), class by class, lowest first; ties keep index order. Classes listed in skip get none. Scores must not be
// NaN.
func Lowest(labels []int, scores []float32, numClasses, k int, skip []bool) ([]int, error) {
	if len(scores) != len(labels) {
		return nil, fmt.Errorf("intervene: %d scores for %d labels", len(scores), len(labels))
	}
	if err := checkSelect(labels, numClasses, k); err != nil {
		return nil, err
	}
	for i, s := range scores {
		if math.IsNaN(float64(s)) {
			return nil, fmt.Errorf("intervene: score of example %d is NaN", i)
		}
	}
	var out []int
	for c, idx := range byClass(labels, numClasses) {
		if c < len(skip) && skip[c] {
			continue
		}
		idx = slices.Clone(idx)
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
		out = append(out, idx[:min(k, len(idx))]...)
	}
	return out, nil
}

// Random returns, for each class, k of its examples drawn without replacement (all of them when it has fewer),
// class by class, in draw order. The draw depends only on the seed and the class's examples, so a larger k extends
// a smaller one's choice.
func Random(labels []int, numClasses, k int, seed uint64) ([]int, error) {
	if err := checkSelect(labels, numClasses, k); err != nil {
		return nil, err
	}
	var out []int
	for c, idx := range byClass(labels, numClasses) {
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		perm := rng.Perm(len(idx))
		for _, j := range perm[:min(k, len(idx))] {
			out = append(out, idx[j])
		}
	}
	return out, nil
}

func checkSelect(labels []int, numClasses, k int) error {
	if k < 1 {
		return fmt.Errorf("intervene: budget K = %d per class, want ≥ 1", k)
	}
	return checkLabels(labels, numClasses)
}
