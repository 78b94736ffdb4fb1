package distill

import (
	"io"
	"math"
	"slices"
	"testing"
)

func TestSpearman(t *testing.T) {
	// scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233 (average ranks for the tie).
	if got := Spearman([]float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}); math.Abs(got-0.8207826816681233) > 1e-12 {
		t.Errorf("spearman = %.16g, want 0.8207826816681233", got)
	}
	if got := Spearman([]float64{3, 1, 2}, []float64{30, 10, 20}); got != 1 {
		t.Errorf("monotone: %v", got)
	}
	if got := Spearman([]float64{1, 1, 1}, []float64{1, 2, 3}); !math.IsNaN(got) {
		t.Errorf("constant input: %v, want NaN", got)
	}
}

func TestTrainSampleRows(t *testing.T) {
	s := TrainSample{Size: 300, Seed: 4, Of: 5000}
	rows := s.Rows()
	if len(rows) != 300 || !slices.IsSorted(rows) || rows[0] < 0 || rows[len(rows)-1] >= 5000 {
		t.Fatalf("%d rows, sorted %v, range [%d, %d]", len(rows), slices.IsSorted(rows), rows[0], rows[len(rows)-1])
	}
	if len(slices.Compact(slices.Clone(rows))) != 300 {
		t.Fatal("repeated rows")
	}
	if !slices.Equal(rows, s.Rows()) {
		t.Fatal("the same sample drew different rows")
	}
	if other := (TrainSample{Size: 300, Seed: 5, Of: 5000}).Rows(); slices.Equal(rows, other) {
		t.Fatal("another seed drew the same rows")
	}
	// Uniform: each half of the range gets about half of the rows.
	low := 0
	for _, r := range rows {
		if r < 2500 {
			low++
		}
	}
	if low < 120 || low > 180 {
		t.Errorf("%d of 300 rows below the middle", low)
	}
	for _, all := range []TrainSample{{Size: 0, Of: 7}, {Size: 7, Of: 7}, {Size: 9, Of: 7}} {
		if got := all.Rows(); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6}) || all.Sampled() {
			t.Errorf("%+v: rows %v, sampled %v; want every row", all, got, all.Sampled())
		}
	}
}

// TestFitWithTrainSample fits a planted problem with whitening statistics from a 3,000-row sample of a 9,000-row
// train split: the decisions keep their order (Spearman ≥ 0.999 against full statistics) and every class the same
// C; a split holding only the sampled rows gives the same model; the model records the sample.
func TestFitWithTrainSample(t *testing.T) {
	train, _, _, _ := synthetic(11, 3, 3000, 32, 0.25, 4) // the whitening is the only use of train
	_, val, test, _ := synthetic(11, 3, 400, 32, 0.25, 4)
	b := goBackend(t)
	opts := testOptions()
	full, err := Fit(b, train, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.TrainSample = TrainSample{Size: 3000, Seed: 1}
	sampled, err := Fit(b, train, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ws := sampled.Whitening; ws.Rows != 3000 || ws.Sample != (TrainSample{Size: 3000, Seed: 1, Of: train.Len()}) || full.Whitening.Rows != train.Len() {
		t.Fatalf("recorded rows %d sample %+v (full: %d rows)", ws.Rows, ws.Sample, full.Whitening.Rows)
	}
	d1, _ := full.Decision(test)
	d2, _ := sampled.Decision(test)
	rho := Spearman(f64(d1), f64(d2))
	t.Logf("Spearman of test decisions, 3,000-row sample vs all 9,000 rows: %.6f", rho)
	if rho < 0.999 {
		t.Errorf("Spearman of test decisions, sample vs full statistics: %.5f", rho)
	}
	for c := range full.Fits {
		if full.Fits[c].C != sampled.Fits[c].C {
			t.Errorf("class %d: C %v with the sample, %v with the full split", c, sampled.Fits[c].C, full.Fits[c].C)
		}
	}
	// The caller embeds only the sampled rows.
	opts.TrainSample.Of = train.Len()
	only, err := Fit(b, train.Subset(opts.TrainSample.Rows()), val, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(only.Whitening.Mean, sampled.Whitening.Mean) || !slices.Equal(only.Whitening.Std, sampled.Whitening.Std) {
		t.Error("the sampled rows alone whiten differently from the sample drawn by Fit")
	}
	// Neither the split nor its sample.
	if _, err := Fit(b, train.Subset([]int{0, 1, 2}), val, opts); err == nil {
		t.Error("a train split of 3 rows was taken for a sample of 3000 of 9000")
	}
	if _, err := Fit(b, train, val, Options{TrainSample: TrainSample{Size: -1}, Progress: io.Discard}); err == nil {
		t.Error("a negative sample size was accepted")
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
