package intervene

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestWeights checks every scheme on cases computed by hand. Class 0 has decision values −1, 0, 2 (two flagged:
// ≤ 0), class 1 has 1, −3 (one flagged).
func TestWeights(t *testing.T) {
	labels := []int{0, 0, 0, 1, 1}
	dv := []float32{-1, 0, 2, 1, -3}
	tests := []struct {
		name   string
		scheme Scheme
		labels []int
		dv     []float32
		skip   []bool
		want   []float32
	}{
		{"overweight_2", Overweight2, labels, dv, nil, []float32{2, 2, 1, 1, 2}},
		// Class 0: n=3, 2 flagged → 3/(2·2) = 0.75 and 3/(2·1) = 1.5; class 1: n=2, 1 flagged → 1 and 1.
		{"balanced", Balanced, labels, dv, nil, []float32{0.75, 0.75, 1.5, 1, 1}},
		// Class 0: −dv = 1, 0, −2 → minus its min: 3, 2, 0, mean 5/3 → 1.8, 1.2, 0; class 1: −dv = −1, 3 → 0, 4,
		// mean 2 → 0, 2.
		{"soft", Soft, labels, dv, nil, []float32{1.8, 1.2, 0, 0, 2}},
		{"balanced, nothing flagged", Balanced, []int{0, 0, 1}, []float32{1, 2, 0.5}, nil, []float32{1, 1, 1}},
		{"balanced, everything flagged", Balanced, []int{0, 0}, []float32{-1, -2}, nil, []float32{1, 1}},
		{"soft, equal decision values", Soft, []int{0, 0, 0}, []float32{0.3, 0.3, 0.3}, nil, []float32{1, 1, 1}},
		{"class without an SVM keeps 1", Overweight2, labels, dv, []bool{true, false}, []float32{1, 1, 1, 1, 2}},
		{"no examples", Soft, nil, nil, nil, []float32{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Weights(tc.scheme, tc.labels, tc.dv, 2, tc.skip)
			if err != nil {
				t.Fatal(err)
			}
			if !closeAll(got, tc.want) {
				t.Fatalf("weights %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWeightsKeepClassTotals: balanced and soft keep each class's total weight at its size.
func TestWeightsKeepClassTotals(t *testing.T) {
	labels := []int{0, 1, 0, 1, 0, 1, 0, 0}
	dv := []float32{-0.5, 0.25, 0.75, -2, 0.5, 1, -0.25, 3}
	for _, sc := range []Scheme{Balanced, Soft} {
		w, err := Weights(sc, labels, dv, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tot [2]float64
		var n [2]int
		for i, l := range labels {
			tot[l] += float64(w[i])
			n[l]++
		}
		for c := range 2 {
			if math.Abs(tot[c]-float64(n[c])) > 1e-5 {
				t.Errorf("%s: class %d total weight %v, want %d", sc, c, tot[c], n[c])
			}
		}
	}
}

// TestOracleWeights: the oracle flags the true minority examples.
func TestOracleWeights(t *testing.T) {
	labels := []int{0, 0, 0, 0, 1, 1}
	minority := []bool{true, false, false, false, false, true}
	w, err := OracleWeights(Balanced, labels, minority, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Class 0: n=4, 1 minority → 4/2 = 2 and 4/6; class 1: n=2, 1 minority → 1 and 1.
	if want := []float32{2, 4.0 / 6, 4.0 / 6, 4.0 / 6, 1, 1}; !closeAll(w, want) {
		t.Fatalf("oracle balanced %v, want %v", w, want)
	}
	w, err = OracleWeights(Overweight2, labels, minority, 2)
	if err != nil || !slices.Equal(w, []float32{2, 1, 1, 1, 1, 2}) {
		t.Fatalf("oracle overweight_2 %v, %v", w, err)
	}
}

func TestWeightsErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"NaN", errOf(Weights(Soft, []int{0, 0}, []float32{0, float32(math.NaN())}, 1, nil)), "decision value 1 (label 0) is NaN"},
		{"label", errOf(Weights(Balanced, []int{0, 2}, []float32{0, 1}, 2, nil)), "label 2 of example 1 outside the 2 classes"},
		{"lengths", errOf(Weights(Balanced, []int{0, 1}, []float32{0}, 2, nil)), "1 decision values for 2 labels"},
		{"scheme", errOf(Weights("hard", []int{0}, []float32{0}, 1, nil)), `unknown reweighting scheme "hard"`},
		{"soft oracle", errOf(OracleWeights(Soft, []int{0}, []bool{true}, 1)), "the oracle has schemes overweight_2 and balanced"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, c.err, c.want)
		}
	}
}

func errOf(_ []float32, err error) error { return err }

func closeAll(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			return false
		}
	}
	return true
}
