package benchmark

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/matrix"
)

// Input is what every slice finder gets, the same for all: the train split's latent vectors (for the
// pre-processing statistics only), and the validation and test splits with latent vectors, labels, the base
// model's predictions and confidences. Finders never see groups.
type Input struct {
	Train, Val, Test distill.Split
	// NumClasses is the number of classes.
	NumClasses int
	// Whitening holds the train statistics of the method's pre-processing (whitening, then L2 normalisation),
	// which every finder that works in the latent space shares.
	Whitening *distill.Whitening
	// Seed seeds the finders that draw random numbers.
	Seed uint64
	// Backend runs the GoMLX computations (the SVMs).
	Backend compute.Backend
}

// Finding is a slice finder's answer on the test split.
type Finding struct {
	// Scores rank each test example within its class: the lower, the more the finder puts it in its class's
	// failure slice.
	Scores []float32
	// Flagged marks the test examples the finder puts in a failure slice.
	Flagged []bool
	// Describe scores the text embeddings of captions for the classes in Described (the hard caption has the
	// lowest score); nil when the finder cannot describe its slices.
	Describe  caption.Scorer
	Described []int
	// Directions are a several-direction finder's directions, in order (nil for the others).
	Directions []Direction
}

// Direction is one direction of a several-direction finder: its test scores, its captions' scorer and the
// classes that have it.
type Direction struct {
	Scores   []float32
	Describe caption.Scorer
	Classes  []int
}

// Finder is a slice-discovery method.
type Finder interface {
	// Name identifies the method in results ("fd", "domino", ...).
	Name() string
	// Find ranks and flags the test examples from the validation data.
	Find(ctx context.Context, in Input) (*Finding, error)
}

// FailureDirections is this project's method (package distill): per class, a linear SVM on the validation
// examples predicting the base model's errors; the scores are its decision values, the flagged set the negative
// ones, the captions scored by the SVM as the paper does.
type FailureDirections struct {
	// Compat is distill's compatibility mode ("" or distill.CompatReference).
	Compat distill.Compat
}

// Name is "fd", or "fd-reference" in the reference-compatible mode.
func (f FailureDirections) Name() string {
	if f.Compat == distill.CompatReference {
		return "fd-reference"
	}
	return "fd"
}

func fitOptions(in Input, compat distill.Compat) distill.Options {
	opts := distill.DefaultOptions()
	opts.NumClasses, opts.Compat, opts.Progress = in.NumClasses, compat, io.Discard
	return opts
}

// Find fits the SVMs and applies them to the test split.
func (f FailureDirections) Find(ctx context.Context, in Input) (*Finding, error) {
	m, err := distill.FitContext(ctx, in.Backend, in.Train, in.Val, fitOptions(in, f.Compat))
	if err != nil {
		return nil, err
	}
	return svmFinding(m, in.Test)
}

// svmFinding ranks and flags the test split by m's decision values.
func svmFinding(m *distill.FailureModel, test distill.Split) (*Finding, error) {
	dec, err := m.Decision(test)
	if err != nil {
		return nil, err
	}
	out := &Finding{Scores: dec, Flagged: make([]bool, len(dec)), Describe: m}
	for i, d := range dec {
		out.Flagged[i] = d <= 0
	}
	for _, c := range m.Classes() {
		if c.Status.HasClassifier() {
			out.Described = append(out.Described, c.Class)
		}
	}
	return out, nil
}

// KDirections finds several failure directions per class (distill.FitSequential): the scores are, per test
// example, the lowest decision value over its class's directions, the flagged set the examples any direction
// flags, the captions those of the first direction; Finding.Directions holds every direction.
type KDirections struct {
	Options distill.SequentialOptions
}

// Name is "kdirs", or "kdirs-all" when every direction is refitted on all validation examples.
func (k KDirections) Name() string {
	if k.Options.RefitAll {
		return "kdirs-all"
	}
	return "kdirs"
}

// Find fits the directions and applies them to the test split.
func (k KDirections) Find(ctx context.Context, in Input) (*Finding, error) {
	dirs, err := distill.FitSequential(ctx, in.Backend, in.Train, in.Val, fitOptions(in, distill.CompatDefault), k.Options)
	if err != nil {
		return nil, err
	}
	out, err := svmFinding(dirs.Models[0], in.Test)
	if err != nil {
		return nil, err
	}
	out.Directions = append(out.Directions, Direction{Scores: out.Scores, Describe: dirs.Models[0], Classes: out.Described})
	out.Scores = slices.Clone(out.Scores)
	for j, m := range dirs.Models[1:] {
		dec, err := m.Decision(in.Test)
		if err != nil {
			return nil, err
		}
		d := Direction{Scores: dec, Describe: m}
		for c, n := range dirs.Count {
			if n > j+1 {
				d.Classes = append(d.Classes, c)
			}
		}
		for i, v := range dec {
			if dirs.Count[in.Test.Labels[i]] > j+1 {
				out.Scores[i] = min(out.Scores[i], v)
				out.Flagged[i] = out.Flagged[i] || v <= 0
			}
		}
		out.Directions = append(out.Directions, d)
	}
	return out, nil
}

// Confidence is the paper's baseline: the base model's confidence in the true class ranks the examples, its
// errors are the flagged set, and the captions describe the mean of the class's validation errors (see
// [prototypes]).
type Confidence struct{}

// Name is "confidence".
func (Confidence) Name() string { return "confidence" }

// Find ranks by confidence.
func (Confidence) Find(_ context.Context, in Input) (*Finding, error) {
	out := &Finding{Scores: slices.Clone(in.Test.Confs), Flagged: make([]bool, in.Test.Len())}
	for i := range out.Flagged {
		out.Flagged[i] = !in.Test.Correct(i)
	}
	weights := make([]float64, in.Val.Len())
	for i := range weights {
		if !in.Val.Correct(i) {
			weights[i] = 1
		}
	}
	var err error
	out.Describe, out.Described, err = newPrototypes(in, weights)
	return out, err
}

// Random ranks the examples in a seeded random order and flags as many random examples per class as the base
// model has errors there; its captions describe a random set of validation examples of the same size as the
// class's validation errors. It is the benchmark's floor.
type Random struct{}

// Name is "random".
func (Random) Name() string { return "random" }

// Find draws the random ranking.
func (Random) Find(_ context.Context, in Input) (*Finding, error) {
	rng := rand.New(rand.NewPCG(in.Seed, 0x5eed))
	n := in.Test.Len()
	out := &Finding{Scores: make([]float32, n), Flagged: make([]bool, n)}
	for i := range out.Scores {
		out.Scores[i] = rng.Float32()
	}
	pick := func(s distill.Split, mark func(i int)) {
		byClass := map[int][]int{}
		errs := map[int]int{}
		for i, l := range s.Labels {
			byClass[l] = append(byClass[l], i)
			if !s.Correct(i) {
				errs[l]++
			}
		}
		for c := range in.NumClasses {
			idx := byClass[c]
			rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			for _, i := range idx[:errs[c]] {
				mark(i)
			}
		}
	}
	pick(in.Test, func(i int) { out.Flagged[i] = true })
	weights := make([]float64, in.Val.Len())
	pick(in.Val, func(i int) { weights[i] = 1 })
	var err error
	out.Describe, out.Described, err = newPrototypes(in, weights)
	return out, err
}

// prototypes describes a finder's slices the way Domino's paper does for its slices: per class, the direction
// from the mean of the class's pre-processed validation vectors to the weighted mean of its slice (weights: the
// slice membership), and a caption's score is minus the dot product of that direction with the caption's
// pre-processed embedding difference pre(t_caption − t_reference), the same input the SVM's caption score uses;
// the hard caption (lowest score) is the text most aligned with the slice.
type prototypes struct {
	wh   *distill.Whitening
	dirs [][]float32
}

// newPrototypes builds the description directions from per-example validation weights; classes whose weights are
// all zero get none.
func newPrototypes(in Input, weights []float64) (caption.Scorer, []int, error) {
	pre, err := in.Whitening.Apply(in.Val.Latents)
	if err != nil {
		return nil, nil, err
	}
	d := pre.Cols
	p := &prototypes{wh: in.Whitening, dirs: make([][]float32, in.NumClasses)}
	var described []int
	for c := range in.NumClasses {
		mean := make([]float64, d)
		slice := make([]float64, d)
		var n, w float64
		for i, l := range in.Val.Labels {
			if l != c {
				continue
			}
			n++
			w += weights[i]
			for k, v := range pre.Row(i) {
				mean[k] += float64(v)
				slice[k] += weights[i] * float64(v)
			}
		}
		if w == 0 {
			continue
		}
		dir := make([]float32, d)
		for k := range dir {
			dir[k] = float32(slice[k]/w - mean[k]/n)
		}
		p.dirs[c] = dir
		described = append(described, c)
	}
	return p, described, nil
}

// DecisionFor returns −direction·pre(v) for each row v.
func (p *prototypes) DecisionFor(c int, vecs matrix.Dense) ([]float32, error) {
	if c < 0 || c >= len(p.dirs) || p.dirs[c] == nil {
		return nil, fmt.Errorf("benchmark: class %d has no slice to describe", c)
	}
	pre, err := p.wh.Apply(vecs)
	if err != nil {
		return nil, err
	}
	out := make([]float32, vecs.Rows)
	for i := range out {
		var s float64
		for k, v := range pre.Row(i) {
			s += float64(v) * float64(p.dirs[c][k])
		}
		out[i] = float32(-s)
	}
	return out, nil
}
