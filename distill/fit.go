package distill

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/progress"
	"github.com/faildirs/faildirs/distill/svm"
	"github.com/faildirs/faildirs/internal/parallel"
	"github.com/gomlx/compute"
)

// Options configures [Fit]. The zero value is the paper's recipe, which [DefaultOptions] spells out; change
// what you need.
type Options struct {
	// Cs is the grid of SVM costs searched by cross-validation (default 1e-6, 1e-5, …, 1).
	Cs []float64 `json:"cs"`
	// Folds is the number of stratified cross-validation folds (default 2).
	Folds int `json:"folds"`
	// NumClasses declares the number of classes (at most [MaxClasses]); every validation label must be below it.
	// 0 means 1 + the largest validation label, which must then not exceed the number of validation examples (a
	// larger label, e.g. a stray 1000000 among 400 examples, is an error asking to declare the count: class tables
	// never grow from one bad label).
	NumClasses int `json:"num_classes,omitempty"`
	// Compat selects the behaviour where the reference code and this package differ (default CompatDefault; see
	// [CompatReference]).
	Compat Compat `json:"compat,omitempty"`
	// Solver configures the batched SVM solver (tolerance, iteration limit, form); see package svm.
	Solver svm.Options `json:"-"`
	// Tol and MaxIter mirror Solver.Tol and Solver.MaxIter for the saved model (filled in by Fit).
	Tol     float64 `json:"tol"`
	MaxIter int     `json:"max_iter"`
	// TrainSample estimates the whitening statistics from a seeded sample of the train rows (zero value: every
	// row). Fit draws the sample from train when train holds the whole split, or takes train as the sample when it
	// holds exactly TrainSample.Rows() of a split of TrainSample.Of rows; the model records it.
	TrainSample TrainSample `json:"train_sample,omitzero"`
	// Progress receives a progress bar of the solved SVM problems; nil means the progress package's default
	// (stderr, or an HTML bar in GoNB), io.Discard none.
	Progress io.Writer `json:"-"`
}

// DefaultOptions returns the paper's recipe: C in {1e-6, …, 1} (7 values, log-spaced), 2-fold stratified
// cross-validation on balanced accuracy, refit on all of the class's validation data, solver tolerance 1e-3.
func DefaultOptions() Options {
	return Options{Cs: []float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1}, Folds: 2, Solver: svm.DefaultOptions()}
}

func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if len(o.Cs) == 0 {
		o.Cs = d.Cs
	}
	o.Cs = slices.Clone(o.Cs)
	for _, c := range o.Cs {
		if !(c > 0) || math.IsInf(c, 0) {
			return o, fmt.Errorf("distill: cost %v in the C grid is not positive and finite", c)
		}
	}
	if o.Folds == 0 {
		o.Folds = d.Folds
	}
	if o.Folds < 2 {
		return o, fmt.Errorf("distill: %d cross-validation folds, want at least 2", o.Folds)
	}
	if o.NumClasses < 0 || o.NumClasses > MaxClasses {
		return o, fmt.Errorf("distill: NumClasses=%d is outside [0, %d]", o.NumClasses, MaxClasses)
	}
	switch o.Compat {
	case CompatDefault:
	case CompatReference:
		o.Solver.Bias = svm.BiasLibsvm
		if slices.Equal(o.Cs, d.Cs) {
			o.Cs = ReferenceCs()
		}
	default:
		return o, fmt.Errorf("distill: unknown Compat %q (want %q or %q)", o.Compat, CompatDefault, CompatReference)
	}
	def := svm.DefaultOptions()
	if o.Solver.Tol == 0 {
		o.Solver.Tol = def.Tol
	}
	if o.Solver.MaxIter == 0 {
		o.Solver.MaxIter = def.MaxIter
	}
	o.Tol, o.MaxIter = o.Solver.Tol, o.Solver.MaxIter
	return o, nil
}

// Compat names a behaviour where this package and the reference code (MadryLab/failure-directions with
// scikit-learn's SVC) may differ.
type Compat string

const (
	// CompatDefault: cross-validation ties go to the larger C, and where the optimal SVM bias is not unique the
	// solver returns any optimal one (see [Fit]).
	CompatDefault Compat = ""
	// CompatReference reproduces the reference's choices: cross-validation ties go to the smaller C (its strict
	// ">" over increasing C), and problems whose optimum leaves the bias free get libsvm's solution, rounding
	// included (package svm, [svm.BiasLibsvm]). Below C ≈ 0.01 on small classes libsvm then predicts one outcome
	// for every example (cross-validated balanced accuracy exactly 0.5), so such classes end at the smallest C
	// with the class-mean-difference direction, as in the reference.
	CompatReference Compat = "reference"
)

// ReferenceCs returns the reference's cost grid bit for bit: numpy's logspace(-6, 0, 7), whose values are not
// all the nearest doubles to the decimal powers (9.999999999999999e-06 for 1e-5). libsvm's rounding at tiny C
// depends on these last bits, so [CompatReference] fits with them when the grid is DefaultOptions'.
func ReferenceCs() []float64 {
	return []float64{1e-06, 9.999999999999999e-06, 9.999999999999999e-05, 0.001, 0.01, 0.09999999999999999, 1}
}

// ParseCompat parses "default" (or "") and "reference".
func ParseCompat(s string) (Compat, error) {
	switch s {
	case "", "default":
		return CompatDefault, nil
	case string(CompatReference):
		return CompatReference, nil
	}
	return "", fmt.Errorf("distill: unknown compatibility mode %q (want default or reference)", s)
}

// MaxClasses bounds the number of classes of a fit (about 2^20: ImageNet-21k has 21,841). A class costs a few
// hundred bytes without an SVM, so the per-class tables stay below a few hundred megabytes.
const MaxClasses = 1 << 20

// tieTolerance: cross-validation scores closer than this are ties.
const tieTolerance = 1e-9

// FitStats reports where the time of a [Fit] went ([FailureModel.Stats]).
type FitStats struct {
	// Total is the wall time of Fit; Preprocess of the whitening statistics and the pre-processing of the
	// validation rows; Solve of the batched SVM solver (including graph compilation).
	Total, Preprocess, Solve time.Duration
	// Problems is the number of SVM problems solved together; LockstepIterations the iterations of the batch;
	// NotConverged how many problems hit the iteration limit.
	Problems, LockstepIterations, NotConverged int
	// Backend describes the backend used.
	Backend string
}

// Fit runs the method's recipe: whitening statistics from train, then for every class an SVM on the class's
// validation examples separating the base model's correct predictions (+1) from its errors (−1), with
// class-balanced weights, C chosen by stratified cross-validation on balanced accuracy and a refit on all of the
// class's validation data. All classes × costs × folds, and the refits at every cost, are solved as one batched
// computation (package svm) on backend b; a nil b means one chosen by package backend (and released at the end).
// The returned model's Stats say where the time went.
//
// Only train.Latents is used from train. val needs Labels and Preds. Classes without failure signal get no SVM
// and a status saying why (see [Status]); nothing is NaN. Degenerate data is reported in the model's Warnings:
// no class with failure signal ([WarnNoFailureSignal]; see [FailureModel.NoFailureSignal]) or constant train
// features ([WarnConstantFeatures]). When every train feature is constant Fit fails: every whitened vector would
// be zero.
//
// Choice of C: the largest mean cross-validated balanced accuracy; ties (within 1e-9) go to the larger C, the
// least regularised model reaching that score (at the smallest costs the SVM predicts one outcome for every
// example, so a tie there carries no information). With Options.Compat = [CompatReference] ties go to the
// smaller C and degenerate problems get libsvm's bias, as in the reference code.
func Fit(b compute.Backend, train, val Split, opts Options) (*FailureModel, error) {
	return FitContext(context.Background(), b, train, val, opts)
}

// FitContext is [Fit] stopping early when ctx is cancelled (the batched solver checks it between its calls); it
// then returns an error wrapping ctx.Err().
func FitContext(ctx context.Context, b compute.Backend, train, val Split, opts Options) (*FailureModel, error) {
	start := time.Now()
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkFitInputs(&train, &val); err != nil {
		return nil, fmt.Errorf("distill: Fit: %w", err)
	}
	if train, opts.TrainSample, err = sampleTrain(train, opts.TrainSample); err != nil {
		return nil, fmt.Errorf("distill: Fit: %w", err)
	}
	nc, err := classCount(val, opts.NumClasses)
	if err != nil {
		return nil, fmt.Errorf("distill: Fit: %w", err)
	}
	wh, err := FitWhitening(train)
	if err != nil {
		return nil, fmt.Errorf("distill: Fit: %w", err)
	}
	wh.Sample = opts.TrainSample
	stats := &FitStats{Preprocess: time.Since(start)}
	model := &FailureModel{Whitening: wh, Options: opts, Stats: stats}
	if constant := wh.ConstantFeatures(); len(constant) == wh.Dim() {
		return nil, fmt.Errorf("distill: Fit: all %d latent features are constant in %s: whitening maps every vector to zero, so there is nothing to fit",
			wh.Dim(), train.Name)
	} else if len(constant) > 0 {
		model.Warnings = append(model.Warnings, constantFeaturesWarning(constant, wh.Dim(), train.Name))
	}
	plan, err := planClasses(val, nc, opts.Folds)
	if err != nil {
		return nil, fmt.Errorf("distill: Fit: %w", err)
	}
	model.Fits = plan.fits
	if len(plan.fitted) == 0 {
		model.Warnings = append(model.Warnings, noSignalWarning(model.Fits))
	}
	if b == nil {
		var info backend.Info
		if b, info, err = backend.New(backend.Options{}); err != nil {
			return nil, fmt.Errorf("distill: Fit: %w", err)
		}
		defer b.Finalize()
		model.Backend = info.String()
	} else {
		model.Backend = b.Name() + ": " + b.Description()
	}
	stats.Backend = model.Backend
	if len(plan.fitted) > 0 {
		if err := solveClasses(ctx, b, model, opts, val, plan); err != nil {
			return nil, fmt.Errorf("distill: Fit: %w", err)
		}
	}
	stats.Total = time.Since(start)
	return model, nil
}

// sampleTrain returns the train rows the whitening comes from under sample t, and t with Of filled in: a sample
// drawn from train when train is the whole split (t.Of 0 or train's length), or train itself when it already holds
// the t.Size sampled rows of a split of t.Of.
func sampleTrain(train Split, t TrainSample) (Split, TrainSample, error) {
	if err := t.validate(); err != nil {
		return train, t, err
	}
	n := train.Len()
	if t.Size == 0 {
		return train, TrainSample{}, nil
	}
	if t.Of == 0 {
		t.Of = n
	}
	switch {
	case n == t.Of:
		if !t.Sampled() {
			return train, t, nil
		}
		return train.Subset(t.Rows()), t, nil
	case n == min(t.Size, t.Of):
		return train, t, nil // the caller embedded only the sampled rows
	default:
		return train, t, fmt.Errorf("%s has %d rows, neither the whole split (%d rows) nor its sample of %d", train.Name, n, t.Of, t.Size)
	}
}

// checkFitInputs names unnamed splits and checks that val is valid and labelled and has train's dimension.
func checkFitInputs(train, val *Split) error {
	if train.Name == "" {
		train.Name = "train"
	}
	if val.Name == "" {
		val.Name = "val"
	}
	if err := val.Validate(); err != nil {
		return err
	}
	if err := val.requireLabels(true); err != nil {
		return err
	}
	if train.Dim() != val.Dim() {
		return fmt.Errorf("train has dimension %d, val %d", train.Dim(), val.Dim())
	}
	return nil
}

// classCount returns the number of classes of a fit of val: declared (every label must be below it) or, when
// declared is 0, 1 + the largest label, which must not exceed the number of validation examples.
func classCount(val Split, declared int) (int, error) {
	if declared > 0 {
		for i, l := range val.Labels {
			if l >= declared {
				return 0, fmt.Errorf("%s: label %d of example %d is not below the declared %d classes", val.Name, l, i, declared)
			}
		}
		return declared, nil
	}
	nc, at := 0, 0
	for i, l := range val.Labels {
		if l+1 > nc {
			nc, at = l+1, i
		}
	}
	if nc > val.Len() {
		return 0, fmt.Errorf("%s: label %d of example %d would make %d classes from %d examples; declare the class count (Options.NumClasses) if it is right",
			val.Name, nc-1, at, nc, val.Len())
	}
	return nc, nil
}

// classPlan is the outcome of [planClasses]: every class's status, and for the classes to fit their validation
// rows and cross-validation folds.
type classPlan struct {
	fits   []ClassFit
	rows   [][]int // rows[c]: the validation examples of class c
	folds  [][]int // folds[c][j]: the fold of rows[c][j] (fitted classes only)
	fitted []int   // the classes given to the solver, in increasing order
	maxN   int     // the most validation examples of a fitted class
	// project[c] are unit vectors projected out of class c's pre-processed rows, and out of its SVM's W, so the
	// SVM is orthogonal to them ([FitSequential]); nil for [Fit].
	project [][][]float32
}

// planClasses gives every class of val (nc classes) its status and the fitted classes their stratified folds.
func planClasses(val Split, nc, nFolds int) (*classPlan, error) {
	for i, l := range val.Labels {
		if l >= nc {
			return nil, fmt.Errorf("%s: label %d of example %d is not below NumClasses=%d", val.Name, l, i, nc)
		}
	}
	p := &classPlan{fits: make([]ClassFit, nc), rows: make([][]int, nc), folds: make([][]int, nc)}
	for i, l := range val.Labels {
		p.rows[l] = append(p.rows[l], i)
	}
	for c := range nc {
		info := &p.fits[c]
		info.Class = c
		info.NVal = len(p.rows[c])
		for _, i := range p.rows[c] {
			if !val.Correct(i) {
				info.NErrors++
			}
		}
		switch {
		case info.NVal == 0:
			info.Status = StatusNoData
		case info.NErrors == 0:
			info.Status = StatusNoErrors
		case info.NErrors == info.NVal:
			info.Status = StatusOnlyErrors
		case min(info.NErrors, info.NVal-info.NErrors) < nFolds:
			info.Status = StatusTooFewForCV
		default:
			info.Status = StatusFitted
			y := make([]int, len(p.rows[c]))
			for j, i := range p.rows[c] {
				if val.Correct(i) {
					y[j] = 1
				}
			}
			var err error
			if p.folds[c], err = StratifiedFolds(y, nFolds); err != nil {
				return nil, fmt.Errorf("class %d: %w", c, err)
			}
			p.fitted = append(p.fitted, c)
			p.maxN = max(p.maxN, len(p.rows[c]))
		}
	}
	return p, nil
}

// Problem layout per class group: for cost index ci, problem ci·(F+1) + k trains on the rows outside fold k for
// k < F, and problem ci·(F+1) + F is the refit on every row.

// solveClasses solves every problem of the fitted classes in one batch and fills their fits.
func solveClasses(ctx context.Context, b compute.Backend, model *FailureModel, opts Options, val Split, plan *classPlan) error {
	t0 := time.Now()
	pr, err := preprocessRows(b, model.Whitening, opts, val, plan)
	if err != nil {
		return err
	}
	defer pr.Release()
	model.Stats.Preprocess += time.Since(t0)
	setTargets(pr, opts, val, plan)
	t1 := time.Now()
	res, err := solveWithProgress(ctx, b, pr, opts)
	if err != nil {
		return err
	}
	stats := model.Stats
	stats.Solve = time.Since(t1)
	stats.Problems = pr.G * pr.P
	stats.LockstepIterations = res.LockstepIterations
	for _, s := range res.Status {
		if s == svm.NotConverged {
			stats.NotConverged++
		}
	}
	for g, c := range plan.fitted {
		collectClass(&model.Fits[c], g, opts, pr, res, plan.folds[c], len(plan.rows[c]))
		if plan.project != nil {
			projectOut(model.Fits[c].W, plan.project[c])
		}
	}
	return nil
}

// preprocessRows allocates the problems of the fitted classes ([solveClasses]) and writes their pre-processed
// validation rows, grouped by class, in parallel.
func preprocessRows(b compute.Backend, wh *Whitening, opts Options, val Split, plan *classPlan) (*svm.Problems, error) {
	D := val.Dim()
	G, N, P := len(plan.fitted), plan.maxN, len(opts.Cs)*(opts.Folds+1)
	pr, err := svm.NewProblems(b, G, N, D, P)
	if err != nil {
		return nil, err
	}
	pr.Weighting = svm.Balanced
	apply := wh.rowFunc()
	parallel.For(G, func(g int) {
		c := plan.fitted[g]
		for j, i := range plan.rows[c] {
			row := pr.X[(g*N+j)*D : (g*N+j+1)*D]
			apply(row, val.Latents.Row(i))
			if plan.project != nil {
				projectOut(row, plan.project[c])
			}
		}
	})
	return pr, nil
}

// setTargets writes the ±1 targets, costs and fold memberships of the problems.
func setTargets(pr *svm.Problems, opts Options, val Split, plan *classPlan) {
	F, N, P := opts.Folds, pr.N, pr.P
	for g, c := range plan.fitted {
		for j, i := range plan.rows[c] {
			pr.Y[g*N+j] = -1
			if val.Correct(i) {
				pr.Y[g*N+j] = 1
			}
		}
		for ci, cost := range opts.Cs {
			for k := 0; k <= F; k++ {
				p := ci*(F+1) + k
				pr.C[g*P+p] = cost
				for j := range plan.rows[c] {
					pr.Member[(g*P+p)*N+j] = k == F || plan.folds[c][j] != k
				}
			}
		}
	}
}

// solveWithProgress runs svm.Solve with a progress bar of the solved problems on opts.Progress; the solver keeps
// the weights of the refits only.
func solveWithProgress(ctx context.Context, b compute.Backend, pr *svm.Problems, opts Options) (*svm.Result, error) {
	F := opts.Folds
	total := pr.G * pr.P
	solverOpts := opts.Solver
	solverOpts.WeightsFor = nil
	for ci := range opts.Cs {
		solverOpts.WeightsFor = append(solverOpts.WeightsFor, ci*(F+1)+F) // the refits
	}
	bar := progress.New(opts.Progress, "fitting SVMs", total)
	solved := 0
	user := solverOpts.Progress
	solverOpts.Progress = func(p svm.Progress) {
		done := total - p.Active
		bar.Add(done - solved)
		solved = done
		if user != nil {
			user(p)
		}
	}
	res, err := svm.SolveContext(ctx, b, pr, solverOpts)
	bar.Done()
	return res, err
}

// collectClass fills the fit of the class solved as group g: cross-validated balanced accuracy and AUROC per
// cost, the chosen cost and its refit SVM. n is the class's number of validation examples.
func collectClass(info *ClassFit, g int, opts Options, pr *svm.Problems, res *svm.Result, folds []int, n int) {
	F, nC, N, P, D := opts.Folds, len(opts.Cs), pr.N, pr.P, pr.D
	info.CVByC = make([]float64, nC)
	info.CVAUROCByC = make([]float64, nC)
	for ci := range opts.Cs {
		var sumAcc, sumAUC float64
		for k := range F {
			p := ci*(F+1) + k
			dec := res.Decision[(g*P+p)*N : (g*P+p)*N+n]
			var truth []bool
			var scores []float32
			for j := range n {
				if folds[j] == k {
					truth = append(truth, pr.Y[g*N+j] > 0)
					scores = append(scores, dec[j])
				}
			}
			sumAcc += balancedAccuracy(truth, scores)
			if auc, ok := auroc(truth, scores); ok {
				sumAUC += auc
			} else {
				sumAUC += 0.5
			}
		}
		info.CVByC[ci] = sumAcc / float64(F)
		info.CVAUROCByC[ci] = sumAUC / float64(F)
	}
	best := chooseC(opts.Cs, info.CVByC, opts.Compat == CompatReference)
	refit := g*P + best*(F+1) + F
	info.C = opts.Cs[best]
	info.CVBalancedAcc = info.CVByC[best]
	info.W = slices.Clone(res.W[refit*D : (refit+1)*D])
	info.B = res.B[refit]
	info.Gap = res.Gap[refit]
	info.Iterations = res.Iterations[refit]
	info.Converged = res.Status[refit] == svm.Converged
}

// chooseC returns the index of the best cross-validation score; scores within tieTolerance of each other tie, and
// a tie goes to the larger cost, or to the smaller one when smallerOnTies is set.
func chooseC(cs, scores []float64, smallerOnTies bool) int {
	best := 0
	for i := 1; i < len(cs); i++ {
		tie := math.Abs(scores[i]-scores[best]) <= tieTolerance
		if scores[i] > scores[best]+tieTolerance ||
			(tie && !smallerOnTies && cs[i] > cs[best]) || (tie && smallerOnTies && cs[i] < cs[best]) {
			best = i
		}
	}
	return best
}

// balancedAccuracy is the mean over the outcomes present in truth of the fraction predicted right, a prediction
// being "correct" when the score is positive (scikit-learn's balanced_accuracy_score semantics).
func balancedAccuracy(truth []bool, scores []float32) float64 {
	var n, hit [2]int
	for i, t := range truth {
		k := 0
		if t {
			k = 1
		}
		n[k]++
		if (scores[i] > 0) == t {
			hit[k]++
		}
	}
	var sum float64
	var present int
	for k := range 2 {
		if n[k] > 0 {
			sum += float64(hit[k]) / float64(n[k])
			present++
		}
	}
	if present == 0 {
		return 0
	}
	return sum / float64(present)
}
