package distill

import (
	"fmt"

	"github.com/faildirs/faildirs/distill/matrix"
)

// Split is one data split of the method: latent vectors (e.g. CLIP image embeddings) with, per example, the true
// label, the base model's prediction and its confidence in the true class.
//
// Only Latents is required everywhere; Fit needs Labels and Preds on the validation split, Decision and the
// evaluation functions need Labels (and Preds, Confs or Groups where they say so).
type Split struct {
	// Name identifies the split in errors and reports ("train", "val", "test", ...).
	Name string
	// Latents holds one latent vector per example: N rows of dimension D = Latents.Cols.
	Latents matrix.Dense
	// Labels are the true classes, 0 ≤ label; empty when unknown.
	Labels []int
	// Preds are the base model's predicted classes, 0 ≤ pred; empty when unknown.
	Preds []int
	// Confs are the base model's probabilities of the true class (softmax), used as the baseline ranking;
	// empty when unknown.
	Confs []float32
	// Groups are ground-truth subgroup ids (evaluation only, e.g. 1 = planted minority); empty when unknown.
	Groups []int
	// IDs name the examples (file names, dataset indices); empty when unknown.
	IDs []string
}

// Len returns the number of examples, Latents.Rows.
func (s Split) Len() int { return s.Latents.Rows }

// Dim returns the latent dimension, Latents.Cols.
func (s Split) Dim() int { return s.Latents.Cols }

// Correct reports whether the base model was right on example i (Preds[i] == Labels[i]).
func (s Split) Correct(i int) bool { return s.Preds[i] == s.Labels[i] }

// Validate checks the split's consistency: at least one latent vector of positive dimension, a consistent shape,
// all values finite, and every optional field either empty or of length N, with labels and predictions
// non-negative and confidences finite and in [0, 1]. Errors name the split, the field and the first offending
// example.
func (s Split) Validate() error {
	name := s.Name
	if name == "" {
		name = "split"
	}
	if s.Latents.Cols <= 0 {
		return fmt.Errorf("%s: latent dimension %d must be positive", name, s.Latents.Cols)
	}
	if s.Latents.Rows <= 0 {
		return fmt.Errorf("%s: no latent vectors", name)
	}
	if err := s.Latents.Validate(); err != nil {
		return fmt.Errorf("%s: latents: %w", name, err)
	}
	n := s.Latents.Rows
	check := func(field string, length int) error {
		if length != 0 && length != n {
			return fmt.Errorf("%s: len(%s)=%d, want 0 or N=%d", name, field, length, n)
		}
		return nil
	}
	for _, c := range []struct {
		field  string
		length int
	}{{"Labels", len(s.Labels)}, {"Preds", len(s.Preds)}, {"Confs", len(s.Confs)}, {"Groups", len(s.Groups)},
		{"IDs", len(s.IDs)}} {
		if err := check(c.field, c.length); err != nil {
			return err
		}
	}
	for i, l := range s.Labels {
		if l < 0 {
			return fmt.Errorf("%s: label of example %d is %d, want ≥ 0", name, i, l)
		}
	}
	for i, p := range s.Preds {
		if p < 0 {
			return fmt.Errorf("%s: prediction of example %d is %d, want ≥ 0", name, i, p)
		}
	}
	for i, c := range s.Confs {
		if !(c >= 0 && c <= 1) {
			return fmt.Errorf("%s: confidence of example %d is %v, want a probability in [0, 1]", name, i, c)
		}
	}
	return nil
}

// requireLabels checks that Labels (and Preds, if needPreds) are present.
func (s Split) requireLabels(needPreds bool) error {
	name := s.Name
	if name == "" {
		name = "split"
	}
	if len(s.Labels) == 0 {
		return fmt.Errorf("%s: labels are required", name)
	}
	if needPreds && len(s.Preds) == 0 {
		return fmt.Errorf("%s: base-model predictions are required", name)
	}
	return nil
}

// NumClasses returns 1 + the largest label (0 without labels).
func (s Split) NumClasses() int {
	n := 0
	for _, l := range s.Labels {
		n = max(n, l+1)
	}
	return n
}

// Subset returns the examples at idx (in that order) as a new split: latent rows copied, every optional field
// gathered the same way.
func (s Split) Subset(idx []int) Split {
	out := Split{Name: s.Name, Latents: s.Latents.Select(idx)}
	gather := func(n int, pick func(i int)) {
		if n > 0 {
			for _, i := range idx {
				pick(i)
			}
		}
	}
	gather(len(s.Labels), func(i int) { out.Labels = append(out.Labels, s.Labels[i]) })
	gather(len(s.Preds), func(i int) { out.Preds = append(out.Preds, s.Preds[i]) })
	gather(len(s.Confs), func(i int) { out.Confs = append(out.Confs, s.Confs[i]) })
	gather(len(s.Groups), func(i int) { out.Groups = append(out.Groups, s.Groups[i]) })
	gather(len(s.IDs), func(i int) { out.IDs = append(out.IDs, s.IDs[i]) })
	return out
}
