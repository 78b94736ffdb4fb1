package distill

import (
	"cmp"
	"context"
	"math"
	"slices"
	"testing"

	"github.com/faildirs/faildirs/distill/internal/twoslices"
)

// twoSlices returns package twoslices' planted problem as a split (see its doc: class 0 with two slices at an
// obtuse angle, class 1 with one; the base model errs on 90 % of every slice and 1 % of the rest).
func twoSlices(seed uint64, name string, perClass int) Split {
	d := twoslices.Generate(seed, perClass)
	return Split{Name: name, Latents: d.Latents, Labels: d.Labels, Preds: d.Preds, Groups: d.Groups, Confs: d.Confs}
}

// topShare returns the share of group g among the k examples of class c with the lowest decisions.
func topShare(s Split, dec []float32, c, g, k int) float64 {
	var idx []int
	for i, l := range s.Labels {
		if l == c {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(dec[a], dec[b]) })
	n := 0
	for _, i := range idx[:k] {
		if s.Groups[i] == g {
			n++
		}
	}
	return float64(n) / float64(k)
}

// TestFitSequentialFindsTheSecondSlice: in class 0 the first direction surfaces the larger slice and the second
// direction, orthogonal to it, the other one; class 1 plants one slice, and its second direction shows no signal.
// Refitting on all examples instead finds the first slice again.
func TestFitSequentialFindsTheSecondSlice(t *testing.T) {
	for _, seed := range []uint64{1, 4, 7} {
		train, val, test := twoSlices(seed, "train", 800), twoSlices(seed+1, "val", 800), twoSlices(seed+2, "test", 800)
		dirs, err := FitSequential(context.Background(), goBackend(t), train, val, testOptions(), SequentialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if dirs.Count[0] < 2 || dirs.Count[1] != 1 {
			t.Fatalf("seed %d: directions per class %v, want at least 2 for class 0 and 1 for class 1", seed, dirs.Count)
		}
		if s := dirs.Models[1].Fits[1].Status; s != StatusNoMoreSignal {
			t.Errorf("seed %d: class 1's second direction has status %s, want %s", seed, s, StatusNoMoreSignal)
		}
		dec := make([][]float32, 2)
		for k := range dec {
			if dec[k], err = dirs.Models[k].Decision(test); err != nil {
				t.Fatal(err)
			}
		}
		first, second := topShare(test, dec[0], 0, 1, 40), topShare(test, dec[1], 0, 2, 40)
		t.Logf("seed %d: share of slice 1 among the 40 hardest by direction 1: %.2f; of slice 2 by direction 2: %.2f (CV balanced accuracy %.3f, %.3f)",
			seed, first, second, dirs.Models[0].Fits[0].CVBalancedAcc, dirs.Models[1].Fits[0].CVBalancedAcc)
		if first < 0.9 || second < 0.8 {
			t.Errorf("seed %d: direction 1 surfaces slice 1 at %.2f (want ≥ 0.9), direction 2 slice 2 at %.2f (want ≥ 0.8)", seed, first, second)
		}
		// The second direction is orthogonal to the first in the pre-processed space.
		u1, _ := dirs.Models[0].Direction(0)
		u2, _ := dirs.Models[1].Direction(0)
		var dot float64
		for k := range u1 {
			dot += float64(u1[k]) * float64(u2[k])
		}
		if math.Abs(dot) > 1e-5 {
			t.Errorf("seed %d: directions 1 and 2 of class 0 have cosine %g, want 0", seed, dot)
		}
		all, err := FitSequential(context.Background(), goBackend(t), train, val, testOptions(), SequentialOptions{RefitAll: true, MinSignal: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Models) > 1 && all.Models[1].Fits[0].Status.HasClassifier() {
			d2, _ := all.Models[1].Decision(test)
			again, other := topShare(test, d2, 0, 1, 40), topShare(test, d2, 0, 2, 40)
			t.Logf("seed %d: refit on all examples: direction 2 surfaces slice 1 at %.2f, slice 2 at %.2f", seed, again, other)
			if other > 0.2 {
				t.Errorf("seed %d: refitting on all examples found slice 2 (%.2f): update RefitAll's doc", seed, other)
			}
		}
	}
}

func TestFitSequentialOptions(t *testing.T) {
	train, val := twoSlices(1, "train", 200), twoSlices(2, "val", 200)
	one, err := FitSequential(context.Background(), goBackend(t), train, val, testOptions(), SequentialOptions{MaxDirections: 1})
	if err != nil || len(one.Models) != 1 || one.Count[0] != 1 {
		t.Fatalf("MaxDirections 1: %v, counts %v", err, one.Count)
	}
	for _, bad := range []SequentialOptions{{MaxDirections: -1}, {MinSignal: 0.3}, {MinSignal: 1.2}} {
		if _, err := FitSequential(context.Background(), goBackend(t), train, val, testOptions(), bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
}
