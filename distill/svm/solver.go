package svm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/faildirs/faildirs/internal/parallel"
	"github.com/gomlx/compute"
)

// Form selects how the solver computes products with Q = diag(y) X Xᵀ diag(y).
type Form int

const (
	// FormAuto uses FormKernel when a group has at most as many rows as features (N ≤ D), else FormFeature.
	FormAuto Form = iota
	// FormFeature computes Q·v as X (Xᵀ v): two matrix products per iteration, memory G·N·D.
	FormFeature
	// FormKernel precomputes each group's N×N Gram matrix: one product per iteration, memory G·N².
	FormKernel
)

// String returns "auto", "feature" or "kernel".
func (f Form) String() string {
	switch f {
	case FormAuto:
		return "auto"
	case FormFeature:
		return "feature"
	case FormKernel:
		return "kernel"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// Solver constants (see the package documentation).
const (
	// projectionSteps is the number of Illinois steps of the box ∩ hyperplane projection per iteration.
	projectionSteps = 3
	// stepDecrease multiplies the curvature estimate L after an accepted step.
	stepDecrease = 0.95
	// stepGrow is the least factor by which L grows after a rejected step.
	stepGrow = 2.0
	// curvatureSlack tolerates float32 rounding in the curvature test.
	curvatureSlack = 1e-4
	// projectionTol: a projection has converged when |Σ y_i a_i| ≤ projectionTol · Σ a_i.
	projectionTol = 1e-5
)

// Options configures [Solve]. The zero value of a field means its default.
type Options struct {
	// Tol is the relative duality gap at which a problem is converged (default 1e-3).
	Tol float64
	// MaxIter bounds the lock-step iterations (default 5000).
	MaxIter int
	// CheckEvery is the number of iterations between optimality checks (default 5).
	CheckEvery int
	// ItersPerCall is the number of iterations compiled into one executable call; it is rounded up to a multiple
	// of CheckEvery (default 5). Between calls the host reads which problems are still active and repacks them
	// into a smaller batch when that halves its size.
	ItersPerCall int
	// Form selects how Q·v products are computed (default FormAuto).
	Form Form
	// Bias selects the bias where the optimum leaves it free (default BiasAny; see [BiasLibsvm]).
	Bias BiasRule
	// WeightsFor lists the problem indices p (the same in every group) whose weights W and raw-row biases B are
	// formed at the end; nil means all. Decision values and certificates are returned for every problem.
	WeightsFor []int
	// Progress, when set, is called after every executable call.
	Progress func(Progress)
}

// Progress reports the state of a running [Solve].
type Progress struct {
	// Iter is the number of lock-step iterations run so far, MaxIter the limit.
	Iter, MaxIter int
	// Active is the number of problems not yet converged, Total the number of non-trivial problems.
	Active, Total int
}

// DefaultOptions returns the defaults documented on [Options].
func DefaultOptions() Options {
	return Options{Tol: 1e-3, MaxIter: 5000, CheckEvery: 5, ItersPerCall: 5, Form: FormAuto}
}

func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Tol == 0 {
		o.Tol = d.Tol
	}
	if o.MaxIter == 0 {
		o.MaxIter = d.MaxIter
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = d.CheckEvery
	}
	if o.ItersPerCall == 0 {
		o.ItersPerCall = d.ItersPerCall
	}
	if !(o.Tol > 0) || math.IsInf(o.Tol, 0) {
		return o, fmt.Errorf("svm: Options.Tol=%v must be positive and finite", o.Tol)
	}
	if o.MaxIter < 0 || o.CheckEvery < 0 || o.ItersPerCall < 0 {
		return o, fmt.Errorf("svm: Options.MaxIter=%d, CheckEvery=%d, ItersPerCall=%d must not be negative",
			o.MaxIter, o.CheckEvery, o.ItersPerCall)
	}
	if o.Form < FormAuto || o.Form > FormKernel {
		return o, fmt.Errorf("svm: unknown Options.Form %d", int(o.Form))
	}
	if o.Bias != BiasAny && o.Bias != BiasLibsvm {
		return o, fmt.Errorf("svm: unknown Options.Bias %d", int(o.Bias))
	}
	for _, p := range o.WeightsFor {
		if p < 0 {
			return o, fmt.Errorf("svm: Options.WeightsFor holds %d", p)
		}
	}
	o.ItersPerCall = (o.ItersPerCall + o.CheckEvery - 1) / o.CheckEvery * o.CheckEvery
	return o, nil
}

// Result holds the solutions of a [Solve] call, indexed like [Problems].
type Result struct {
	// G, P, N, D repeat the problem sizes.
	G, P, N, D int
	// W holds the weights, G×P×D (zero for problems outside Options.WeightsFor).
	W []float32
	// B holds the biases, G×P: the decision value of a row x is W·x + B (zero outside Options.WeightsFor, except
	// trivial problems).
	B []float32
	// Decision holds the decision value of every row of the group, G×P×N, members or not (held-out rows of a
	// cross-validation fold included), computed from the final iterate; it equals W·x_i + B up to float32
	// rounding. 0 for padding rows.
	Decision []float32
	// Status of each problem, G×P.
	Status []Status
	// Gap is the relative duality gap (Primal − Dual) / |Primal| of the final iterate of each problem, G×P (0 for
	// trivial problems), evaluated in float32. Forming W and B from the iterate adds float32 rounding, about 1e-6
	// of the objective (more with very large C).
	Gap []float64
	// Primal is the primal objective of the final iterate; Dual the (equality-corrected) dual objective, a lower
	// bound on the optimum, G×P.
	Primal, Dual []float64
	// Iterations is the number of iterations each problem ran before it converged or the run stopped, G×P.
	Iterations []int
	// LockstepIterations is the number of iterations the batch ran.
	LockstepIterations int
	// Form is the form used (never FormAuto).
	Form Form
	// Calls is the number of executable calls and Compactions the number of times the active problems were
	// repacked into a smaller batch; SolveTime is the wall time of the iterations (including the compilation of
	// each batch shape), FirstCallTime the wall time of the first call alone.
	Calls, Compactions       int
	SolveTime, FirstCallTime time.Duration
}

// Solve solves every problem of pr on backend b (see the package documentation).
func Solve(b compute.Backend, pr *Problems, opts Options) (*Result, error) {
	return SolveContext(context.Background(), b, pr, opts)
}

// SolveContext is [Solve] stopping early when ctx is cancelled: it checks ctx before every executable call (every
// Options.ItersPerCall iterations) and then returns an error wrapping ctx.Err().
func SolveContext(ctx context.Context, b compute.Backend, pr *Problems, opts Options) (*Result, error) {
	if b == nil {
		return nil, errors.New("svm: nil backend")
	}
	if err := pr.Validate(); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	G, N, D, P := pr.G, pr.N, pr.D, pr.P
	for _, p := range opts.WeightsFor {
		if p >= P {
			return nil, fmt.Errorf("svm: Options.WeightsFor holds %d, not below P=%d", p, P)
		}
	}
	form := opts.Form
	if form == FormAuto {
		form = FormFeature
		if N <= D {
			form = FormKernel
		}
	}

	yf := make([]float32, G*N)
	absY := make([]float32, G*N)
	for i, y := range pr.Y {
		yf[i] = float32(y)
		absY[i] = float32(max(y, -y))
	}
	u, npos, nneg := pr.upperBounds()
	res := &Result{G: G, P: P, N: N, D: D, Form: form,
		W: make([]float32, G*P*D), B: make([]float32, G*P), Decision: make([]float32, G*P*N),
		Status: make([]Status, G*P), Gap: make([]float64, G*P), Primal: make([]float64, G*P),
		Dual: make([]float64, G*P), Iterations: make([]int, G*P)}
	in := &inputs{G: G, P: P, N: N, D: D, form: form, x: pr.X, xTensor: pr.xTensor, xBackend: pr.xBackend, y: yf, absY: absY, u: u,
		uPos: make([]float32, G*P), uNeg: make([]float32, G*P), uMax: make([]float32, G*P)}
	active0 := make([]bool, G*P)
	total := 0
	for g := range G {
		for p := range P {
			gp := g*P + p
			switch {
			case npos[gp]+nneg[gp] == 0:
				res.Status[gp] = Empty
				continue
			case npos[gp] == 0 || nneg[gp] == 0:
				res.Status[gp] = OneClass
				continue
			}
			res.Status[gp] = NotConverged
			active0[gp] = true
			total++
			var umax float32
			for i := range N {
				if !pr.Member[gp*N+i] {
					continue
				}
				if pr.Y[g*N+i] > 0 {
					in.uPos[gp] += u[gp*N+i]
				} else {
					in.uNeg[gp] += u[gp*N+i]
				}
				umax = max(umax, u[gp*N+i])
			}
			in.uMax[gp] = umax + 1
		}
	}
	if opts.Bias == BiasLibsvm && total > 0 {
		total -= replayDegenerate(pr, res, active0, opts.WeightsFor)
	}
	if total > 0 {
		prepareRows(pr, in)
		if err := solveActive(ctx, b, res, opts, in, pr.Member, active0, total); err != nil {
			return nil, err
		}
	}
	// Trivial problems.
	for g := range G {
		for p := range P {
			gp := g*P + p
			var bias float32
			switch res.Status[gp] {
			case OneClass:
				bias = 1
				if npos[gp] == 0 {
					bias = -1
				}
			case Empty:
			default:
				continue
			}
			res.B[gp] = bias
			for i := range N {
				if pr.Y[g*N+i] != 0 {
					res.Decision[gp*N+i] = bias
				}
			}
		}
	}
	return res, nil
}

// prepareRows computes, per group in parallel, the centre m (mean of the real rows), the squared norms of the
// centred rows and, for the feature form, the centred signed rows X̃ = y ⊙ (x − m) (zero on padding rows).
func prepareRows(pr *Problems, in *inputs) {
	G, N, D := pr.G, pr.N, pr.D
	in.center = make([]float32, G*D)
	in.rowsq = make([]float32, G*N)
	if in.form == FormFeature {
		in.xt = make([]float32, G*N*D)
	}
	parallel.For(G, func(g int) {
		acc := make([]float64, D)
		cnt := 0
		for i := range N {
			if pr.Y[g*N+i] == 0 {
				continue
			}
			cnt++
			for d, v := range pr.X[(g*N+i)*D : (g*N+i+1)*D] {
				acc[d] += float64(v)
			}
		}
		m := in.center[g*D : (g+1)*D]
		for d := range D {
			m[d] = float32(acc[d] / float64(max(cnt, 1)))
		}
		for i := range N {
			y := float32(pr.Y[g*N+i])
			if y == 0 {
				continue
			}
			row := pr.X[(g*N+i)*D : (g*N+i+1)*D]
			var sq float64
			if in.xt != nil {
				out := in.xt[(g*N+i)*D : (g*N+i+1)*D]
				for d, v := range row {
					c := v - m[d]
					out[d] = y * c
					sq += float64(c) * float64(c)
				}
			} else {
				for d, v := range row {
					c := float64(v - m[d])
					sq += c * c
				}
			}
			in.rowsq[g*N+i] = float32(sq)
		}
	})
}
