package distill

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/npy"
)

// LoadNPYSplit reads split name from dir in the benchmark layout of `faildirs bench-svm` (one NumPy .npy file
// per field, as numpy.save writes them, read by package npy with its size checks): <name>_features.npy (float
// [N,D]), <name>_labels.npy and <name>_preds.npy (integers [N]), and, when present, <name>_confidence.npy (float
// [N], the base model's probability of the true class) and <name>_subgroup.npy (integers [N], stored as Groups).
// Missing optional files leave their field empty; labels and predictions are optional too (a train split used only
// for whitening may have features alone).
//
// A <name>_correct.npy (bool or integer [N]) is checked against preds == labels, which is what the method uses: a
// disagreement is returned as a [WarnInconsistentCorrect] warning naming the first example that differs. Errors
// name the file and, for bad values, the example.
func LoadNPYSplit(dir, name string) (Split, []Warning, error) {
	s := Split{Name: name}
	path := func(k string) string { return filepath.Join(dir, name+"_"+k+".npy") }
	feat, err := npy.Load(path("features"))
	if err != nil {
		return s, nil, fmt.Errorf("distill: %w", err)
	}
	if len(feat.Shape) != 2 || feat.Shape[0] == 0 || feat.Shape[1] == 0 {
		return s, nil, fmt.Errorf("distill: %s: shape %v, want [N, D] with N, D > 0", path("features"), feat.Shape)
	}
	values, err := feat.Float32()
	if err != nil {
		return s, nil, fmt.Errorf("distill: %s: %w", path("features"), err)
	}
	n := feat.Shape[0]
	if s.Latents, err = matrix.New(n, feat.Shape[1], values); err != nil {
		return s, nil, fmt.Errorf("distill: %s: %w", path("features"), err)
	}
	optional := func(k string, fn func(a *npy.Array) error) error {
		p := path(k)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		a, err := npy.Load(p)
		if err != nil {
			return fmt.Errorf("distill: %w", err)
		}
		if len(a.Shape) != 1 || a.Shape[0] != n {
			return fmt.Errorf("distill: %s: shape %v, want [%d]", p, a.Shape, n)
		}
		if err := fn(a); err != nil {
			return fmt.Errorf("distill: %s: %w", p, err)
		}
		return nil
	}
	var correct []int
	err = errors.Join(
		optional("labels", func(a *npy.Array) (err error) { s.Labels, err = a.Ints(); return }),
		optional("preds", func(a *npy.Array) (err error) { s.Preds, err = a.Ints(); return }),
		optional("confidence", func(a *npy.Array) (err error) { s.Confs, err = a.Float32(); return }),
		optional("subgroup", func(a *npy.Array) (err error) { s.Groups, err = a.Ints(); return }),
		optional("correct", func(a *npy.Array) (err error) { correct, err = a.Ints(); return }),
	)
	if err != nil {
		return s, nil, err
	}
	if err := s.Validate(); err != nil {
		return s, nil, fmt.Errorf("distill: %s: %w", dir, err)
	}
	var warnings []Warning
	if w, ok := checkCorrect(s, correct, filepath.Base(path("correct"))); ok {
		warnings = append(warnings, w)
	}
	return s, warnings, nil
}

// checkCorrect compares a "correct" column (nonzero = correct) with preds == labels of s; ok is false when there is
// nothing to report.
func checkCorrect(s Split, correct []int, file string) (Warning, bool) {
	if correct == nil {
		return Warning{}, false
	}
	if len(s.Labels) == 0 || len(s.Preds) == 0 {
		return Warning{Code: WarnInconsistentCorrect, Message: fmt.Sprintf(
			"%s is ignored: %s has no labels and predictions to compare it with (the method uses preds == labels)", file, s.Name)}, true
	}
	first, n := -1, 0
	for i, c := range correct {
		if (c != 0) != s.Correct(i) {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if n == 0 {
		return Warning{}, false
	}
	return Warning{Code: WarnInconsistentCorrect, Message: fmt.Sprintf(
		"%s disagrees with preds == labels on %d of %d examples of %s (first: example %d has correct=%d, label %d, pred %d); the method uses preds == labels",
		file, n, len(correct), s.Name, first, correct[first], s.Labels[first], s.Preds[first])}, true
}

// SaveNPYFloat32 writes values to path as a float32 .npy vector, atomically (package npy's SaveFloat32).
func SaveNPYFloat32(path string, values []float32) error {
	if err := npy.SaveFloat32(path, []int{len(values)}, values); err != nil {
		return fmt.Errorf("distill: SaveNPYFloat32: %w", err)
	}
	return nil
}
