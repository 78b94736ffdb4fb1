package distill

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/internal/parallel"
)

// Status says whether a class got a failure direction and, if not, why.
type Status string

const (
	// StatusFitted: the class has an SVM (and a failure direction).
	StatusFitted Status = "fitted"
	// StatusNoErrors: the base model made no error on the class's validation examples — no failure signal.
	StatusNoErrors Status = "no-errors"
	// StatusOnlyErrors: the base model got every validation example of the class wrong — no failure signal.
	StatusOnlyErrors Status = "only-errors"
	// StatusTooFewForCV: errors or correct predictions are fewer than the cross-validation folds, so some training
	// half would have a single outcome — too little failure signal to choose C; no SVM (the reference code skips
	// these classes too).
	StatusTooFewForCV Status = "too-few-for-cv"
	// StatusNoData: the class has no validation examples.
	StatusNoData Status = "no-data"
)

// HasClassifier reports whether the status carries an SVM.
func (s Status) HasClassifier() bool { return s == StatusFitted }

// ClassFit describes the fit of one class: its status and, when fitted, its SVM.
type ClassFit struct {
	// Class is the class index.
	Class int `json:"class"`
	// Status says whether the class has an SVM.
	Status Status `json:"status"`
	// NVal is the number of validation examples of the class, NErrors how many the base model got wrong.
	NVal    int `json:"n_val"`
	NErrors int `json:"n_errors"`
	// C is the chosen cost (0 without an SVM).
	C float64 `json:"c"`
	// CVBalancedAcc is the mean cross-validated balanced accuracy at C (0 without an SVM).
	CVBalancedAcc float64 `json:"cv_balanced_acc"`
	// CVByC holds the mean cross-validated balanced accuracy of every C of the grid, in grid order.
	CVByC []float64 `json:"cv_by_c,omitempty"`
	// CVAUROCByC holds the mean cross-validated AUROC of the decision values for "correct" of every C (0.5 where
	// a held-out fold has a single outcome).
	CVAUROCByC []float64 `json:"cv_auroc_by_c,omitempty"`
	// Gap is the certified relative duality gap of the refit SVM; Iterations its solver iterations; Converged
	// whether the gap reached the tolerance.
	Gap        float64 `json:"gap"`
	Iterations int     `json:"iterations"`
	Converged  bool    `json:"converged"`
	// W and B are the SVM in the pre-processed (whitened, L2-normalised) space: decision(x) = W·pre(x) + B.
	W []float32 `json:"w,omitempty"`
	B float32   `json:"b"`
}

// FailureModel is the fitted method: the pre-processing and one linear SVM per class predicting, from an
// example's latent vector, whether the base model classified it correctly (positive decision) or not (negative).
// [Fit] returns it; [Load] and [Read] read a saved one.
type FailureModel struct {
	// Whitening holds the train statistics.
	Whitening *Whitening
	// Fits holds one entry per class, indexed by class.
	Fits []ClassFit
	// Options are the options the model was fitted with (with defaults filled in).
	Options Options
	// Backend names the compute backend that fitted the model.
	Backend string
	// Stats reports where the time of the fit went; nil for a model read from a file.
	Stats *FitStats
	// Warnings report degenerate data found by the fit (see [Warning]); saved with the model.
	Warnings []Warning
}

// Dim returns the latent dimension.
func (m *FailureModel) Dim() int { return m.Whitening.Dim() }

// NumClasses returns the number of classes the model knows.
func (m *FailureModel) NumClasses() int { return len(m.Fits) }

// Classes returns a copy of the per-class fits.
func (m *FailureModel) Classes() []ClassFit {
	out := make([]ClassFit, len(m.Fits))
	for i, c := range m.Fits {
		c.W = slices.Clone(c.W)
		c.CVByC = slices.Clone(c.CVByC)
		c.CVAUROCByC = slices.Clone(c.CVAUROCByC)
		out[i] = c
	}
	return out
}

// Skipped returns the classes without an SVM, in increasing order.
func (m *FailureModel) Skipped() []int {
	var out []int
	for _, c := range m.Fits {
		if !c.Status.HasClassifier() {
			out = append(out, c.Class)
		}
	}
	return out
}

// classifier returns the fit of class c if it has an SVM.
func (m *FailureModel) classifier(c int) (*ClassFit, error) {
	if c < 0 || c >= len(m.Fits) {
		return nil, fmt.Errorf("class %d out of range [0, %d)", c, len(m.Fits))
	}
	info := &m.Fits[c]
	if !info.Status.HasClassifier() {
		return nil, fmt.Errorf("class %d has no failure direction (%s)", c, info.Status)
	}
	return info, nil
}

// Direction returns the failure direction of class c, W/‖W‖, in the pre-processed space (ok false when the class
// has no SVM or its W is zero). Moving along it makes examples "easier"; the failure mode lies towards −direction.
func (m *FailureModel) Direction(c int) ([]float32, bool) {
	info, err := m.classifier(c)
	if err != nil {
		return nil, false
	}
	var n float64
	for _, v := range info.W {
		n += float64(v) * float64(v)
	}
	if n == 0 {
		return nil, false
	}
	n = math.Sqrt(n)
	out := make([]float32, len(info.W))
	for i, v := range info.W {
		out[i] = float32(float64(v) / n)
	}
	return out, true
}

// decide returns W·pre(x) + B using buf (length Dim) as scratch; apply is the whitening's row function.
func decide(info *ClassFit, apply func(dst, x []float32), x, buf []float32) float32 {
	apply(buf, x)
	s := float64(info.B)
	for k, v := range buf {
		s += float64(info.W[k]) * float64(v)
	}
	return float32(s)
}

// DecisionFor returns the decision values of class c's SVM for arbitrary latent vectors, one per row of vecs (for
// instance text embeddings of captions), through the same pre-processing. It fails if c has no SVM or vecs has
// the wrong number of columns.
func (m *FailureModel) DecisionFor(c int, vecs matrix.Dense) ([]float32, error) {
	info, err := m.classifier(c)
	if err != nil {
		return nil, fmt.Errorf("distill: DecisionFor: %w", err)
	}
	if err := vecs.CheckShape(); err != nil {
		return nil, fmt.Errorf("distill: DecisionFor: %w", err)
	}
	if vecs.Rows > 0 && vecs.Cols != m.Dim() {
		return nil, fmt.Errorf("distill: DecisionFor: vectors have dimension %d, want %d", vecs.Cols, m.Dim())
	}
	out := make([]float32, vecs.Rows)
	buf := make([]float32, m.Dim())
	apply := m.Whitening.rowFunc()
	for i := range vecs.Rows {
		out[i] = decide(info, apply, vecs.Row(i), buf)
	}
	return out, nil
}

// Decision returns, for every example of s, the decision value of the SVM of its true class: negative means the
// base model is predicted to fail on it. Examples of classes without an SVM (see [FailureModel.Skipped]) or with labels
// outside the model's classes get 0 — which counts as a predicted failure, as in the reference code.
func (m *FailureModel) Decision(s Split) ([]float32, error) {
	if err := m.checkSplit(&s); err != nil {
		return nil, fmt.Errorf("distill: Decision: %w", err)
	}
	n := s.Len()
	out := make([]float32, n)
	apply := m.Whitening.rowFunc()
	parallel.For(n, func(i int) {
		c := s.Labels[i]
		if c >= len(m.Fits) || !m.Fits[c].Status.HasClassifier() {
			return
		}
		buf := make([]float32, m.Dim())
		out[i] = decide(&m.Fits[c], apply, s.Latents.Row(i), buf)
	})
	return out, nil
}

func (m *FailureModel) checkSplit(s *Split) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Dim() != m.Dim() {
		return fmt.Errorf("%s: latent dimension %d, the model's is %d", s.Name, s.Dim(), m.Dim())
	}
	return s.requireLabels(false)
}

// Extremes returns the indices (into s) of the k examples of class c with the most negative decision values
// ("hard": most failure-like, most negative first) and of the k with the most positive ("easy", most positive
// first); fewer when the class has fewer examples. Ties keep split order.
func (m *FailureModel) Extremes(s Split, c, k int) (hard, easy []int, err error) {
	if _, err := m.classifier(c); err != nil {
		return nil, nil, fmt.Errorf("distill: Extremes: %w", err)
	}
	if err := m.checkSplit(&s); err != nil {
		return nil, nil, fmt.Errorf("distill: Extremes: %w", err)
	}
	type item struct {
		i int
		d float32
	}
	var items []item
	buf := make([]float32, m.Dim())
	apply := m.Whitening.rowFunc()
	for i, l := range s.Labels {
		if l == c {
			items = append(items, item{i, decide(&m.Fits[c], apply, s.Latents.Row(i), buf)})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.d, b.d) })
	k = min(max(k, 0), len(items))
	for j := range k {
		hard = append(hard, items[j].i)
	}
	desc := slices.Clone(items)
	slices.SortStableFunc(desc, func(a, b item) int { return cmp.Compare(b.d, a.d) })
	for j := range k {
		easy = append(easy, desc[j].i)
	}
	return hard, easy, nil
}
