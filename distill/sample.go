package distill

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// TrainSample draws the rows of the train split the whitening statistics come from. The train split enters the
// method only through the per-feature mean and standard deviation, which a seeded sample of a few thousand rows
// estimates closely; a pipeline that embeds only the sample saves most of the embedding work on large train splits
// (CelebA: 162,770 images; ImageNet: 1.28 million).
//
//	s := distill.TrainSample{Size: 10000, Seed: 0, Of: nTrain}
//	rows := s.Rows()                       // embed only these train images
//	opts.TrainSample = s                   // Fit records the sample in the model
//
// The zero value means every row.
type TrainSample struct {
	// Size is the number of rows drawn; 0 means every row.
	Size int `json:"size,omitempty"`
	// Seed draws the rows.
	Seed uint64 `json:"seed,omitempty"`
	// Of is the number of rows of the full train split. [Fit] sets it from the train split it is given when it
	// draws the sample itself; a caller that passes only the sampled rows sets it.
	Of int `json:"of,omitempty"`
}

// Rows returns the sampled row indices in increasing order: a uniform sample without replacement of Size rows out
// of Of, the same for the same Size, Seed and Of; every row when Size is 0 or at least Of.
func (t TrainSample) Rows() []int {
	n := t.Of
	if t.Size <= 0 || t.Size >= n {
		out := make([]int, max(n, 0))
		for i := range out {
			out[i] = i
		}
		return out
	}
	rng := rand.New(rand.NewPCG(t.Seed, 0x7a1e_5a3d))
	// Floyd's algorithm: Size distinct draws in O(Size).
	chosen := make(map[int]struct{}, t.Size)
	for j := n - t.Size; j < n; j++ {
		k := rng.IntN(j + 1)
		if _, dup := chosen[k]; dup {
			k = j
		}
		chosen[k] = struct{}{}
	}
	out := make([]int, 0, t.Size)
	for k := range chosen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Sampled reports whether the sample holds fewer rows than the train split.
func (t TrainSample) Sampled() bool { return t.Size > 0 && t.Size < t.Of }

// validate checks the sample's fields.
func (t TrainSample) validate() error {
	if t.Size < 0 || t.Of < 0 {
		return fmt.Errorf("distill: train sample size %d of %d rows: sizes must not be negative", t.Size, t.Of)
	}
	return nil
}
