package distill

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// File format of a saved [FailureModel] (version 1): one JSON object,
//
//	{
//	  "format":  "faildirs.distill.model",
//	  "version": 1,
//	  "dim":     512,                         // latent dimension D
//	  "options": {"cs": [...], "folds": 2, "tol": 0.001, "max_iter": 5000, "num_classes": 0, "compat": "reference"},
//	  "backend": "go (...)",                  // informative only
//	  "whitening": {"mean": [D floats], "std": [D floats]},   // std 0 = constant feature
//	  "classes": [                            // one object per class, index = class
//	    {"class": 0, "status": "fitted", "n_val": 9000, "n_errors": 1026,
//	     "c": 1, "cv_balanced_acc": 0.67, "cv_by_c": [7 floats], "cv_auroc_by_c": [7 floats],
//	     "gap": 0.0007, "iterations": 125, "converged": true,
//	     "w": [D floats], "b": 0.02},         // w and b absent / zero unless status is "fitted"
//	    ...],
//	  "warnings": [{"code": "constant-features", "message": "..."}]   // optional: degenerate data found by Fit
//	}
//
// Floats are float32 values written with the shortest decimal that reads back to the same float32, so a
// save/load round trip is exact. Readers must reject an unknown "format" or a "version" they do not know.
const (
	// ModelFormat is the "format" field of a saved model.
	ModelFormat = "faildirs.distill.model"
	// ModelVersion is the "version" written by [FailureModel.Write].
	ModelVersion = 1
)

type savedModel struct {
	Format    string     `json:"format"`
	Version   int        `json:"version"`
	Dim       int        `json:"dim"`
	Options   Options    `json:"options"`
	Backend   string     `json:"backend,omitempty"`
	Whitening *Whitening `json:"whitening"`
	Classes   []ClassFit `json:"classes"`
	Warnings  []Warning  `json:"warnings,omitempty"`
}

// Write writes the model to w in the format documented above.
func (m *FailureModel) Write(w io.Writer) error {
	if m == nil || m.Whitening == nil {
		return fmt.Errorf("distill: Write: empty model")
	}
	enc := json.NewEncoder(w)
	return enc.Encode(savedModel{Format: ModelFormat, Version: ModelVersion, Dim: m.Dim(), Options: m.Options,
		Backend: m.Backend, Whitening: m.Whitening, Classes: m.Fits, Warnings: m.Warnings})
}

// Save writes the model to path atomically (internal/atomicfile), in the format of [FailureModel.Write].
func (m *FailureModel) Save(path string) error {
	if err := atomicfile.Write(path, m.Write); err != nil {
		return fmt.Errorf("distill: Save: %w", err)
	}
	return nil
}

// Read reads a model written by [FailureModel.Write] and checks its consistency.
func Read(r io.Reader) (*FailureModel, error) {
	var s savedModel
	dec := json.NewDecoder(r)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("distill: Read: %w", err)
	}
	if s.Format != ModelFormat {
		return nil, fmt.Errorf("distill: Read: format %q, want %q", s.Format, ModelFormat)
	}
	if s.Version != ModelVersion {
		return nil, fmt.Errorf("distill: Read: version %d not supported (this code reads version %d)", s.Version, ModelVersion)
	}
	if s.Whitening == nil || s.Dim <= 0 || len(s.Whitening.Mean) != s.Dim || len(s.Whitening.Std) != s.Dim {
		return nil, fmt.Errorf("distill: Read: whitening statistics do not match dim %d", s.Dim)
	}
	for k := range s.Dim {
		if !finite(s.Whitening.Mean[k]) || !finite(s.Whitening.Std[k]) || s.Whitening.Std[k] < 0 {
			return nil, fmt.Errorf("distill: Read: invalid whitening statistics for feature %d", k)
		}
	}
	for i, c := range s.Classes {
		if c.Class != i {
			return nil, fmt.Errorf("distill: Read: class entry %d has class %d", i, c.Class)
		}
		switch c.Status {
		case StatusFitted:
			if len(c.W) != s.Dim {
				return nil, fmt.Errorf("distill: Read: class %d: len(w)=%d, want %d", i, len(c.W), s.Dim)
			}
			for _, v := range append(c.W, c.B) {
				if !finite(v) {
					return nil, fmt.Errorf("distill: Read: class %d: non-finite SVM weights", i)
				}
			}
		case StatusNoErrors, StatusOnlyErrors, StatusTooFewForCV, StatusNoData:
		default:
			return nil, fmt.Errorf("distill: Read: class %d: unknown status %q", i, c.Status)
		}
	}
	s.Options.Solver.Tol, s.Options.Solver.MaxIter = s.Options.Tol, s.Options.MaxIter
	return &FailureModel{Whitening: s.Whitening, Fits: s.Classes, Options: s.Options, Backend: s.Backend,
		Warnings: s.Warnings}, nil
}

// Load reads a model file written by [FailureModel.Save].
func Load(path string) (*FailureModel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("distill: Load: %w", err)
	}
	defer f.Close()
	m, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
