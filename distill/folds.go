package distill

import (
	"fmt"
	"slices"
)

// StratifiedFolds assigns each example to one of k test folds, stratified by its label y, deterministically and
// without shuffling, exactly as scikit-learn's StratifiedKFold(n_splits=k, shuffle=False) does (the splitter the
// reference code's cross_val_score(cv=2) uses):
//
//   - labels are numbered by order of first appearance;
//   - the per-fold count of each label is read off the sorted labels dealt round-robin to the k folds;
//   - each label's examples, in data order, fill fold 0 first, then fold 1, and so on.
//
// It returns fold[i] in [0, k). Every label must occur at least k times (otherwise some training half would lack
// it); the error says which label does not.
func StratifiedFolds(y []int, k int) ([]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("stratified folds: k=%d, want at least 2", k)
	}
	// Encode labels by order of appearance.
	code := map[int]int{}
	var order []int // code → original label
	enc := make([]int, len(y))
	for i, v := range y {
		c, ok := code[v]
		if !ok {
			c = len(order)
			code[v] = c
			order = append(order, v)
		}
		enc[i] = c
	}
	nc := len(order)
	counts := make([]int, nc)
	for _, c := range enc {
		counts[c]++
	}
	for c, n := range counts {
		if n < k {
			return nil, fmt.Errorf("stratified folds: label %d occurs %d times, fewer than k=%d folds", order[c], n, k)
		}
	}
	sorted := slices.Clone(enc)
	slices.Sort(sorted)
	alloc := make([][]int, k) // alloc[fold][label]
	for f := range k {
		alloc[f] = make([]int, nc)
		for i := f; i < len(sorted); i += k {
			alloc[f][sorted[i]]++
		}
	}
	fold := make([]int, len(y))
	next := make([]int, nc)   // current fold of each label
	filled := make([]int, nc) // examples already put in that fold
	for i, c := range enc {
		for filled[c] >= alloc[next[c]][c] {
			next[c]++
			filled[c] = 0
		}
		fold[i] = next[c]
		filled[c]++
	}
	return fold, nil
}
