package distill

import "fmt"

// Evaluation gathers the method's metrics on a labelled split (see [FailureModel.Evaluate]).
type Evaluation struct {
	// Decisions are the decision values of every example of the split, in split order.
	Decisions []float32 `json:"-"`
	// Global is the error-prediction quality over every example (classes without an SVM count with decision 0,
	// i.e. flagged as errors, as in the reference code).
	Global ErrorMetrics `json:"global"`
	// PerClass and MeanPerClass cover the classes with an SVM.
	PerClass     []ClassErrorMetrics `json:"per_class"`
	MeanPerClass ErrorMetrics        `json:"mean_per_class"`
	// Surfacing is the top-K subgroup metric over the classes with an SVM (nil without Groups and Confs).
	Surfacing *SurfacingCurves `json:"surfacing,omitempty"`
	// Skipped lists the classes without an SVM.
	Skipped []int `json:"skipped_classes"`
}

// Evaluate computes the decision values of s and the metrics of [ErrorPrediction] and, when s has Groups and
// Confs, of [Surfacing] for subgroup minority at each K of ks. s needs Labels and Preds.
func (m *FailureModel) Evaluate(s Split, minority int, ks []int) (*Evaluation, error) {
	if err := s.requireLabels(true); err != nil {
		return nil, fmt.Errorf("distill: Evaluate: %w", err)
	}
	dec, err := m.Decision(s)
	if err != nil {
		return nil, fmt.Errorf("distill: Evaluate: %w", err)
	}
	ev := &Evaluation{Decisions: dec, Skipped: m.Skipped()}
	all, err := ErrorPrediction(dec, s.Labels, s.Preds, nil)
	if err != nil {
		return nil, err
	}
	ev.Global = all.Global
	var fitted []int
	for _, c := range m.Fits {
		if c.Status.HasClassifier() {
			fitted = append(fitted, c.Class)
		}
	}
	if len(fitted) == 0 {
		return ev, nil
	}
	per, err := ErrorPrediction(dec, s.Labels, s.Preds, fitted)
	if err != nil {
		return nil, err
	}
	ev.PerClass, ev.MeanPerClass = per.PerClass, per.MeanPerClass
	if len(s.Groups) > 0 && len(s.Confs) > 0 && len(ks) > 0 {
		correct := make([]bool, s.Len())
		for i := range correct {
			correct[i] = s.Correct(i)
		}
		ev.Surfacing, err = Surfacing(SurfacingInput{Decisions: dec, Confs: s.Confs, Labels: s.Labels,
			Groups: s.Groups, Minority: minority, Correct: correct, Classes: fitted}, ks)
		if err != nil {
			return nil, fmt.Errorf("distill: Evaluate: %w", err)
		}
	}
	return ev, nil
}
