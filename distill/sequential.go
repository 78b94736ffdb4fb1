package distill

import (
	"context"
	"fmt"
	"math"

	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/distill/backend"
)

// StatusNoMoreSignal marks a class of a later [FitSequential] round without a new direction: its direction of this
// round (CV figures kept) or of an earlier one fell below SequentialOptions.MinSignal in cross-validation.
const StatusNoMoreSignal Status = "no-more-signal"

// SequentialOptions configures [FitSequential]. The zero value means the defaults given on each field.
type SequentialOptions struct {
	// MaxDirections is the most directions per class (default 3).
	MaxDirections int `json:"max_directions"`
	// MinSignal is the least cross-validated balanced accuracy a later direction needs to count as failure signal
	// (default 0.55; 0.5 is chance). It must also beat chance by two standard errors of a coin-flip classifier on
	// the rows it was fitted on, 0.5 + 2·0.25·√(1/errors + 1/correct), so a direction fitted on a handful of
	// leftover errors does not count. The first direction is [Fit]'s and is always kept.
	MinSignal float64 `json:"min_signal"`
	// RefitAll refits every later direction on all of the class's validation examples (with the earlier
	// directions projected out) instead of only on those no earlier direction flags. Projection alone rarely
	// removes a slice from the data — the SVM's direction is a compromise between failure modes and the L2
	// normalisation leaves the slice other linear traces — so the refit on all examples mostly finds the first
	// slice again (the package's test shows it).
	RefitAll bool `json:"refit_all,omitempty"`
}

func (o SequentialOptions) withDefaults() (SequentialOptions, error) {
	if o.MaxDirections == 0 {
		o.MaxDirections = 3
	}
	if o.MinSignal == 0 {
		o.MinSignal = 0.55
	}
	if o.MaxDirections < 1 {
		return o, fmt.Errorf("distill: FitSequential: MaxDirections %d, want at least 1", o.MaxDirections)
	}
	if !(o.MinSignal >= 0.5 && o.MinSignal <= 1) {
		return o, fmt.Errorf("distill: FitSequential: MinSignal %v, want a balanced accuracy in [0.5, 1]", o.MinSignal)
	}
	return o, nil
}

// Directions are several failure directions per class, from [FitSequential].
type Directions struct {
	// Models[k] holds every class's (k+1)-th direction as a model of its own (same whitening as Models[0]); a
	// class's SVM in Models[k] is orthogonal to its SVMs in Models[0..k-1]. Models[0] is Fit's model.
	Models []*FailureModel
	// Count[c] is the number of directions of class c: its SVMs in Models[0..Count[c]-1] (0 without an SVM).
	Count []int
	// Options are the options with defaults filled in.
	Options SequentialOptions
}

// FitSequential finds up to MaxDirections failure directions per class: the first is [Fit]'s; each next one is
// Fit's recipe again (same whitening, folds and C grid) with the class's earlier directions projected out of the
// pre-processed rows, so it is orthogonal to them, on the class's validation examples that no earlier direction
// flags (decision ≤ 0): the errors the earlier directions leave unexplained (another failure mode). A class stops
// at the first direction whose cross-validated balanced accuracy is below MinSignal ("CV shows no more signal");
// that direction is not counted. Every round is one batched solve on backend b (nil: one chosen by package
// backend, released at the end); the fit stops when ctx is cancelled.
func FitSequential(ctx context.Context, b compute.Backend, train, val Split, opts Options, seq SequentialOptions) (*Directions, error) {
	seq, err := seq.withDefaults()
	if err != nil {
		return nil, err
	}
	if b == nil {
		var berr error
		if b, _, berr = backend.New(backend.Options{}); berr != nil {
			return nil, fmt.Errorf("distill: FitSequential: %w", berr)
		}
		defer b.Finalize()
	}
	first, err := FitContext(ctx, b, train, val, opts)
	if err != nil {
		return nil, err
	}
	d := &Directions{Models: []*FailureModel{first}, Count: make([]int, first.NumClasses()), Options: seq}
	for c, f := range first.Fits {
		if f.Status.HasClassifier() {
			d.Count[c] = 1
		}
	}
	if err := checkFitInputs(&train, &val); err != nil {
		return nil, fmt.Errorf("distill: FitSequential: %w", err)
	}
	for round := 1; round < seq.MaxDirections; round++ {
		project := make([][][]float32, len(d.Count))
		active := 0
		for c, n := range d.Count {
			if n != round {
				continue
			}
			for _, m := range d.Models {
				u, ok := m.Direction(c)
				if !ok {
					return nil, fmt.Errorf("distill: FitSequential: class %d lost its direction %d", c, len(project[c])+1)
				}
				project[c] = append(project[c], u)
			}
			active++
		}
		if active == 0 {
			break
		}
		fitVal := val
		if !seq.RefitAll {
			keep := make([]bool, val.Len())
			for i := range keep {
				keep[i] = true
			}
			for _, m := range d.Models {
				dec, err := m.Decision(val)
				if err != nil {
					return nil, err
				}
				for i, v := range dec {
					if v <= 0 && m.Fits[val.Labels[i]].Status.HasClassifier() {
						keep[i] = false
					}
				}
			}
			var idx []int
			for i, k := range keep {
				if k {
					idx = append(idx, i)
				}
			}
			fitVal = val.Subset(idx)
		}
		m, err := fitProjected(ctx, b, first, fitVal, project)
		if err != nil {
			return nil, fmt.Errorf("distill: FitSequential: direction %d: %w", round+1, err)
		}
		for c := range m.Fits {
			f := &m.Fits[c]
			switch {
			case project[c] == nil:
				status := first.Fits[c].Status
				if status.HasClassifier() {
					status = StatusNoMoreSignal
				}
				*f = ClassFit{Class: c, Status: status, NVal: f.NVal, NErrors: f.NErrors}
			case f.Status.HasClassifier() && f.CVBalancedAcc >= signalThreshold(seq.MinSignal, f.NErrors, f.NVal-f.NErrors):
				d.Count[c]++
			case f.Status.HasClassifier():
				f.Status, f.W, f.B = StatusNoMoreSignal, nil, 0
			}
		}
		d.Models = append(d.Models, m)
	}
	return d, nil
}

// fitProjected fits every class of project (non-nil entries) as Fit does, with first's whitening and options, on
// val's rows with project[c] projected out after pre-processing.
func fitProjected(ctx context.Context, b compute.Backend, first *FailureModel, val Split, project [][][]float32) (*FailureModel, error) {
	opts := first.Options
	model := &FailureModel{Whitening: first.Whitening, Options: opts, Stats: &FitStats{}, Backend: b.Name() + ": " + b.Description()}
	plan, err := planClasses(val, first.NumClasses(), opts.Folds)
	if err != nil {
		return nil, err
	}
	var fitted []int
	plan.maxN = 0
	for _, c := range plan.fitted {
		if project[c] != nil {
			fitted = append(fitted, c)
			plan.maxN = max(plan.maxN, len(plan.rows[c]))
		}
	}
	plan.fitted, plan.project = fitted, project
	model.Fits = plan.fits
	if len(fitted) > 0 {
		if err := solveClasses(ctx, b, model, opts, val, plan); err != nil {
			return nil, err
		}
	}
	return model, nil
}

// signalThreshold is the cross-validated balanced accuracy a later direction needs (see SequentialOptions.MinSignal).
func signalThreshold(minSignal float64, errors, correct int) float64 {
	if errors == 0 || correct == 0 {
		return math.Inf(1)
	}
	return max(minSignal, 0.5+0.5*math.Sqrt(1/float64(errors)+1/float64(correct)))
}

// projectOut removes from v its components along each of the unit vectors us, in order (for orthonormal us, the
// orthogonal projection onto their complement).
func projectOut(v []float32, us [][]float32) {
	for _, u := range us {
		var dot float64
		for k, x := range v {
			dot += float64(x) * float64(u[k])
		}
		if dot == 0 || math.IsNaN(dot) {
			continue
		}
		for k := range v {
			v[k] -= float32(dot * float64(u[k]))
		}
	}
}
