package distill

import (
	"fmt"
	"math"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/internal/parallel"
)

// Whitening is the pre-processing of the method: each feature is standardised with the train split's mean and
// standard deviation, then each row is scaled to unit L2 norm.
//
// The standard deviation is that of the mean-centred values with the unbiased (N−1) divisor, as the reference code
// computes it. A feature whose train standard deviation is zero (constant) carries no information and would divide
// by zero; it is mapped to 0 for every input. A row whose whitened values are all zero stays zero (no NaN).
type Whitening struct {
	// Mean and Std hold the per-feature statistics (Std 0 marks a constant feature).
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
	// Rows is the number of train rows the statistics come from; Sample says how they were drawn when they are a
	// sample of the train split (zero: the whole split).
	Rows   int         `json:"rows,omitempty"`
	Sample TrainSample `json:"sample,omitzero"`
}

// FitWhitening computes the statistics of the rows of s (at least two rows are needed for an unbiased standard
// deviation). Sums are accumulated in float64.
func FitWhitening(s Split) (*Whitening, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	n, d := s.Len(), s.Dim()
	if n < 2 {
		return nil, fmt.Errorf("%s: whitening needs at least 2 rows, got %d", s.Name, n)
	}
	mean := make([]float64, d)
	for i := range n {
		for k, v := range s.Latents.Row(i) {
			mean[k] += float64(v)
		}
	}
	for k := range mean {
		mean[k] /= float64(n)
	}
	ss := make([]float64, d)
	for i := range n {
		for k, v := range s.Latents.Row(i) {
			x := float64(v) - mean[k]
			ss[k] += x * x
		}
	}
	w := &Whitening{Mean: make([]float32, d), Std: make([]float32, d), Rows: n}
	for k := range d {
		w.Mean[k] = float32(mean[k])
		w.Std[k] = float32(math.Sqrt(ss[k] / float64(n-1)))
	}
	return w, nil
}

// ConstantFeatures returns the indices of the features whose train standard deviation is zero.
func (w *Whitening) ConstantFeatures() []int {
	var out []int
	for k, s := range w.Std {
		if s == 0 {
			out = append(out, k)
		}
	}
	return out
}

// Dim returns the number of features.
func (w *Whitening) Dim() int { return len(w.Mean) }

// ApplyRow writes the pre-processed version of row x into dst (both of length Dim).
func (w *Whitening) ApplyRow(dst, x []float32) { w.rowFunc()(dst, x) }

// rowFunc returns a function pre-processing one row, with the inverse standard deviations computed once.
func (w *Whitening) rowFunc() func(dst, x []float32) {
	inv := make([]float32, len(w.Std))
	for k, s := range w.Std {
		if s != 0 {
			inv[k] = 1 / s
		}
	}
	mean := w.Mean
	return func(dst, x []float32) {
		for k, v := range x {
			dst[k] = (v - mean[k]) * inv[k] // constant features: inv = 0
		}
		matrix.NormalizeVector(dst)
	}
}

// Apply returns the pre-processed rows of x (a new matrix), in parallel. x must have Dim columns.
func (w *Whitening) Apply(x matrix.Dense) (matrix.Dense, error) {
	if err := x.CheckShape(); err != nil {
		return matrix.Dense{}, fmt.Errorf("whitening: %w", err)
	}
	if x.Cols != w.Dim() {
		return matrix.Dense{}, fmt.Errorf("whitening: rows of dimension %d, the statistics have %d", x.Cols, w.Dim())
	}
	out := matrix.Zeros(x.Rows, x.Cols)
	apply := w.rowFunc()
	parallel.For(x.Rows, func(i int) { apply(out.Row(i), x.Row(i)) })
	return out, nil
}
